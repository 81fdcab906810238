import { describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS, parseMessage, parseVia, serializeMessage, tagOf } from '../src/index.js';
import type { SipMessage, SipParseFailure } from '../src/index.js';

const BASE = [
  'OPTIONS sip:bob@127.0.0.2 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bKa1;rport',
  'From: <sip:alice@127.0.0.3>;tag=f1',
  'To: <sip:bob@127.0.0.2>',
  'Call-ID: call-1@127.0.0.3',
  'CSeq: 7 OPTIONS',
  'Max-Forwards: 70',
];

function msg(lines: string[], body = '', eol = '\r\n'): Buffer {
  return Buffer.from(lines.join(eol) + eol + eol + body, 'utf8');
}
function ok(buf: Buffer, limits?: Parameters<typeof parseMessage>[1]): SipMessage {
  const r = parseMessage(buf, limits);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}
function failure(buf: Buffer, limits?: Parameters<typeof parseMessage>[1]): SipParseFailure {
  const r = parseMessage(buf, limits);
  if (r.ok) throw new Error('expected a failure');
  return r;
}

describe('parseMessage', () => {
  it('parses a request with CRLF line ends', () => {
    const m = ok(msg([...BASE, 'Content-Length: 0']));
    expect(m).toMatchObject({ kind: 'request', method: 'OPTIONS', uri: 'sip:bob@127.0.0.2' });
    expect(m.headers.get('cseq')).toBe('7 OPTIONS');
    expect(m.body.length).toBe(0);
  });

  it('tolerates bare LF line ends and mixed line ends', () => {
    const lf = ok(msg([...BASE, 'Content-Length: 4'], 'abcd', '\n'));
    expect(lf.body.toString()).toBe('abcd');
    const mixed = ok(Buffer.from(`${BASE.join('\n')}\r\nContent-Length: 2\n\r\nhi`));
    expect(mixed.body.toString()).toBe('hi');
    expect(mixed.headers.get('max-forwards')).toBe('70');
  });

  it('skips CRLFs before the start line (RFC 3261 §7.5)', () => {
    expect(ok(Buffer.concat([Buffer.from('\r\n\r\n'), msg(BASE)])).kind).toBe('request');
  });

  it('unfolds continuation lines with spaces or tabs', () => {
    const m = ok(msg([...BASE, 'Subject: first', ' second', '\tthird', 'X-Empty:', '  ', 'X-After: 1']));
    expect(m.headers.get('subject')).toBe('first second third');
    expect(m.headers.get('x-empty')).toBe('');
    expect(m.headers.get('x-after')).toBe('1');
  });

  it('reads multiple Via values on one line and across lines, in order', () => {
    const m = ok(
      msg([
        BASE[0]!,
        'Via: SIP/2.0/UDP 127.0.0.3;branch=z9hG4bK1, SIP/2.0/TCP [::1]:5070;branch=z9hG4bK2',
        'v: SIP/2.0/UDP 127.0.0.4;branch=z9hG4bK3',
        ...BASE.slice(2),
      ]),
    );
    expect(m.headers.getAll('via').map((v) => parseVia(v).branch)).toEqual([
      'z9hG4bK1',
      'z9hG4bK2',
      'z9hG4bK3',
    ]);
    expect(parseVia(m.headers.getAll('via')[1]!)).toMatchObject({ host: '::1', port: 5070 });
  });

  it('parses responses, with empty and UTF-8 reasons', () => {
    const lines = ['SIP/2.0 486 Busy Here', ...BASE.slice(1)];
    expect(ok(msg(lines))).toMatchObject({ kind: 'response', status: 486, reason: 'Busy Here' });
    expect(ok(msg(['SIP/2.0 200', ...BASE.slice(1)]))).toMatchObject({ status: 200, reason: '' });
    expect(ok(msg(['sip/2.0 180 Klingelt ☎', ...BASE.slice(1)]))).toMatchObject({
      status: 180,
      reason: 'Klingelt ☎',
    });
  });

  it('honours Content-Length on datagrams: extra bytes ignored, missing length takes the rest', () => {
    expect(ok(msg([...BASE, 'Content-Length: 3'], 'abcdef')).body.toString()).toBe('abc');
    expect(ok(msg(BASE, 'rest of datagram')).body.toString()).toBe('rest of datagram');
    expect(ok(msg([...BASE, 'l: 0'], '\r\n\r\n')).body.length).toBe(0);
  });

  it('fails when Content-Length is larger than the datagram, answerably', () => {
    const f = failure(msg([...BASE, 'Content-Length: 10'], 'short'));
    expect(f.reason).toBe('Content-Length larger than the message');
    expect(f.respondable?.method).toBe('OPTIONS');
  });

  it('accepts Contact * alone and rejects it mixed', () => {
    expect(ok(msg([...BASE, 'Contact: *', 'Expires: 0'])).headers.get('contact')).toBe('*');
    expect(failure(msg([...BASE, 'Contact: *, <sip:a@b>'])).reason).toContain('Contact *');
  });

  it.each([
    ['no Via', BASE.filter((l) => !l.startsWith('Via')), 'missing Via', false],
    ['two To fields', [...BASE, 'To: <sip:x@y>'], 'multiple To', true],
    [
      'two To values',
      [...BASE.filter((l) => !l.startsWith('To')), 'To: <sip:x@y>, <sip:z@w>'],
      'malformed To',
      true,
    ],
    [
      'bad Max-Forwards',
      [...BASE.filter((l) => !l.startsWith('Max')), 'Max-Forwards: 256'],
      'Max-Forwards',
      true,
    ],
    ['empty Call-ID', [...BASE.filter((l) => !l.startsWith('Call')), 'Call-ID:'], 'Call-ID', true],
    ['Call-ID with space', [...BASE.filter((l) => !l.startsWith('Call')), 'Call-ID: a b'], 'Call-ID', true],
    ['bad Route', [...BASE, 'Route: <sip:a@b'], 'Route', true],
    ['bad Record-Route', [...BASE, 'Record-Route: sip:a@b?x=1'], 'Record-Route', true],
    ['header without colon', [...BASE, 'NoColonHere'], 'colon', true],
    ['bad header name', [...BASE, 'Bad Name: x'], 'header name', true],
    ['continuation first', [BASE[0]!, ' folded', ...BASE.slice(1)], 'continuation', true],
    ['bad method', ['INV@ITE sip:a@b SIP/2.0', ...BASE.slice(1)], 'method', false],
    ['no version', ['OPTIONS sip:a@b', ...BASE.slice(1)], 'request line', true],
    ['status 99', ['SIP/2.0 099 Low', ...BASE.slice(1)], 'status code', false],
    ['status 700', ['SIP/2.0 700 High', ...BASE.slice(1)], 'status code', false],
    ['status 2000', ['SIP/2.0 2000 Wide', ...BASE.slice(1)], 'status code', false],
    ['response version', ['SIP/3.0 200 OK', ...BASE.slice(1)], 'version', false],
  ] as const)('rejects %s', (_name, lines, reason, respondable) => {
    const f = failure(msg([...lines]));
    expect(f.reason).toContain(reason);
    expect(Boolean(f.respondable)).toBe(respondable);
  });

  it('fails without an empty line after the headers, still answerably', () => {
    const f = failure(Buffer.from(BASE.join('\r\n') + '\r\n'));
    expect(f.reason).toContain('empty line');
    expect(f.respondable?.headers.get('call-id')).toBe('call-1@127.0.0.3');
  });

  it('rejects empty input and input of only CRLFs', () => {
    expect(failure(Buffer.alloc(0)).reason).toBe('empty message');
    expect(failure(Buffer.from('\r\n\r\n')).reason).toBe('empty message');
  });

  it('enforces the configured limits', () => {
    expect(DEFAULT_PARSE_LIMITS).toEqual({ maxMessageBytes: 65_535, maxHeaders: 256, maxLineBytes: 8_192 });
    const big = msg([...BASE, 'Content-Length: 70000'], 'x'.repeat(70_000));
    expect(failure(big).reason).toContain('larger than 65535');
    expect(failure(msg(BASE), { maxMessageBytes: 100 }).respondable).toBeUndefined();
    const many = [...BASE, ...Array.from({ length: 20 }, (_, i) => `X-H${i}: ${i}`)];
    expect(failure(msg(many), { maxHeaders: 20 }).reason).toContain('more than 20 header fields');
    expect(ok(msg(many), { maxHeaders: 26 }).headers.fields()).toHaveLength(26);
    expect(failure(msg([...BASE, `X-Long: ${'a'.repeat(300)}`]), { maxLineBytes: 200 }).reason).toContain(
      'longer than 200',
    );
    expect(
      failure(msg([...BASE, 'X-Long: a', ` ${'b'.repeat(300)}`]), { maxLineBytes: 200 }).reason,
    ).toContain('longer than 200');
    expect(
      failure(msg([`OPTIONS sip:${'a'.repeat(300)}@b SIP/2.0`, ...BASE.slice(1)]), { maxLineBytes: 200 })
        .reason,
    ).toContain('start line');
  });

  it('keeps header names as written and trims only SP/HTAB', () => {
    const m = ok(msg([...BASE, 'x-CUSTOM :  \ufeffvalue\t ']));
    expect(m.headers.fields().at(-1)).toMatchObject({ name: 'x-CUSTOM', value: '\ufeffvalue' });
  });

  it('gives respondable a 505 status for another SIP version', () => {
    const f = failure(msg(['OPTIONS sip:a@b SIP/3.1', ...BASE.slice(1)]));
    expect(f.respondable).toMatchObject({ method: 'OPTIONS', status: 505 });
  });

  it('never throws on junk', () => {
    for (const text of ['\0\0\0', 'SIP/', ' ', ':', 'A B C\r\n\r\n', '\xff\xfe\r\n\r\n', 'INVITE\n\n']) {
      expect(parseMessage(Buffer.from(text, 'latin1')).ok).toBe(false);
    }
  });
});

