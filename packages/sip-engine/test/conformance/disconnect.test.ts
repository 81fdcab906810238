import { afterEach, describe, expect, it } from 'vitest';
import { runSipp, startSipp, type EngineService } from '@sbc/testkit';
import { connectApp, scenario, withEngine } from './helpers.js';

const CALLER = '127.0.0.3';
const CALLEE = '127.0.1.10';

describe('apps that go away mid-call', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('answers 481 to a BYE in a dialog whose app disconnected mid-call', async () => {
    const engine: EngineService = await withEngine();
    cleanups.push(() => engine.stop());
    const callee = await startSipp({ scenario: scenario('uas-answer'), localAddress: CALLEE });
    cleanups.push(() => callee.stop());
    let connected = false;
    let leave = (): void => undefined;
    const app = await connectApp(engine, (srf) => {
      srf.invite((req, res) => {
        srf
          .createB2BUA(req, res, `sip:bob@${CALLEE}:${callee.localPort}`, { localSdpB: req.body })
          .then(() => {
            connected = true;
            // Leave once srf has finished with the call's set-up (A's ACK), as a crashing app would mid-call.
            setTimeout(leave, 300);
          })
          .catch(() => undefined);
      });
    });
    leave = () => app.close();
    cleanups.push(() => app.close());
    const caller = await runSipp({
      scenario: scenario('uac-invite-late-bye-481'),
      target: engine.sipTarget,
      localAddress: CALLER,
      timeoutMs: 15_000,
    });
    expect(connected).toBe(true);
    expect(caller.ok, caller.describe()).toBe(true);
    expect(caller.messages).toMatch(/SIP\/2\.0 481/);
  });
});
