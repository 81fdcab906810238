import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../src/parser.js';
import { parseCSeq } from '../src/cseq.js';
import { parseNameAddr, tagOf } from '../src/name-addr.js';
import { parseUri } from '../src/uri.js';
import { parseVia } from '../src/via.js';
import type { SipMessage, SipRequest, SipResponse } from '../src/types.js';

const dir = new URL('./fixtures/torture/', import.meta.url);
const load = (name: string): Buffer => readFileSync(new URL(`${name}.sip`, dir));

function parsed(name: string): SipMessage {
  const result = parseMessage(load(name));
  if (!result.ok) throw new Error(`${name} should parse: ${result.reason}`);
  return result.message;
}
const request = (name: string): SipRequest => {
  const m = parsed(name);
  if (m.kind !== 'request') throw new Error(`${name} is not a request`);
  return m;
};
const response = (name: string): SipResponse => {
  const m = parsed(name);
  if (m.kind !== 'response') throw new Error(`${name} is not a response`);
  return m;
};

it('has every RFC 4475 message as a fixture (49)', () => {
  expect(readdirSync(dir).filter((f) => f.endsWith('.sip'))).toHaveLength(49);
});

describe('RFC 4475 §3.1.1 valid messages', () => {
  it('wsinv: folding, compact and mixed-case names, escapes, multiple Via, empty and unknown headers', () => {
    const m = request('wsinv');
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(parseUri(m.uri).params.get('unknownparam')).toBeNull();
    const to = parseNameAddr(m.headers.get('to')!);
    expect(to.uri).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(to.params.get('tag')).toBe('1918181833n');
    const from = parseNameAddr(m.headers.get('From')!);
    expect(from.displayName).toBe('J Rosenberg \\"');
    expect(from.uri).toBe('sip:jdrosen@example.com');
    expect(tagOf(m.headers.get('from')!)).toBe('98asjd8');
    expect(m.headers.get('max-forwards')).toBe('0068');
    expect(parseCSeq(m.headers.get('cseq')!)).toEqual({ seq: 9, method: 'INVITE' });
    const vias = m.headers.getAll('via').map(parseVia);
    expect(vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.headers.get('subject')).toBe('');
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('unknownheaderwithunusualvalue')).toBe(';;,,;;,;');
    expect(parseNameAddr(m.headers.get('route')!).uri).toBe(
      'sip:services.example.com;lr;unknownwith=value;unknown-no-value',
    );
    const contact = parseNameAddr(m.headers.getAll('contact')[0]!);
    expect(contact.displayName).toBe('Quoted string ""');
    expect([...contact.params]).toEqual([
      ['newparam', 'newvalue'],
      ['secondparam', null],
      ['q', '0.33'],
    ]);
    expect(m.headers.fields()).toHaveLength(14);
    expect(m.body.length).toBe(150);
    expect(m.body.toString().startsWith('v=0\r\n')).toBe(true);
  });

  it('intmeth: the widest token characters, escaped controls in quotes, UTF-8 values', () => {
    const m = request('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const uri = parseUri(m.uri);
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(uri.host).toBe('example.com');
    expect(parseNameAddr(m.headers.get('to')!).displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    const from = parseNameAddr(m.headers.get('from')!);
    expect(from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(from.params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
    expect(from.params.get('tag')).toBe("_token~1'+`*%!-.");
    expect(m.headers.get('call-id')).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(parseCSeq(m.headers.get('cseq')!).method).toBe(m.method);
    expect(m.headers.get("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
    expect(parseVia(m.headers.get('via')!).branch).toBe("z9hG4bK-.!%66*_+`'~");
  });

  it('esc01: escapes in the Request-URI, To, From and Contact are kept as written', () => {
    const m = request('esc01');
    expect(parseUri(m.uri)).toMatchObject({ user: 'sips%3Auser%40example.com', host: 'example.net' });
    expect(parseNameAddr(m.headers.get('to')!).uri).toBe('sip:%75se%72@example.com');
    expect(parseNameAddr(m.headers.get('from')!).uri).toBe('sip:I%20have%20spaces@example.net');
    expect(m.headers.get('call-id')).toBe('esc01.239409asdfakjkn23onasd0-3234');
    expect(m.headers.get('content-type')).toBe('application/sdp');
    const contact = parseUri(parseNameAddr(m.headers.get('contact')!).uri);
    expect([...contact.params]).toEqual([
      ['%6c%72', null],
      ['n%61me', 'v%61lue%25%34%31'],
    ]);
  });

  it('escnull: %00 in URIs', () => {
    const m = request('escnull');
    expect(parseUri(parseNameAddr(m.headers.get('to')!).uri).user).toBe('null-%00-null');
    expect(m.headers.getAll('contact')).toEqual([
      '<sip:%00@host5.example.com>',
      '<sip:%00%00@host5.example.com>',
    ]);
  });

  it('esc02: % that is not an escape; C%6Fntact is another header', () => {
    const m = request('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(parseNameAddr(m.headers.get('to')!).displayName).toBe('%Z%45');
    expect(m.headers.getAll('contact')).toHaveLength(2);
    expect(m.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    expect(parseVia(m.headers.get('via')!).branch).toBe('z9hG4bK209%fzsnel234');
  });

  it('lwsdisp: display name directly followed by <', () => {
    const from = parseNameAddr(request('lwsdisp').headers.get('from')!);
    expect(from).toMatchObject({ displayName: 'caller', uri: 'sip:caller@example.com', angle: true });
    expect(from.params.get('tag')).toBe('323');
  });

  it('longreq: long values and 34 Via headers under every spelling', () => {
    const m = request('longreq');
    expect(m.headers.getAll('via')).toHaveLength(34);
    const to = parseNameAddr(m.headers.get('to')!);
    expect(to.displayName).toBe(`I have a user name of ${'extreme'.repeat(10)} proportion`);
    const toUri = parseUri(to.uri);
    expect(toUri.port).toBe(6000);
    expect(toUri.params.get(`very${'long'.repeat(25)}parameternamewithnovalue`)).toBeNull();
    expect(tagOf(m.headers.get('from')!)).toBe(`12${'982'.repeat(50)}424`);
    expect(m.headers.get('call-id')).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
    expect(parseVia(m.headers.getAll('via')[33]!).branch).toBe(`very${'long'.repeat(50)}branchvalue`);
    expect(m.body.length).toBe(150);
  });

  it('dblreq: only the first message of a datagram counts', () => {
    const m = request('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
    expect(m.headers.get('call-id')).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
  });

  it('semiuri: semicolons in the user part', () => {
    const m = request('semiuri');
    expect(parseUri(m.uri)).toMatchObject({ user: 'user;par=u%40example.net', host: 'example.com' });
    expect(m.headers.getAll('accept')).toEqual([
      'application/sdp',
      'application/pkcs7-mime',
      'multipart/mixed',
      'multipart/signed',
      'message/sip',
      'message/sipfrag',
    ]);
  });

  it('transports: unknown transport tokens in Via', () => {
    const vias = request('transports').headers.getAll('via').map(parseVia);
    expect(vias.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    expect(request('transports').headers.get('call-id')).toBe('transports.kijh4akdnaqjkwendsasfdj');
  });

  it('mpart01: a multipart body with binary content is kept byte for byte', () => {
    const m = request('mpart01');
    expect(m.method).toBe('MESSAGE');
    expect(m.body.length).toBe(553);
    const raw = load('mpart01');
    expect(m.body.equals(raw.subarray(raw.length - 553))).toBe(true);
    expect(parseVia(m.headers.get('via')!).params.get('rport')).toBeNull();
  });

  it('unreason: UTF-8 reason phrase', () => {
    const m = response('unreason');
    expect(m.status).toBe(200);
    expect(m.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    expect(m.body.length).toBe(154);
  });

  it('noreason: empty reason phrase', () => {
    const m = response('noreason');
    expect(m).toMatchObject({ status: 100, reason: '' });
  });
});

describe('RFC 4475 §3.1.2 invalid messages: a reason, and 400 (505) where the RFC wants an answer', () => {
  const answered: [string, string, number][] = [
    ['badinv01', 'Via', 400],
    ['clerr', 'Content-Length larger', 400],
    ['ncl', 'Content-Length', 400],
    ['scalar02', 'CSeq', 400],
    ['quotbal', 'To', 400],
    ['ltgtruri', 'Request-URI', 400],
    ['lwsruri', 'request line', 400],
    ['lwsstart', 'request line', 400],
    ['trws', 'request line', 400],
    ['escruri', 'Request-URI must not contain headers', 400],
    ['regbadct', 'Contact', 400],
    ['badaspec', 'To', 400],
    ['baddn', 'From', 400],
    ['badvers', 'version', 505],
    ['mismatch01', 'CSeq method', 400],
    ['mismatch02', 'CSeq method', 400],
  ];
  it.each(answered)('%s fails (%s) and is answerable with %d', (name, reason, status) => {
    const result = parseMessage(load(name));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(reason);
    expect(result.respondable?.status).toBe(status);
    expect(result.respondable?.headers.getAll('via').length).toBeGreaterThan(0);
  });

  it.each([
    ['scalarlg', 'CSeq'],
    ['bigcode', 'status code'],
  ])('%s (a response) fails (%s) and is only dropped', (name, reason) => {
    const result = parseMessage(load(name));
    expect(result).toMatchObject({ ok: false });
    if (result.ok) return;
    expect(result.reason).toContain(reason);
    expect(result.respondable).toBeUndefined();
  });

  it('baddate is accepted: §3.1.2.12 lets an element that does not use Date process it', () => {
    const m = request('baddate');
    expect(m.headers.get('date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
  });
});

describe('RFC 4475 §3.2–3.4 transaction and application layer messages', () => {
  it('badbranch parses (the branch is a bare magic cookie)', () => {
    expect(parseVia(request('badbranch').headers.get('via')!).branch).toBe('z9hG4bK');
  });

  it.each([
    ['insuf', 'missing From'],
    ['multi01', 'multiple Call-ID'],
    ['mcl01', 'multiple Content-Length'],
  ])('%s fails (%s) and is answerable with 400', (name, reason) => {
    const result = parseMessage(load(name));
    expect(result).toMatchObject({ ok: false, respondable: { status: 400 } });
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('unkscm and novelsc keep unknown Request-URI schemes opaque', () => {
    expect(parseUri(request('unkscm').uri)).toMatchObject({
      scheme: 'nobodyKnowsThisScheme',
      host: 'totallyopaquecontent',
    });
    expect(parseUri(request('novelsc').uri)).toMatchObject({
      scheme: 'soap.beep',
      host: '//192.0.2.103:3002',
    });
  });

  it('unksm2 accepts unknown schemes in To, From and Contact', () => {
    const m = request('unksm2');
    expect(parseNameAddr(m.headers.get('to')!).uri).toBe('isbn:2983792873');
    expect(parseNameAddr(m.headers.get('from')!).uri).toBe('http://www.example.com');
    expect(parseNameAddr(m.headers.get('contact')!).uri).toBe('name:John_Smith');
  });

  it('bext01, invut, regaut01, zeromf, sdp01 are well-formed', () => {
    expect(request('bext01').headers.getAll('require')).toEqual([
      'nothingSupportsThis',
      'nothingSupportsThisEither',
    ]);
    expect(request('bext01').headers.getAll('proxy-require')).toHaveLength(2);
    expect(request('invut').body.toString()).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
    expect(request('regaut01').headers.get('authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');
    expect(request('zeromf').headers.get('max-forwards')).toBe('0');
    expect(request('sdp01').headers.get('accept')).toBe('text/nobodyKnowsThis');
  });

  it('bcast is a well-formed response (dropping it is the transaction layer’s business)', () => {
    const m = response('bcast');
    expect(m.headers.getAll('via').map((v) => parseVia(v).host)).toEqual(['192.0.2.198', '255.255.255.255']);
  });

  it('cparam01 / cparam02: parameters of a bare addr-spec belong to the header, inside <> to the URI', () => {
    const bare = parseNameAddr(request('cparam01').headers.get('contact')!);
    expect(bare).toMatchObject({ uri: 'sip:+19725552222@gw1.example.net', angle: false });
    expect(bare.params.get('unknownparam')).toBeNull();
    const angled = parseNameAddr(request('cparam02').headers.get('contact')!);
    expect(angled.params.size).toBe(0);
    expect(parseUri(angled.uri).params.get('unknownparam')).toBeNull();
  });

  it('regescrt: an escaped header inside the Contact URI', () => {
    const contact = parseNameAddr(request('regescrt').headers.get('m')!);
    expect(parseUri(contact.uri).headers.get('Route')).toBe('%3Csip:sip.example.com%3E');
  });

  it('inv2543: RFC 2543 syntax without Content-Length takes the rest of the datagram as body', () => {
    const m = request('inv2543');
    expect(m.headers.has('content-length')).toBe(false);
    expect(parseVia(m.headers.get('via')!).branch).toBeUndefined();
    expect(tagOf(m.headers.get('from')!)).toBeUndefined();
    expect(m.body.toString()).toBe(
      'v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0\r\n',
    );
  });
});
