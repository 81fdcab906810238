import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCallId, parseVia, responseTo, tagOf, topVia, type SipRequest, type SipResponse } from '@sbc/sip';
import type { Inbound, TransportLayer } from '../../src/transport/index.js';
import { TransportBindError } from '../../src/transport/index.js';
import {
  type Inbox,
  type Recorded,
  optionsFrom,
  parsed,
  rawRequest,
  rawUdp,
  sendUdp,
  startLayer,
} from './helpers.js';

let a: { layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded };
let b: { layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded };
let raw: Awaited<ReturnType<typeof rawUdp>>;

beforeAll(async () => {
  a = await startLayer([
    { protocol: 'udp', address: '127.0.0.1', port: 0 },
    { protocol: 'udp', address: '::1', port: 0 },
  ]);
  b = await startLayer(
    [
      { protocol: 'udp', address: '127.0.1.1', port: 0, externalAddress: '192.0.2.10' },
      { protocol: 'udp', address: '127.0.1.2', port: 0 },
      { protocol: 'udp', address: '::1', port: 0 },
    ],
    { limits: { maxMessageBytes: 2000 } },
  );
  raw = await rawUdp('127.0.0.3');
});
afterAll(async () => {
  raw?.socket.close();
  await Promise.all([a?.layer.stop(), b?.layer.stop()]);
});

const bUdp = (i: number) => b.layer.endpoints[i]!;

/** Answers the next request B receives with `status`. */
async function answerNext(status = 200): Promise<Inbound<SipRequest>> {
  const inbound = (await b.inbox.next()) as Inbound<SipRequest>;
  expect(inbound.message.kind).toBe('request');
  await b.layer.sendResponse(
    responseTo(inbound.message, status, undefined, { toTag: 'b-tag' }),
    inbound.connectionId,
  );
  return inbound;
}

