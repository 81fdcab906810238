import { describe, expect, it } from 'vitest';
import { SipStreamFramer, parseMessage, type FramedItem } from '../src/index.js';

function message(id: number, body = ''): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:bob@127.0.0.2 SIP/2.0',
      `Via: SIP/2.0/TCP 127.0.0.3:5060;branch=z9hG4bK${id}`,
      'From: <sip:alice@127.0.0.3>;tag=f',
      'To: <sip:bob@127.0.0.2>',
      `Call-ID: framer-${id}`,
      'CSeq: 1 OPTIONS',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

const callIds = (items: FramedItem[]): string[] =>
  items.flatMap((i) => {
    if (i.kind !== 'message') return [];
    const r = parseMessage(i.data);
    return r.ok ? [r.message.headers.get('call-id') ?? ''] : ['unparsable'];
  });

describe('SipStreamFramer', () => {
  it('emits a message delivered in one chunk', () => {
    const items = new SipStreamFramer().push(message(1, 'v=0\r\n'));
    expect(callIds(items)).toEqual(['framer-1']);
  });

  it('reassembles a message split byte by byte, bodies with blank lines included', () => {
    const framer = new SipStreamFramer();
    const data = message(2, 'a\r\n\r\nb\r\n\r\n');
    const items: FramedItem[] = [];
    for (let i = 0; i < data.length; i++) items.push(...framer.push(data.subarray(i, i + 1)));
    expect(callIds(items)).toEqual(['framer-2']);
    expect(items[0]?.kind === 'message' && items[0].data.equals(data)).toBe(true);
    expect(framer.buffered).toBe(0);
  });

  it('splits coalesced messages and reports keep-alives between them', () => {
    const framer = new SipStreamFramer();
    const data = Buffer.concat([
      Buffer.from('\r\n\r\n'),
      message(3, 'x'),
      Buffer.from('\r\n'),
      message(4),
      message(5, 'yz'),
      Buffer.from('\r\n\r\n'),
    ]);
    const items = framer.push(data);
    expect(items.map((i) => i.kind)).toEqual(['ping', 'message', 'pong', 'message', 'message', 'ping']);
    expect(callIds(items)).toEqual(['framer-3', 'framer-4', 'framer-5']);
  });

  it('waits for the rest of a split ping instead of guessing', () => {
    const framer = new SipStreamFramer();
    expect(framer.push(Buffer.from('\r\n'))).toEqual([]);
    expect(framer.push(Buffer.from('\r'))).toEqual([]);
    expect(framer.push(Buffer.from('\n'))).toEqual([{ kind: 'ping' }]);
    expect(framer.push(Buffer.from('\r\n'))).toEqual([]);
    expect(framer.push(message(6)).map((i) => i.kind)).toEqual(['pong', 'message']);
  });

  it('accepts bare LF line ends and skips stray LFs', () => {
    const text = message(7, 'body').toString().replace(/\r\n/g, '\n');
    const items = new SipStreamFramer().push(Buffer.from(`\n${text}`));
    expect(callIds(items)).toEqual(['framer-7']);
  });

  it('refuses a message without Content-Length and then ignores the stream', () => {
    const framer = new SipStreamFramer();
    const noLength = Buffer.from(message(8).toString().replace('Content-Length: 0\r\n', ''));
    const items = framer.push(noLength);
    expect(items).toHaveLength(1);
    const item = items[0]!;
    expect(item.kind).toBe('error');
    if (item.kind === 'error') {
      expect(item.reason).toContain('missing Content-Length');
      expect(item.head?.toString()).toContain('Call-ID: framer-8');
    }
    expect(framer.failed).toBe(true);
    expect(framer.push(message(9))).toEqual([]);
  });

  it('refuses an over-limit declared length, an endless header section and a bad length', () => {
    const big = new SipStreamFramer({ maxMessageBytes: 500 }).push(message(10, 'x'.repeat(600)));
    expect(big[0]).toMatchObject({ kind: 'error', reason: 'message larger than 500 bytes' });
    const framer = new SipStreamFramer({ maxMessageBytes: 500 });
    expect(framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX: '))).toEqual([]);
    const endless = framer.push(Buffer.from('y'.repeat(600)));
    expect(endless[0]).toMatchObject({ kind: 'error', reason: 'message larger than 500 bytes' });
    const bad = new SipStreamFramer().push(
      Buffer.from(message(11).toString().replace('Content-Length: 0', 'l: -3')),
    );
    expect(bad[0]).toMatchObject({ kind: 'error', reason: 'malformed Content-Length header' });
    const twice = new SipStreamFramer().push(
      Buffer.from(
        message(12).toString().replace('Content-Length: 0', 'Content-Length: 0\r\ncontent-length : 0'),
      ),
    );
    expect(twice[0]).toMatchObject({ kind: 'error' });
  });

  it('reads a folded Content-Length', () => {
    const folded = Buffer.from(
      message(13, 'abc').toString().replace('Content-Length: 3', 'Content-Length:\r\n 3'),
    );
    expect(callIds(new SipStreamFramer().push(folded))).toEqual(['framer-13']);
  });
});
