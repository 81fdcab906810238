import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, runSipp, scenarioPath } from '@sbc/testkit';
import { withEngine } from './helpers.js';
import { newSrf, type TestSrf } from './srf.js';

const CALLER = '127.0.0.3';

describe('the outbound (listen) mode and requests no app takes', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('dials an app that listens (--http-handler tcp://…) and hands it the request', async () => {
    const appPort = await freeTcpPort();
    const srf: TestSrf = newSrf();
    const sources: string[] = [];
    srf.options((req, res) => {
      sources.push(req.source_address);
      res.send(200, { headers: { 'X-Outbound-Mode': 'yes' } });
    });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(appPort, '127.0.0.1', resolve));
    srf.listen({ server, secret: 'cymru' });
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const engine = await withEngine({ httpHandler: `tcp://127.0.0.1:${appPort}` });
    cleanups.push(() => engine.stop());
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: engine.sipTarget,
      localAddress: CALLER,
      count: 2,
    });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Outbound-Mode: yes');
    expect(sources).toEqual([CALLER, CALLER]);
  });

  it('answers 503 when no app takes the method', async () => {
    const engine = await withEngine();
    cleanups.push(() => engine.stop());
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: engine.sipTarget,
      localAddress: CALLER,
      timeoutMs: 3000,
    });
    expect(result.ok).toBe(false);
    expect(result.messages).toMatch(/SIP\/2\.0 503 Service Unavailable/);
  });
});
