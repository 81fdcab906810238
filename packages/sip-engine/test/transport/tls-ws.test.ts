import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { makeTempDir, writeSelfSignedCertificate, type TempDir } from '@sbc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createRequest,
  newTag,
  parseMessage,
  responseTo,
  topVia,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import type { Inbound, TransportLayer } from '../../src/transport/index.js';
import {
  createTransportLayer,
  PeerUnreachableError,
  TransportConfigError,
} from '../../src/transport/index.js';
import { Inbox, type Recorded, optionsFrom, rawRequest, startLayer } from './helpers.js';

let certDir: TempDir;
let tls: { key: Buffer; cert: Buffer };
let a: { layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded };
let b: { layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded };

beforeAll(async () => {
  certDir = makeTempDir('sip-tls');
  const key = join(certDir.path, 'key.pem');
  const cert = join(certDir.path, 'cert.pem');
  writeSelfSignedCertificate({ keyFile: key, certFile: cert, days: 1 });
  tls = { key: readFileSync(key), cert: readFileSync(cert) };
  a = await startLayer([{ protocol: 'tls', address: '127.0.3.1', port: 0 }], { tls });
  b = await startLayer(
    [
      { protocol: 'tls', address: '127.0.3.2', port: 0 },
      { protocol: 'ws', address: '127.0.3.2', port: 0 },
      { protocol: 'wss', address: '127.0.3.2', port: 0 },
      { protocol: 'ws', address: '::1', port: 0 },
    ],
    { tls, limits: { maxMessageBytes: 2000 } },
  );
});
afterAll(async () => {
  await Promise.all([a?.layer.stop(), b?.layer.stop()]);
  certDir?.remove();
});

const endpoint = (protocol: string, address = '127.0.3.2') =>
  b.layer.endpoints.find((e) => e.protocol === protocol && e.address === address)!;

/** A WebSocket SIP client from 127.0.0.3 with an inbox of received messages. */
async function wsClient(
  url: string,
  protocols: string[] = ['sip'],
): Promise<{ ws: WebSocket; inbox: Inbox<Buffer> }> {
  const ws = new WebSocket(url, protocols, {
    localAddress: url.includes('[') ? '::1' : '127.0.0.3',
    rejectUnauthorized: false,
  });
  const inbox = new Inbox<Buffer>();
  ws.on('message', (data: Buffer) => inbox.push(data));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, inbox };
}

