import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freeTcpPort, type EngineService } from '@sbc/testkit';
import { connectApp, withEngine, type ConnectedApp } from './helpers.js';

/** A WebRTC client registers over WebSocket (RFC 7118): one SIP message per WS message, subprotocol "sip". */
describe('REGISTER from a WebSocket client', () => {
  let engine: EngineService;
  let app: ConnectedApp;
  let wsPort: number;
  const seen: { protocol: string; contact: string }[] = [];

  beforeAll(async () => {
    wsPort = await freeTcpPort();
    engine = await withEngine({ extraContacts: [`sip:127.0.0.1:${wsPort};transport=ws`] });
    app = await connectApp(engine, (srf) => {
      srf.register((req, res) => {
        seen.push({ protocol: req.protocol, contact: req.get('Contact') });
        res.send(200, { headers: { Contact: req.get('Contact'), Expires: '600' } });
      });
    });
  });
  afterAll(async () => {
    app?.close();
    await engine?.stop();
  });

  it('reaches the app as protocol ws and gets its answer on the same connection', async () => {
    expect(engine.sip.map((s) => s.protocol)).toContain('ws');
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}`, 'sip');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const answer = new Promise<string>((resolve) =>
      ws.once('message', (data: Buffer) => resolve(data.toString())),
    );
    ws.send(
      [
        'REGISTER sip:jambonz.org SIP/2.0',
        'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7',
        'Max-Forwards: 70',
        'From: <sip:alice@jambonz.org>;tag=ws1',
        'To: <sip:alice@jambonz.org>',
        'Call-ID: ws-register-1',
        'CSeq: 1 REGISTER',
        'Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=600',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const response = await answer;
    ws.close();
    expect(response).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(response).toMatch(
      /Via: SIP\/2\.0\/WS df7jal23ls0d\.invalid;branch=z9hG4bKnashds7;[^\r\n]*received=127\.0\.0\.1/,
    );
    expect(seen).toEqual([
      { protocol: 'ws', contact: '<sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=600' },
    ]);
  });
});
