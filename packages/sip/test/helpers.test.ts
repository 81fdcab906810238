import { describe, expect, it } from 'vitest';
import {
  BRANCH_MAGIC_COOKIE,
  CSeqSyntaxError,
  NameAddrSyntaxError,
  SipHeaders,
  SipUriError,
  ViaSyntaxError,
  canonicalHeaderKey,
  createRequest,
  createResponse,
  formatCSeq,
  formatNameAddr,
  formatUri,
  formatVia,
  isListHeader,
  knownStatusCodes,
  newBranch,
  newCallId,
  newTag,
  parseCSeq,
  parseNameAddr,
  parseUri,
  parseVia,
  quote,
  reasonPhrase,
  responseTo,
  setToTag,
  splitHeaderList,
  stripTag,
  tagOf,
  topVia,
  tryParseCSeq,
  tryParseNameAddr,
  tryParseUri,
  tryParseVia,
  unquote,
} from '../src/index.js';

describe('SipHeaders', () => {
  it('looks names up case-insensitively and through compact forms', () => {
    const h = new SipHeaders([
      ['v', 'SIP/2.0/UDP a;branch=z9hG4bK1'],
      ['VIA', 'SIP/2.0/UDP b;branch=z9hG4bK2, SIP/2.0/TCP c;branch=z9hG4bK3'],
      ['f', '<sip:a@x>;tag=1'],
      ['Call-ID', 'abc'],
    ]);
    expect(h.get('Via')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(h.getAll('via')).toEqual([
      'SIP/2.0/UDP a;branch=z9hG4bK1',
      'SIP/2.0/UDP b;branch=z9hG4bK2',
      'SIP/2.0/TCP c;branch=z9hG4bK3',
    ]);
    expect(h.get('From')).toBe('<sip:a@x>;tag=1');
    expect(h.get('i')).toBe('abc');
    expect(h.has('call-id')).toBe(true);
    expect(h.has('to')).toBe(false);
    expect(h.get('to')).toBeUndefined();
    expect(h.count('via')).toBe(2);
    expect(h.size).toBe(4);
  });

  it('maps every compact form of RFC 3261 §7.3.3 and later RFCs', () => {
    const expected: Record<string, string> = {
      a: 'accept-contact',
      b: 'referred-by',
      c: 'content-type',
      d: 'request-disposition',
      e: 'content-encoding',
      f: 'from',
      i: 'call-id',
      j: 'reject-contact',
      k: 'supported',
      l: 'content-length',
      m: 'contact',
      o: 'event',
      r: 'refer-to',
      s: 'subject',
      t: 'to',
      u: 'allow-events',
      v: 'via',
      x: 'session-expires',
      y: 'identity',
    };
    for (const [compact, long] of Object.entries(expected)) {
      expect(canonicalHeaderKey(compact.toUpperCase())).toBe(long);
    }
    expect(canonicalHeaderKey('q')).toBe('q');
    expect(canonicalHeaderKey('X-Custom')).toBe('x-custom');
  });

  it('splits only list headers, respecting quotes, escapes and <…>', () => {
    const h = new SipHeaders([
      ['Contact', '"Bell, Alexander \\"A\\"" <sip:a@x;p=1,2>;q=0.5, <sip:b@y>'],
      ['Date', 'Sat, 13 Nov 2010 23:29:00 GMT'],
      ['WWW-Authenticate', 'Digest realm="a", nonce="b"'],
      ['Supported', ''],
      ['Allow', 'INVITE, ACK,BYE'],
    ]);
    expect(h.getAll('m')).toEqual(['"Bell, Alexander \\"A\\"" <sip:a@x;p=1,2>;q=0.5', '<sip:b@y>']);
    expect(h.getAll('date')).toEqual(['Sat, 13 Nov 2010 23:29:00 GMT']);
    expect(h.getAll('www-authenticate')).toEqual(['Digest realm="a", nonce="b"']);
    expect(h.getAll('supported')).toEqual([]);
    expect(h.getAll('allow')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(isListHeader('record-route')).toBe(true);
    expect(isListHeader('Date')).toBe(false);
  });

  it('set replaces every field in place of the first, append/prepend/remove keep order', () => {
    const h = new SipHeaders();
    h.append('Via', 'one');
    h.append('To', 'to');
    h.append('v', 'two');
    h.set('VIA', 'only');
    expect(h.fields()).toEqual([
      { name: 'VIA', value: 'only', key: 'via' },
      { name: 'To', value: 'to', key: 'to' },
    ]);
    h.prepend('Via', 'top');
    expect(h.getAll('via')).toEqual(['top', 'only']);
    h.set('X-New', '1');
    expect(h.fields().at(-1)).toMatchObject({ name: 'X-New', value: '1' });
    h.remove('via');
    expect(h.has('via')).toBe(false);
    expect(h.replaceAt('to', 0, 'changed')).toBe(true);
    expect(h.replaceAt('to', 1, 'nope')).toBe(false);
    expect(h.get('to')).toBe('changed');
  });

  it('clones independently', () => {
    const h = new SipHeaders([['To', 'a']]);
    const copy = h.clone();
    copy.set('To', 'b');
    copy.append('From', 'c');
    expect(h.get('to')).toBe('a');
    expect(h.has('from')).toBe(false);
    expect(copy.get('to')).toBe('b');
  });

  it('splitHeaderList trims, drops empty elements and survives an unterminated quote', () => {
    expect(splitHeaderList(' a ,, b,')).toEqual(['a', 'b']);
    expect(splitHeaderList('"unterminated, still one')).toEqual(['"unterminated, still one']);
    expect(splitHeaderList('<sip:a,b@x>, c')).toEqual(['<sip:a,b@x>', 'c']);
  });
});

describe('URIs', () => {
  it('parses SIP URIs with user, password, port, params and headers', () => {
    const uri = parseUri(
      'sip:alice:secret@example.com:5070;transport=TCP;lr;Maddr=10.0.0.1?Subject=hi&Priority=urgent',
    );
    expect(uri).toMatchObject({
      scheme: 'sip',
      user: 'alice',
      password: 'secret',
      host: 'example.com',
      port: 5070,
    });
    expect([...uri.params]).toEqual([
      ['transport', 'TCP'],
      ['lr', null],
      ['maddr', '10.0.0.1'],
    ]);
    expect([...uri.headers]).toEqual([
      ['Subject', 'hi'],
      ['Priority', 'urgent'],
    ]);
    expect(formatUri(uri)).toBe(
      'sip:alice:secret@example.com:5070;transport=TCP;lr;maddr=10.0.0.1?Subject=hi&Priority=urgent',
    );
  });

  it('handles IPv6 references', () => {
    const uri = parseUri('sips:[2001:db8::10]:5061;transport=tls');
    expect(uri).toMatchObject({ scheme: 'sips', host: '2001:db8::10', port: 5061 });
    expect(formatUri(uri)).toBe('sips:[2001:db8::10]:5061;transport=tls');
    expect(parseUri('SIP:bob@[::1]')).toMatchObject({ scheme: 'sip', user: 'bob', host: '::1' });
  });

  it('parses tel URIs into user and keeps other schemes opaque', () => {
    const tel = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    expect(tel).toMatchObject({ scheme: 'tel', user: '+1-201-555-0123', host: '' });
    expect(tel.params.get('phone-context')).toBe('example.com');
    expect(formatUri(tel)).toBe('tel:+1-201-555-0123;phone-context=example.com');
    const urn = parseUri('urn:service:sos');
    expect(urn).toMatchObject({ scheme: 'urn', host: 'service:sos' });
    expect(formatUri(urn)).toBe('urn:service:sos');
  });

  it.each([
    '',
    'sip:',
    'example.com',
    '<sip:a@b>',
    'sip:a@b c',
    'sip:@host',
    'sip:a@[::1',
    'sip:a@[zz::1]',
    'sip:a@host:99999',
    'sip:a@host:',
    'sip:a@host;;x',
    'sip:a@host;p=',
    'sip:a@host?x',
    'sip:a@ho st',
    'sip:a%zz@host',
    '1sip:a@b',
    'mailto:',
    'tel:',
  ])('rejects %j', (text) => {
    expect(tryParseUri(text)).toBeUndefined();
    expect(() => parseUri(text)).toThrow(SipUriError);
  });
});

describe('Via', () => {
  it('parses LWS around separators, ports, IPv6 and params', () => {
    const via = parseVia(
      'SIP / 2.0 / tcp  [2001:db8::9] : 5080 ; branch = z9hG4bKabc ; rport ; received=2001:db8::1',
    );
    expect(via).toMatchObject({ transport: 'TCP', host: '2001:db8::9', port: 5080, branch: 'z9hG4bKabc' });
    expect(via.params.get('rport')).toBeNull();
    expect(via.params.get('received')).toBe('2001:db8::1');
    expect(formatVia(via)).toBe(
      'SIP/2.0/TCP [2001:db8::9]:5080;branch=z9hG4bKabc;rport;received=2001:db8::1',
    );
  });

  it('formats branch from the convenience field', () => {
    const via = parseVia('SIP/2.0/UDP 127.0.0.1;rport');
    via.branch = 'z9hG4bKnew';
    expect(formatVia(via)).toBe('SIP/2.0/UDP 127.0.0.1;rport;branch=z9hG4bKnew');
    const replaced = parseVia('SIP/2.0/WS x.invalid;branch=z9hG4bKold;alias');
    replaced.branch = 'z9hG4bKnew';
    expect(formatVia(replaced)).toBe('SIP/2.0/WS x.invalid;branch=z9hG4bKnew;alias');
    expect(formatVia({ transport: 'udp', host: 'h', params: new Map([['branch', null]]) })).toBe(
      'SIP/2.0/UDP h',
    );
  });

  it.each([
    '',
    'SIP/2.0/UDP',
    'SIP/2.0 UDP host',
    'SIP/3.0/UDP host',
    'HTTP/2.0/UDP host',
    'SIP/2.0/UDP host;;',
    'SIP/2.0/UDP host;branch',
    'SIP/2.0/UDP host;rport=abc',
    'SIP/2.0/UDP host:0x10',
    'SIP/2.0/UDP [::1',
    'SIP/2.0/UDPhost',
    'SIP/2.0/UDP host extra',
  ])('rejects %j', (text) => {
    expect(tryParseVia(text)).toBeUndefined();
    expect(() => parseVia(text)).toThrow(ViaSyntaxError);
  });

  it('topVia reads the first element of the first Via field', () => {
    const h = new SipHeaders([['Via', 'SIP/2.0/UDP a:1;branch=z9hG4bK1, SIP/2.0/UDP b']]);
    expect(topVia(h)).toMatchObject({ host: 'a', port: 1, branch: 'z9hG4bK1' });
    expect(topVia(new SipHeaders())).toBeUndefined();
    expect(topVia(new SipHeaders([['Via', 'garbage']]))).toBeUndefined();
  });
});

describe('name-addr', () => {
  it('parses quoted, token and absent display names', () => {
    expect(parseNameAddr('"A \\"B\\" \\\\ C" <sip:a@b>;tag=1')).toMatchObject({
      displayName: 'A "B" \\ C',
      uri: 'sip:a@b',
      angle: true,
    });
    expect(parseNameAddr('Alice   Smith <sip:a@b>').displayName).toBe('Alice Smith');
    expect(parseNameAddr('<sip:a@b>').displayName).toBeUndefined();
    expect(parseNameAddr('"" <sip:a@b>').displayName).toBe('');
  });

  it('gives the parameters of a bare addr-spec to the header', () => {
    const na = parseNameAddr('sip:a@b;tag=xyz;expires=60');
    expect(na).toMatchObject({ uri: 'sip:a@b', angle: false });
    expect([...na.params]).toEqual([
      ['tag', 'xyz'],
      ['expires', '60'],
    ]);
  });

  it('formats with quotes and angle brackets where needed', () => {
    expect(
      formatNameAddr({
        displayName: 'Bell, "A"',
        uri: 'sip:a@b',
        params: new Map([['tag', '9']]),
        angle: true,
      }),
    ).toBe('"Bell, \\"A\\"" <sip:a@b>;tag=9');
    expect(formatNameAddr({ uri: 'sip:a@b', params: new Map([['tag', '9']]), angle: false })).toBe(
      'sip:a@b;tag=9',
    );
    expect(formatNameAddr({ uri: 'sip:a@b;lr', params: new Map(), angle: false })).toBe('<sip:a@b;lr>');
    const roundTrip = parseNameAddr(formatNameAddr(parseNameAddr('"x\\\\y" <sip:a@b>;q=0.5')));
    expect(roundTrip.displayName).toBe('x\\y');
  });

  it.each([
    '',
    '"unterminated <sip:a@b>',
    '"name" sip:a@b',
    '<sip:a@b',
    '< sip:a@b >',
    'Bell, Alexander <sip:a@b>',
    'sip:a@b?x=y',
    '<sip:a@b>;',
    '<sip:a@b>;tag=',
    '<sip:a@b> junk',
    '<sip:a@b>, <sip:c@d>',
  ])('rejects %j', (text) => {
    expect(tryParseNameAddr(text)).toBeUndefined();
    expect(() => parseNameAddr(text)).toThrow(NameAddrSyntaxError);
  });

  it('tagOf finds the tag and ignores look-alikes', () => {
    expect(tagOf('<sip:a@b>;tag=abc')).toBe('abc');
    expect(tagOf('<sip:a@b;tag=inuri>')).toBeUndefined();
    expect(tagOf('"x;tag=no" <sip:a@b>')).toBeUndefined();
    expect(tagOf('sip:a@b ; TAG = up')).toBe('up');
    expect(tagOf('<sip:a@b>')).toBeUndefined();
    expect(tagOf('not a name-addr;tag=x')).toBeUndefined();
  });

  it('stripTag leaves the dialog URI (RFC 3261 §12.1)', () => {
    expect(stripTag('"A" <sip:a@127.0.0.1>;tag=abc;x=1')).toBe('"A" <sip:a@127.0.0.1>;x=1');
    expect(stripTag('<sip:a@127.0.0.1>;TAG=abc')).toBe('<sip:a@127.0.0.1>');
    expect(stripTag('<sip:a@127.0.0.1>')).toBe('<sip:a@127.0.0.1>');
  });

  it('setToTag adds a To-tag once (RFC 3261 §8.2.6.2)', () => {
    const request = createRequest('OPTIONS', 'sip:b@127.0.0.2', {
      Via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1',
      From: '<sip:a@127.0.0.1>;tag=f',
      To: '<sip:b@127.0.0.2>',
      'Call-ID': 'c',
      CSeq: '1 OPTIONS',
    });
    const response = responseTo(request, 200);
    setToTag(response, 't1');
    setToTag(response, 't2');
    expect(response.headers.get('to')).toBe('<sip:b@127.0.0.2>;tag=t1');
  });
});

describe('CSeq', () => {
  it('parses leading zeros, LWS and extension methods', () => {
    expect(parseCSeq('0009   INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('2147483647 FOO')).toEqual({ seq: 2147483647, method: 'FOO' });
    expect(formatCSeq({ seq: 5, method: 'BYE' })).toBe('5 BYE');
  });
  it.each(['', 'INVITE', '1', '2147483648 INVITE', '-1 INVITE', '1 IN VITE', 'x1 INVITE'])(
    'rejects %j',
    (text) => {
      expect(tryParseCSeq(text)).toBeUndefined();
      expect(() => parseCSeq(text)).toThrow(CSeqSyntaxError);
    },
  );
});

describe('quoting', () => {
  it('quote escapes quotes, backslashes and controls, and unquote undoes it', () => {
    expect(quote('plain')).toBe('"plain"');
    expect(quote('a"b\\c\x07')).toBe('"a\\"b\\\\c\\\x07"');
    expect(quote('no\r\nbreaks')).toBe('"nobreaks"');
    expect(unquote(quote('a"b\\c\x07'))).toBe('a"b\\c\x07');
  });
});

describe('builders', () => {
  const invite = createRequest('INVITE', 'sip:bob@127.0.0.2', {
    Via: ['SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK1', 'SIP/2.0/UDP 127.0.0.4;branch=z9hG4bK0'],
    From: '<sip:alice@127.0.0.3>;tag=a1',
    To: '<sip:bob@127.0.0.2>',
    'Call-ID': 'c1',
    CSeq: '1 INVITE',
    Contact: '<sip:alice@127.0.0.3>',
    'Max-Forwards': '70',
  });

  it('createRequest / createResponse take records, pairs or fields and string bodies', () => {
    expect(invite.headers.getAll('via')).toHaveLength(2);
    const r = createResponse(486, undefined, [['To', 'x']], 'body');
    expect(r).toMatchObject({ kind: 'response', status: 486, reason: 'Busy Here' });
    expect(r.body.toString()).toBe('body');
    const copy = createRequest('BYE', 'sip:x', invite.headers);
    copy.headers.set('CSeq', '2 BYE');
    expect(invite.headers.get('cseq')).toBe('1 INVITE');
  });

  it('responseTo copies Via (all), From, To, Call-ID, CSeq only (RFC 3261 §8.2.6.2)', () => {
    const r = responseTo(invite, 180, undefined, { toTag: 'b2' });
    expect(r.reason).toBe('Ringing');
    expect(r.headers.fields().map((f) => f.name)).toEqual(['Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq']);
    expect(tagOf(r.headers.get('to')!)).toBe('b2');
    expect(responseTo(invite, 100).headers.get('to')).toBe('<sip:bob@127.0.0.2>');
    expect(responseTo(invite, 100, 'Trying', { toTag: 'x' }).headers.get('to')).toBe('<sip:bob@127.0.0.2>');
    expect(responseTo(invite, 200, 'Fine').reason).toBe('Fine');
  });
});

describe('reason phrases', () => {
  it('knows every standard code and falls back to the class', () => {
    expect(reasonPhrase(200)).toBe('OK');
    expect(reasonPhrase(481)).toBe('Call/Transaction Does Not Exist');
    expect(reasonPhrase(608)).toBe('Rejected');
    expect(reasonPhrase(499)).toBe('Client Error');
    expect(reasonPhrase(799)).toBe('Unknown');
    expect(knownStatusCodes().size).toBeGreaterThanOrEqual(75);
    for (const [code, reason] of knownStatusCodes()) expect(reasonPhrase(code)).toBe(reason);
  });
});

describe('identifiers', () => {
  it('are random, well-formed and unique', () => {
    const tags = new Set(Array.from({ length: 2000 }, () => newTag()));
    expect(tags.size).toBe(2000);
    for (const t of [...tags].slice(0, 20)) expect(t).toMatch(/^[0-9a-f]{16}$/);
    const branch = newBranch();
    expect(branch.startsWith(BRANCH_MAGIC_COOKIE)).toBe(true);
    expect(branch).toMatch(/^z9hG4bK[0-9a-f]{24}$/);
    expect(newCallId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(newCallId()).not.toBe(newCallId());
  });
});
