import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, scenarioPath, startEngine, type EngineService } from '@sbc/testkit';
import { connectApp, withEngine } from './helpers.js';

/**
 * SBC_TEST_DRACHTIO=host:port:secret points every test at an engine that is already running (a real
 * drachtio-server, for those who have one). Here the "external" engine is one of ours, started first.
 */
describe.runIf(!process.env.SBC_TEST_DRACHTIO)('startEngine with SBC_TEST_DRACHTIO', () => {
  let running: EngineService;
  beforeAll(async () => {
    running = await withEngine();
  });
  afterAll(async () => {
    delete process.env.SBC_TEST_DRACHTIO;
    await running?.stop();
  });

  it('uses the named engine, learns its SIP listeners from the authenticate answer, and leaves it running', async () => {
    process.env.SBC_TEST_DRACHTIO = `${running.host}:${running.port}:${running.secret}`;
    const external = await startEngine();
    expect(external.external).toBe(true);
    expect(external.sip).toEqual(running.sip);
    expect(external.sipTarget).toBe(running.sipTarget);

    const app = await connectApp(external, (srf) => srf.options((_req, res) => res.send(200)));
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: external.sipTarget,
      localAddress: '127.0.0.3',
    });
    app.close();
    expect(result.ok, result.describe()).toBe(true);

    await external.stop();
    await expect(startEngine()).resolves.toMatchObject({ port: running.port });
  });

  it('names a wrong secret or a malformed value', async () => {
    process.env.SBC_TEST_DRACHTIO = `${running.host}:${running.port}:wrong`;
    await expect(startEngine()).rejects.toThrow(/refused the secret/);
    process.env.SBC_TEST_DRACHTIO = 'nonsense';
    await expect(startEngine()).rejects.toThrow(/is not host:port:secret/);
  });
});
