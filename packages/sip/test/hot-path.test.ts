// The allocation-saving paths the benchmark led to (bench/): they must agree with the plain ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalHeaderKey, parseMessage, tryParseUri } from '../src/index.js';
import { uriShape } from '../src/uri.js';

const URIS = [
  'sip:alice@example.com',
  'SIP:alice:secret@example.com:5060;transport=tcp;lr',
  'sips:[2001:db8::1]:5061',
  'sip:bob@b.example?subject=hi&priority=urgent',
  'sip:bob@b.example:99999',
  'sip:@b.example',
  'sip:b.example;=x',
  'sip:b.ex ample',
  'tel:+1-201-555-0123;phone-context=example.com',
  'mailto:alice@example.com',
  'sipx:foo',
  ':nothing',
];

function expectedShape(text: string): 0 | 1 | 2 {
  const uri = tryParseUri(text);
  if (!uri) return 0;
  return (uri.scheme === 'sip' || uri.scheme === 'sips') && uri.headers.size > 0 ? 2 : 1;
}

describe('hot-path helpers agree with the full parsers', () => {
  it('uriShape says what tryParseUri would build', () => {
    for (const text of URIS) expect(uriShape(text), text).toBe(expectedShape(text));
    const chars = fc.constantFrom(...'sSiIpP:;@=?&%[]09afAF.-_+ ,<>"/'.split(''));
    fc.assert(
      fc.property(
        fc.constantFrom('sip:', 'SIPS:', 'sIp:', 'tel:', 'sipx:', ''),
        fc.string({ unit: chars, maxLength: 30 }),
        (scheme, rest) => uriShape(scheme + rest) === expectedShape(scheme + rest),
      ),
      { numRuns: 2000 },
    );
  });

  it('interns header names without changing keys', () => {
    expect(canonicalHeaderKey('Via')).toBe('via');
    expect(canonicalHeaderKey('v')).toBe('via');
    expect(canonicalHeaderKey('CONTENT-LENGTH')).toBe('content-length');
    expect(canonicalHeaderKey('X-Odd Name')).toBe('x-odd name');
    for (let i = 0; i < 3000; i++) expect(canonicalHeaderKey(`X-H${i}`)).toBe(`x-h${i}`);
  });

  it('gives a body its own memory when the input is a small part of a larger buffer', () => {
    const text =
      'MESSAGE sip:b@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n' +
      'From: <sip:a@a.example>;tag=1\r\nTo: <sip:b@b.example>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\n' +
      'Content-Length: 5\r\n\r\nhello';
    const big = Buffer.alloc(64 * 1024);
    const written = big.write(text, 100, 'latin1');
    const inPool = parseMessage(big.subarray(100, 100 + written));
    expect(inPool.ok).toBe(true);
    if (!inPool.ok) return;
    expect(inPool.message.body.toString()).toBe('hello');
    expect(inPool.message.body.buffer.byteLength).toBe(5);
    const empty = parseMessage(Buffer.from(text.replace('Content-Length: 5', 'Content-Length: 0'), 'latin1'));
    expect(empty.ok && empty.message.body.length).toBe(0);
  });
});
