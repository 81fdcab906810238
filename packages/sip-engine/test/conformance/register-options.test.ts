import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, scenarioPath, startSipp, type EngineService } from '@sbc/testkit';
import { connectApp, scenario, withEngine, type ConnectedApp } from './helpers.js';

const PHONE = '127.0.0.3';
const CARRIER = '127.0.0.2';

describe.each(['udp', 'tcp'] as const)('REGISTER and OPTIONS over %s (srf as UAS and UAC)', (transport) => {
  let engine: EngineService;
  let app: ConnectedApp;
  const seen: { method: string; protocol: string; source: string; authorized: boolean }[] = [];

  beforeAll(async () => {
    engine = await withEngine();
    app = await connectApp(engine, (srf) => {
      srf.register((req, res) => {
        seen.push({
          method: req.method,
          protocol: req.protocol,
          source: req.source_address,
          authorized: req.has('Authorization'),
        });
        if (!req.has('Authorization')) {
          res.send(401, {
            headers: { 'WWW-Authenticate': 'Digest realm="jambonz.org", nonce="abc123", qop="auth"' },
          });
          return;
        }
        res.send(200, { headers: { Contact: req.get('Contact'), Expires: '3600' } });
      });
      srf.options((req, res) => {
        seen.push({
          method: req.method,
          protocol: req.protocol,
          source: req.source_address,
          authorized: false,
        });
        res.send(200, { headers: { 'X-Members': '0' } });
      });
    });
  });
  afterAll(async () => {
    app?.close();
    await engine?.stop();
  });

  it('answers REGISTER 401 then 200 from the app', async () => {
    seen.length = 0;
    const result = await runSipp({
      scenario: scenario('uac-register-auth'),
      target: engine.sipTarget,
      transport,
      localAddress: PHONE,
      users: { rows: [['john', 'jambonz.org', '[authentication username=john password=1234]']] },
    });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(
      /SIP\/2\.0 401 Unauthorized[\s\S]*WWW-Authenticate: Digest realm="jambonz.org"/,
    );
    expect(result.messages).toMatch(/SIP\/2\.0 200 OK[\s\S]*To: <sip:john@jambonz.org>;tag=/);
    expect(seen.map((s) => [s.method, s.authorized])).toEqual([
      ['REGISTER', false],
      ['REGISTER', true],
    ]);
    expect(seen[0]).toMatchObject({ protocol: transport, source: PHONE });
  });

  it('answers OPTIONS from the app', async () => {
    seen.length = 0;
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: engine.sipTarget,
      transport,
      localAddress: PHONE,
      count: 3,
    });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Members: 0');
    expect(seen).toHaveLength(3);
  });

  it('sends OPTIONS for the app and hands it the response', async () => {
    const uas = await startSipp({ scenario: scenarioPath('options-uas'), localAddress: CARRIER, transport });
    const res = await new Promise<{ status: number; source: string }>((resolve, reject) => {
      app.srf.request(
        `sip:${CARRIER}:${uas.localPort};transport=${transport}`,
        { method: 'OPTIONS', headers: { 'User-Agent': 'conformance' } },
        (err, req) => {
          if (err) return reject(err);
          req.on('response', (response) =>
            resolve({ status: response.status, source: response.source_address }),
          );
        },
      );
    });
    expect(res).toEqual({ status: 200, source: CARRIER });
    const served = await uas.done;
    expect(served.ok, served.describe()).toBe(true);
    expect(served.messages).toMatch(
      /OPTIONS sip:127\.0\.0\.2:\d+;transport=\w+ SIP\/2\.0[\s\S]*User-Agent: conformance/,
    );
  });

  it('never hands the app a response before the echo of its request', async () => {
    const uas = await startSipp({
      scenario: scenarioPath('options-uas'),
      localAddress: CARRIER,
      transport,
      count: 20,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          // srf attaches the transaction on the echo: a response that came first would be dropped.
          app.srf.request(
            `sip:${CARRIER}:${uas.localPort};transport=${transport}`,
            { method: 'OPTIONS' },
            (err, req) => {
              if (err) return reject(err);
              req.on('response', (res) => resolve(res.status));
            },
          );
        }),
      );
    }
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
    const served = await uas.done;
    expect(served.ok, served.describe()).toBe(true);
  });

  it('sends REGISTER for the app and retries with digest credentials on 401', async () => {
    const uas = await startSipp({
      scenario: scenario('uas-register-challenge'),
      localAddress: CARRIER,
      transport,
    });
    const status = await new Promise<number>((resolve, reject) => {
      app.srf.request(
        `sip:${CARRIER}:${uas.localPort};transport=${transport}`,
        {
          method: 'REGISTER',
          headers: {
            From: '<sip:foo@sip.carrier.test>',
            To: '<sip:foo@sip.carrier.test>',
            Contact: '<sip:foo@localhost>',
            Expires: '600',
          },
          auth: { username: 'foo', password: 'bar' },
        },
        (err, req) => {
          if (err) return reject(err);
          req.on('response', (response) => resolve(response.status));
        },
      );
    });
    expect(status).toBe(200);
    const served = await uas.done;
    expect(served.ok, served.describe()).toBe(true);
    expect(served.messages).toMatch(/Authorization: Digest username="foo"/);
  });
});
