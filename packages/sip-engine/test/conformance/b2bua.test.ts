import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, startSipp, waitUntil, type EngineService, type SippResult } from '@sbc/testkit';
import { connectApp, scenario, withEngine, type ConnectedApp } from './helpers.js';

const CALLER = '127.0.0.3';
const CALLEE = '127.0.1.10';

interface LegEvents {
  outcome: 'connected' | `failed ${number}`;
  ended: string[];
}

describe.each(['udp', 'tcp'] as const)('INVITE B2BUA through the engine over %s', (transport) => {
  let engine: EngineService;
  let app: ConnectedApp;
  let bLeg = '';
  let bAuth: { username: string; password: string } | undefined;
  let events: LegEvents;

  beforeAll(async () => {
    engine = await withEngine();
    app = await connectApp(engine, (srf) => {
      srf.invite((req, res) => {
        srf
          .createB2BUA(req, res, bLeg, { localSdpB: req.body, ...(bAuth ? { auth: bAuth } : {}) })
          .then(({ uas, uac }) => {
            events.outcome = 'connected';
            uas.on('destroy', () => {
              events.ended.push('A');
              uac.destroy().catch(() => undefined);
            });
            uac.on('destroy', () => {
              events.ended.push('B');
              uas.destroy().catch(() => undefined);
            });
          })
          .catch((err: { status?: number }) => {
            events.outcome = `failed ${err.status ?? 0}`;
          });
      });
    });
  });
  afterAll(async () => {
    app?.close();
    await engine?.stop();
  });

  async function call(callerScenario: string, calleeScenario: string, auth?: typeof bAuth) {
    events = { outcome: 'failed 0', ended: [] };
    bAuth = auth;
    const callee = await startSipp({ scenario: scenario(calleeScenario), localAddress: CALLEE, transport });
    bLeg = `sip:bob@${CALLEE}:${callee.localPort};transport=${transport}`;
    const caller = await runSipp({
      scenario: scenario(callerScenario),
      target: engine.sipTarget,
      localAddress: CALLER,
      transport,
      timeoutMs: 20_000,
    });
    const served = await callee.done;
    return { caller, callee: served };
  }

  function expectOk(result: SippResult): void {
    expect(result.ok, result.describe()).toBe(true);
  }

  it('connects A to B with 180 / 200 / ACK and ends on a BYE from A', async () => {
    const { caller, callee } = await call('uac-invite', 'uas-answer');
    expectOk(caller);
    expectOk(callee);
    expect(events.outcome).toBe('connected');
    expect(events.ended).toEqual(['A']);
    expect(caller.messages).toMatch(/SIP\/2\.0 180 Ringing/);
    expect(caller.messages).toMatch(/SIP\/2\.0 200 OK[\s\S]*Contact: <sip:127\.0\.0\.1:\d+/);
    expect(callee.messages).toMatch(/INVITE sip:bob@127\.0\.1\.10/);
  });

  it('ends the call on a BYE from B', async () => {
    const { caller, callee } = await call('uac-invite-wait-bye', 'uas-answer-then-bye');
    expectOk(caller);
    expectOk(callee);
    expect(events.ended).toEqual(['B']);
  });

  it('answers a 407 on the B leg with credentials', async () => {
    const { caller, callee } = await call('uac-invite', 'uas-407-then-answer', {
      username: 'foo',
      password: 'bar',
    });
    expectOk(caller);
    expectOk(callee);
    expect(callee.messages).toMatch(/Proxy-Authorization: Digest username="foo"/);
    expect(caller.messages).not.toMatch(/SIP\/2\.0 407/);
  });

  it('cancels the B leg when A cancels before the answer (487 to A)', async () => {
    const { caller, callee } = await call('uac-invite-cancel', 'uas-ring-until-cancel');
    expectOk(caller);
    expectOk(callee);
    expect(caller.messages).toMatch(/SIP\/2\.0 487/);
    expect(callee.messages).toMatch(/CANCEL sip:bob@127\.0\.1\.10/);
    // srf rejects createB2BUA once the B leg's 487 has come back, which may be after sipp is done.
    await waitUntil(() => Promise.resolve(events.outcome === 'failed 487'), {
      what: 'createB2BUA to fail 487',
    });
  });
});