describe('serializeMessage', () => {
  it('writes CRLF, names as stored and a recomputed Content-Length in place', () => {
    const m = ok(msg([...BASE, 'l: 11', 'X-After: 1'], 'hello world', '\n'));
    m.body = Buffer.from('héllo');
    const text = serializeMessage(m).toString('utf8');
    expect(text).toBe([...BASE, 'l: 6', 'X-After: 1', '', 'héllo'].join('\r\n'));
  });

  it('adds Content-Length when missing and drops duplicates', () => {
    const m = ok(msg(BASE));
    expect(serializeMessage(m).toString()).toBe([...BASE, 'Content-Length: 0', '', ''].join('\r\n'));
    m.headers.append('Content-Length', '5');
    m.headers.append('content-length', '6');
    expect(
      serializeMessage(m)
        .toString()
        .match(/content-length/gi),
    ).toHaveLength(1);
  });

  it('writes responses and keeps binary bodies byte for byte', () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a]);
    const r = ok(msg(['SIP/2.0 200 OK', ...BASE.slice(1), 'Content-Length: 6'], 'sixsix'));
    r.body = body;
    const out = serializeMessage(r);
    expect(out.subarray(0, 15).toString()).toBe('SIP/2.0 200 OK\r');
    expect(out.subarray(out.length - 6).equals(body)).toBe(true);
    const again = ok(out);
    expect(again.body.equals(body)).toBe(true);
    expect(tagOf(again.headers.get('from')!)).toBe('f1');
  });
});