function wsOptions(callId: string): Buffer {
  return rawRequest({ via: 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws;rport', callId });
}

describe('TLS', () => {
  it('carries a request and its response between two layers', async () => {
    const dest = { protocol: 'tls' as const, address: '127.0.3.2', port: endpoint('tls').port };
    const sent = await a.layer.sendRequest(optionsFrom(a.layer.endpoints[0]!, dest), dest);
    expect(sent.connectionId).toMatch(/^tls-/);
    const inbound = (await b.inbox.next()) as Inbound<SipRequest>;
    expect(inbound.source).toMatchObject({ protocol: 'tls', address: '127.0.3.1' });
    await b.layer.sendResponse(responseTo(inbound.message, 200), inbound.connectionId);
    const response = await a.inbox.next();
    expect((response.message as SipResponse).status).toBe(200);
    expect(response.connectionId).toBe(sent.connectionId);
  });

  it('refuses TLS and WSS listeners without key and certificate', async () => {
    await expect(
      createTransportLayer([{ protocol: 'tls', address: '127.0.3.3', port: 0 }]).start(),
    ).rejects.toThrow(TransportConfigError);
    await expect(
      createTransportLayer([{ protocol: 'wss', address: '127.0.3.3', port: 0 }]).start(),
    ).rejects.toThrow('needs a key and certificate');
  });
});

describe('WebSocket (RFC 7118)', () => {
  it('receives one SIP message per WebSocket message and answers on the connection', async () => {
    const client = await wsClient(`ws://127.0.3.2:${endpoint('ws').port}`);
    try {
      client.ws.send(wsOptions('ws-1').toString('utf8'));
      const inbound = (await b.inbox.next()) as Inbound<SipRequest>;
      expect(inbound.source).toMatchObject({ protocol: 'ws', address: '127.0.0.3' });
      expect(inbound.connectionId).toMatch(/^ws-/);
      const via = topVia(inbound.message.headers)!;
      expect(via.transport).toBe('WS');
      expect(via.params.get('received')).toBe('127.0.0.3');
      expect(via.params.get('rport')).toBe(String(inbound.source.port));
      await b.layer.sendResponse(responseTo(inbound.message, 200), inbound.connectionId);
      const response = parseMessage(await client.inbox.next());
      expect(response.ok && response.message.kind === 'response' && response.message.status).toBe(200);

      // an in-dialog request from the engine goes back over the client's connection
      const bye = createRequest('BYE', 'sip:client@df7jal23ls0d.invalid;transport=ws', [
        ['Via', `SIP/2.0/WS 127.0.3.2:${endpoint('ws').port};branch=z9hG4bKbye`],
        ['From', `<sip:service@127.0.3.2>;tag=${newTag()}`],
        ['To', '<sip:client@df7jal23ls0d.invalid>;tag=c'],
        ['Call-ID', 'ws-1'],
        ['CSeq', '2 BYE'],
      ]);
      const sent = await b.layer.sendRequest(bye, inbound.source);
      expect(sent.connectionId).toBe(inbound.connectionId);
      expect((await client.inbox.next()).toString()).toMatch(/^BYE sip:client@/);
    } finally {
      client.ws.close();
    }
  });

  it('finds the connection from received/rport when no connection id is given', async () => {
    const client = await wsClient(`ws://127.0.3.2:${endpoint('ws').port}`);
    try {
      client.ws.send(wsOptions('ws-by-via'));
      const inbound = (await b.inbox.next()) as Inbound<SipRequest>;
      const sent = await b.layer.sendResponse(responseTo(inbound.message, 200));
      expect(sent.connectionId).toBe(inbound.connectionId);
      expect((await client.inbox.next()).toString()).toContain('ws-by-via');
    } finally {
      client.ws.close();
    }
  });

  it('never opens WebSocket connections itself', async () => {
    const dest = { protocol: 'ws' as const, address: '127.0.0.3', port: 40000 };
    await expect(b.layer.sendRequest(optionsFrom(endpoint('ws'), dest), dest)).rejects.toThrow(
      PeerUnreachableError,
    );
    const response = responseTo(optionsFrom(endpoint('ws'), dest), 200);
    response.headers.set('Via', 'SIP/2.0/WS gone.invalid;branch=z9hG4bKg;received=127.0.0.3;rport=40000');
    await expect(b.layer.sendResponse(response)).rejects.toThrow(PeerUnreachableError);
  });

  it('accepts binary frames, ignores blank keep-alives and serves IPv6', async () => {
    const client = await wsClient(`ws://[::1]:${endpoint('ws', '::1').port}`);
    try {
      client.ws.send('\r\n\r\n');
      client.ws.send(wsOptions('ws-binary'), { binary: true });
      const inbound = await b.inbox.next();
      expect(inbound.message.headers.get('call-id')).toBe('ws-binary');
      expect(inbound.local).toBe(endpoint('ws', '::1'));
    } finally {
      client.ws.close();
    }
  });

  it('answers malformed requests with 400 over the WebSocket', async () => {
    const client = await wsClient(`ws://127.0.3.2:${endpoint('ws').port}`);
    try {
      client.ws.send(
        rawRequest({
          via: 'SIP/2.0/WS x.invalid;branch=z9hG4bKm',
          callId: 'ws-bad',
          extra: ['To: <sip:x@y>'],
        }),
      );
      const text = (await client.inbox.next()).toString();
      expect(text.startsWith('SIP/2.0 400 Bad Request (multiple To headers)\r\n')).toBe(true);
      expect(text).toContain('Call-ID: ws-bad');
    } finally {
      client.ws.close();
    }
  });

  it('closes a connection whose message is over the size limit', async () => {
    const client = await wsClient(`ws://127.0.3.2:${endpoint('ws').port}`);
    const closed = new Promise<number>((resolve) => client.ws.on('close', (code: number) => resolve(code)));
    client.ws.send(rawRequest({ via: 'SIP/2.0/WS x.invalid;branch=z9hG4bKbig', body: 'x'.repeat(3000) }));
    expect(await closed).toBe(1009);
  });

  it('refuses a handshake without the sip subprotocol and plain HTTP requests', async () => {
    const refused = new WebSocket(`ws://127.0.3.2:${endpoint('ws').port}`, ['chat'], {
      localAddress: '127.0.0.3',
    });
    const status = await new Promise<number>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.on('error', () => resolve(-1));
    });
    expect(status).toBe(400);
    const httpStatus = await new Promise<number>((resolve, reject) => {
      get(`http://127.0.3.2:${endpoint('ws').port}/`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(httpStatus).toBe(426);
  });

  it('serves WSS with the configured certificate', async () => {
    const client = await wsClient(`wss://127.0.3.2:${endpoint('wss').port}`);
    try {
      client.ws.send(wsOptions('wss-1'));
      const inbound = (await b.inbox.next()) as Inbound<SipRequest>;
      expect(inbound.source.protocol).toBe('wss');
      await b.layer.sendResponse(responseTo(inbound.message, 200), inbound.connectionId);
      expect((await client.inbox.next()).toString()).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    } finally {
      client.ws.close();
    }
  });
});