describe('UDP', () => {
  it('resolves ports, keeps the advertised address and picks endpoints by family and address', () => {
    expect(bUdp(0)).toMatchObject({ protocol: 'udp', address: '127.0.1.1', advertisedAddress: '192.0.2.10' });
    expect(bUdp(0).port).toBeGreaterThan(0);
    expect(bUdp(1).advertisedAddress).toBe('127.0.1.2');
    expect(b.layer.endpointFor({ protocol: 'udp', address: '127.0.1.2', port: 5060 })).toBe(bUdp(1));
    expect(b.layer.endpointFor({ protocol: 'udp', address: '::1', port: 5060 })).toBe(bUdp(2));
    expect(
      b.layer.endpointFor({ protocol: 'udp', address: '127.0.0.9', port: 5060 }).address.startsWith('127.'),
    ).toBe(true);
    expect(() => b.layer.endpointFor({ protocol: 'tcp', address: '127.0.0.1', port: 5060 })).toThrow(
      'no tcp listener',
    );
  });

  it('carries a request and its response between two layers (IPv4)', async () => {
    const from = a.layer.endpoints[0]!;
    const request = optionsFrom(from, bUdp(1));
    const sent = await a.layer.sendRequest(request, {
      protocol: 'udp',
      address: '127.0.1.2',
      port: bUdp(1).port,
    });
    expect(sent.local).toBe(from);
    expect(sent.raw.toString()).toContain('OPTIONS sip:127.0.1.2:');
    const inbound = await answerNext();
    expect(inbound.local).toBe(bUdp(1));
    expect(inbound.source).toEqual({ protocol: 'udp', address: '127.0.0.1', port: from.port });
    expect(inbound.raw.equals(sent.raw)).toBe(true);
    // sent-by equals the source, rport was empty: rport and received filled (RFC 3581 §4)
    const via = topVia(inbound.message.headers)!;
    expect(via.params.get('rport')).toBe(String(from.port));
    expect(via.params.get('received')).toBe('127.0.0.1');
    const response = (await a.inbox.next()).message as SipResponse;
    expect(response).toMatchObject({ kind: 'response', status: 200, reason: 'OK' });
    expect(tagOf(response.headers.get('to')!)).toBe('b-tag');
    expect(b.recorded.out.some((m) => m.kind === 'response' && m.status === 200)).toBe(true);
  });

  it('carries a request and its response over IPv6', async () => {
    const from = a.layer.endpoints[1]!;
    await a.layer.sendRequest(optionsFrom(from, bUdp(2)), {
      protocol: 'udp',
      address: '::1',
      port: bUdp(2).port,
    });
    const inbound = await answerNext(202);
    expect(inbound.source.address).toBe('::1');
    expect(inbound.local).toBe(bUdp(2));
    expect(((await a.inbox.next()).message as SipResponse).status).toBe(202);
  });

  it('adds received for a foreign sent-by and routes the response to received:rport', async () => {
    const callId = newCallId();
    await sendUdp(
      raw.socket,
      rawRequest({ via: 'SIP/2.0/UDP phone.invalid:5999;branch=z9hG4bKr1;rport', callId }),
      bUdp(0).port,
      '127.0.1.1',
    );
    const inbound = await answerNext();
    const via = parseVia(inbound.message.headers.getAll('via')[0]!);
    expect(via.params.get('received')).toBe('127.0.0.3');
    expect(via.params.get('rport')).toBe(String(raw.port));
    const response = parsed(await raw.inbox.next());
    expect(response).toMatchObject({ kind: 'response', status: 200 });
    expect(response.headers.get('call-id')).toBe(callId);
  });

  it('without rport, adds received only and answers to received at the sent-by port', async () => {
    const callId = newCallId();
    await sendUdp(
      raw.socket,
      rawRequest({ via: `SIP/2.0/UDP 127.0.0.99:${raw.port};branch=z9hG4bKr2`, callId }),
      bUdp(0).port,
      '127.0.1.1',
    );
    const inbound = await answerNext();
    const via = topVia(inbound.message.headers)!;
    expect(via.params.get('received')).toBe('127.0.0.3');
    expect(via.params.has('rport')).toBe(false);
    expect(parsed(await raw.inbox.next()).headers.get('call-id')).toBe(callId);
  });

  it('answers a malformed but answerable request with a stateless 400 and counts it', async () => {
    const callId = newCallId();
    const before = b.recorded.parseErrors.length;
    const bad = rawRequest({
      via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKbad',
      callId,
      extra: ['Max-Forwards: 999'],
    });
    await sendUdp(raw.socket, bad, bUdp(0).port, '127.0.1.1');
    const response = parsed(await raw.inbox.next());
    expect(response).toMatchObject({ kind: 'response', status: 400 });
    if (response.kind === 'response') expect(response.reason).toContain('Max-Forwards');
    expect(response.headers.get('call-id')).toBe(callId);
    expect(response.headers.get('cseq')).toBe('1 OPTIONS');
    expect(response.headers.get('via')).toBe('SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKbad');
    expect(tagOf(response.headers.get('to')!)).toBeDefined();
    expect(b.recorded.parseErrors.slice(before)).toEqual([
      { protocol: 'udp', reason: 'multiple Max-Forwards headers' },
    ]);
  });

  it('answers an unsupported SIP version with 505', async () => {
    const bad = Buffer.from(
      rawRequest({ via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKv' })
        .toString()
        .replace('SIP/2.0\r\n', 'SIP/3.0\r\n'),
    );
    await sendUdp(raw.socket, bad, bUdp(0).port, '127.0.1.1');
    expect(parsed(await raw.inbox.next())).toMatchObject({ status: 505, reason: 'Version Not Supported' });
  });

  it('drops junk, malformed ACKs and over-limit datagrams silently but counts them; ignores CRLF keep-alives', async () => {
    const before = b.recorded.parseErrors.length;
    await sendUdp(raw.socket, Buffer.from('\x00\x01garbage\xff'), bUdp(0).port, '127.0.1.1');
    await sendUdp(
      raw.socket,
      rawRequest({ method: 'ACK', via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKa', extra: ['CSeq: 2 ACK'] }),
      bUdp(0).port,
      '127.0.1.1',
    );
    await sendUdp(
      raw.socket,
      rawRequest({ via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKbig', body: 'x'.repeat(2500) }),
      bUdp(0).port,
      '127.0.1.1',
    );
    await sendUdp(raw.socket, Buffer.from('\r\n\r\n'), bUdp(0).port, '127.0.1.1');
    // a valid request after them: the first thing coming back must be its answer
    const callId = newCallId();
    await sendUdp(
      raw.socket,
      rawRequest({ via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKok;rport', callId }),
      bUdp(0).port,
      '127.0.1.1',
    );
    await answerNext();
    expect(parsed(await raw.inbox.next()).headers.get('call-id')).toBe(callId);
    expect(b.recorded.parseErrors.slice(before).map((e) => e.reason)).toEqual([
      'malformed request method',
      'multiple CSeq headers',
      'message larger than 2000 bytes',
      'empty message',
    ]);
  });

  it('with forceRport, adds rport and received even when the client did not ask (drachtio behaviour)', async () => {
    const forced = await startLayer([{ protocol: 'udp', address: '127.0.1.4', port: 0 }], {
      forceRport: true,
    });
    try {
      await sendUdp(
        raw.socket,
        rawRequest({ via: `SIP/2.0/UDP 127.0.0.3:${raw.port};branch=z9hG4bKf`, callId: 'forced' }),
        forced.layer.endpoints[0]!.port,
        '127.0.1.4',
      );
      const via = topVia((await forced.inbox.next()).message.headers)!;
      expect(via.params.get('rport')).toBe(String(raw.port));
      expect(via.params.get('received')).toBe('127.0.0.3');
    } finally {
      await forced.layer.stop();
    }
  });

  it('keeps working after a handler throws', async () => {
    const { layer, inbox } = await startLayer([{ protocol: 'udp', address: '127.0.1.3', port: 0 }]);
    layer.onMessage(() => {
      throw new Error('handler bug');
    });
    try {
      for (const callId of ['t1', 't2']) {
        await sendUdp(
          raw.socket,
          rawRequest({ via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKt', callId }),
          layer.endpoints[0]!.port,
          '127.0.1.3',
        );
        expect((await inbox.next()).message.headers.get('call-id')).toBe(callId);
      }
    } finally {
      await layer.stop();
    }
  });

  it('refuses to start on an address in use, naming it', async () => {
    const port = bUdp(0).port;
    const { createTransportLayer } = await import('../../src/transport/index.js');
    const clash = createTransportLayer([
      { protocol: 'udp', address: '127.0.1.9', port: 0 },
      { protocol: 'udp', address: '127.0.1.1', port },
    ]);
    await expect(clash.start()).rejects.toThrow(TransportBindError);
    await expect(clash.start()).rejects.toThrow(`udp/127.0.1.1:${port}`);
  });
});
