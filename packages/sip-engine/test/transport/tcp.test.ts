import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCallId, responseTo, SipStreamFramer, topVia, type SipRequest, type SipResponse } from '@sbc/sip';
import type { Inbound, TransportLayer } from '../../src/transport/index.js';
import { PeerUnreachableError } from '../../src/transport/index.js';
import {
  Inbox,
  type Recorded,
  optionsFrom,
  parsed,
  rawRequest,
  rawTcp,
  readUntil,
  startLayer,
} from './helpers.js';

let a: { layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded };
let b: { layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded };

beforeAll(async () => {
  a = await startLayer([{ protocol: 'tcp', address: '127.0.2.1', port: 0 }]);
  b = await startLayer(
    [
      { protocol: 'tcp', address: '127.0.2.2', port: 0 },
      { protocol: 'tcp', address: '::1', port: 0 },
      { protocol: 'udp', address: '127.0.2.2', port: 0 },
    ],
    { limits: { maxMessageBytes: 3000 } },
  );
});
afterAll(async () => {
  await Promise.all([a?.layer.stop(), b?.layer.stop()]);
});

const bTcp = () => b.layer.endpoints[0]!;

async function answerNext(status = 200): Promise<Inbound<SipRequest>> {
  const inbound = (await b.inbox.next()) as Inbound<SipRequest>;
  await b.layer.sendResponse(
    responseTo(inbound.message, status, undefined, { toTag: 'b' }),
    inbound.connectionId,
  );
  return inbound;
}

describe('TCP', () => {
  it('opens a client connection, gets the response on it and reuses it', async () => {
    const from = a.layer.endpoints[0]!;
    const dest = { protocol: 'tcp' as const, address: '127.0.2.2', port: bTcp().port };
    const first = await a.layer.sendRequest(optionsFrom(from, dest), dest);
    const inbound = await answerNext();
    expect(inbound.source.address).toBe('127.0.2.1');
    expect(inbound.connectionId).toMatch(/^tcp-/);
    expect(inbound.local).toBe(bTcp());
    const response = await a.inbox.next();
    expect((response.message as SipResponse).status).toBe(200);
    expect(response.connectionId).toBe(first.connectionId);
    const second = await a.layer.sendRequest(optionsFrom(from, dest), dest);
    expect(second.connectionId).toBe(first.connectionId);
    await answerNext();
    await a.inbox.next();
    // B can send a request back to A over the connection A opened (reuse by peer address:port)
    const back = await b.layer.sendRequest(optionsFrom(bTcp(), inbound.source), inbound.source);
    expect(back.connectionId).toBe(inbound.connectionId);
    expect((await a.inbox.next()).message.kind).toBe('request');
  });

  it('works over IPv6', async () => {
    const v6 = await startLayer([{ protocol: 'tcp', address: '::1', port: 0 }]);
    try {
      const dest = { protocol: 'tcp' as const, address: '::1', port: b.layer.endpoints[1]!.port };
      await v6.layer.sendRequest(optionsFrom(v6.layer.endpoints[0]!, dest), dest);
      const inbound = await answerNext(202);
      expect(inbound.local).toBe(b.layer.endpoints[1]);
      expect(((await v6.inbox.next()).message as SipResponse).status).toBe(202);
    } finally {
      await v6.layer.stop();
    }
  });

  it('frames messages split across chunks and coalesced in one', async () => {
    const client = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    try {
      const one = rawRequest({
        via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKs1',
        callId: 'split-1',
        body: 'v=0\r\n\r\nhello',
      });
      for (let i = 0; i < one.length; i += 7) {
        client.socket.write(one.subarray(i, i + 7));
        await new Promise((r) => setImmediate(r));
      }
      expect((await b.inbox.next()).message.body.toString()).toBe('v=0\r\n\r\nhello');
      client.socket.write(
        Buffer.concat([
          rawRequest({ via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKs2', callId: 'coalesced-2' }),
          Buffer.from('\r\n\r\n'),
          rawRequest({ via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKs3', callId: 'coalesced-3', body: 'x' }),
        ]),
      );
      expect((await b.inbox.next()).message.headers.get('call-id')).toBe('coalesced-2');
      expect((await b.inbox.next()).message.headers.get('call-id')).toBe('coalesced-3');
      await readUntil(client.chunks, client.received, (t) => t === '\r\n');
    } finally {
      client.socket.destroy();
    }
  });

  it('answers a CRLFCRLF ping with a CRLF pong (RFC 5626 §3.5.1)', async () => {
    const client = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    try {
      client.socket.write('\r\n\r\n');
      expect((await client.chunks.next()).toString()).toBe('\r\n');
    } finally {
      client.socket.destroy();
    }
  });

  it('fills received/rport on stream transports and answers on the same connection', async () => {
    const client = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    try {
      const callId = newCallId();
      client.socket.write(
        rawRequest({ via: 'SIP/2.0/TCP client.invalid:5060;branch=z9hG4bKt1;rport', callId }),
      );
      const inbound = await answerNext();
      const via = topVia(inbound.message.headers)!;
      expect(via.params.get('received')).toBe('127.0.0.3');
      expect(via.params.get('rport')).toBe(String(client.socket.localPort));
      const text = await readUntil(client.chunks, client.received, (t) => t.includes(callId));
      expect(text.startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
    } finally {
      client.socket.destroy();
    }
  });

  it('routes each response back over the connection its request came on', async () => {
    const one = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    const two = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.4');
    try {
      // both claim the same sent-by: only the connection id tells them apart
      one.socket.write(rawRequest({ via: 'SIP/2.0/TCP same.invalid;branch=z9hG4bKc1', callId: 'conn-one' }));
      two.socket.write(rawRequest({ via: 'SIP/2.0/TCP same.invalid;branch=z9hG4bKc2', callId: 'conn-two' }));
      const first = (await b.inbox.next()) as Inbound<SipRequest>;
      const second = (await b.inbox.next()) as Inbound<SipRequest>;
      expect(first.connectionId).not.toBe(second.connectionId);
      await b.layer.sendResponse(responseTo(second.message, 200), second.connectionId);
      await b.layer.sendResponse(responseTo(first.message, 200), first.connectionId);
      const textOne = await readUntil(one.chunks, one.received, (t) =>
        t.includes('Content-Length: 0\r\n\r\n'),
      );
      const textTwo = await readUntil(two.chunks, two.received, (t) =>
        t.includes('Content-Length: 0\r\n\r\n'),
      );
      expect(textOne).toContain('conn-one');
      expect(textOne).not.toContain('conn-two');
      expect(textTwo).toContain('conn-two');
    } finally {
      one.socket.destroy();
      two.socket.destroy();
    }
  });

  it('opens a new connection to received and the sent-by port when the original one is gone', async () => {
    const server: Server = createServer();
    const accepted: Socket[] = [];
    const got = new Promise<string>((resolve) => {
      server.on('connection', (s: Socket) => {
        accepted.push(s);
        const framer = new SipStreamFramer();
        s.on('data', (d: Buffer) => {
          for (const item of framer.push(d)) if (item.kind === 'message') resolve(item.data.toString());
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.5', () => r()));
    const sentByPort = (server.address() as { port: number }).port;
    const events = new Inbox<string>();
    const log = (_obj: object, msg?: string): void => events.push(msg ?? '');
    const c = await startLayer([{ protocol: 'tcp', address: '127.0.2.4', port: 0 }], {
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const client = await rawTcp(c.layer.endpoints[0]!.port, '127.0.2.4', '127.0.0.5');
    try {
      client.socket.write(
        rawRequest({ via: `SIP/2.0/TCP phone.invalid:${sentByPort};branch=z9hG4bKgone`, callId: 'gone-1' }),
      );
      const inbound = (await c.inbox.next()) as Inbound<SipRequest>;
      client.socket.destroy();
      while ((await events.next()) !== 'connection closed');
      const sent = await c.layer.sendResponse(responseTo(inbound.message, 200), inbound.connectionId);
      expect(sent.destination).toMatchObject({ address: '127.0.0.5', port: sentByPort });
      expect(sent.connectionId).not.toBe(inbound.connectionId);
      expect(await got).toContain('gone-1');
    } finally {
      for (const s of accepted) s.destroy();
      await c.layer.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('answers a malformed request with 400 and keeps the connection', async () => {
    const client = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    try {
      client.socket.write(
        rawRequest({
          via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKm',
          callId: 'bad-cseq',
          extra: ['CSeq: 2 OPTIONS'],
        }),
      );
      const text = await readUntil(client.chunks, client.received, (t) => t.includes('\r\n\r\n'));
      expect(text.startsWith('SIP/2.0 400 Bad Request (multiple CSeq headers)\r\n')).toBe(true);
      expect(parsed(Buffer.from(text, 'latin1')).headers.get('call-id')).toBe('bad-cseq');
      client.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKm2', callId: 'after-bad' }));
      expect((await b.inbox.next()).message.headers.get('call-id')).toBe('after-bad');
    } finally {
      client.socket.destroy();
    }
  });

  it('answers 400 and closes when a request has no Content-Length', async () => {
    const before = b.recorded.parseErrors.length;
    const client = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    client.socket.write(
      rawRequest({ via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKn', callId: 'no-length', contentLength: false }),
    );
    await client.closed;
    const text = client.received();
    expect(text).toMatch(/^SIP\/2\.0 400 Bad Request \(missing Content-Length/);
    expect(text).toContain('no-length');
    expect(b.recorded.parseErrors.slice(before)).toEqual([
      { protocol: 'tcp', reason: 'missing Content-Length on a stream transport' },
    ]);
  });

  it('closes a connection that sends an oversized message', async () => {
    const before = b.recorded.parseErrors.length;
    const client = await rawTcp(bTcp().port, '127.0.2.2', '127.0.0.3');
    client.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.3;branch=z9hG4bKo', body: 'x'.repeat(4000) }));
    await client.closed;
    expect(b.recorded.parseErrors.slice(before)).toEqual([
      { protocol: 'tcp', reason: 'message larger than 3000 bytes' },
    ]);
  });

  it('closes idle connections', async () => {
    const idle = await startLayer([{ protocol: 'tcp', address: '127.0.2.3', port: 0 }], {
      idleTimeoutMs: 300,
    });
    try {
      const client = await rawTcp(idle.layer.endpoints[0]!.port, '127.0.2.3', '127.0.0.3');
      await client.closed;
      expect(client.socket.destroyed).toBe(true);
    } finally {
      await idle.layer.stop();
    }
  });

  it('rejects sending to a closed port and to unsupported transports', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.6', () => r()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const dest = { protocol: 'tcp' as const, address: '127.0.0.6', port };
    await expect(a.layer.sendRequest(optionsFrom(a.layer.endpoints[0]!, dest), dest)).rejects.toThrow(
      PeerUnreachableError,
    );
    const response = responseTo(optionsFrom(a.layer.endpoints[0]!, dest), 200);
    response.headers.set('Via', 'SIP/2.0/SCTP 127.0.0.6;branch=z9hG4bKx');
    await expect(a.layer.sendResponse(response)).rejects.toThrow('unsupported transport SCTP');
  });
});
