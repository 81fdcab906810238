import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, startSipp, waitUntil, type EngineService, type SippRun } from '@sbc/testkit';
import { connectApp, scenario, withEngine, type ConnectedApp } from './helpers.js';
import type { ProxyResult, TestSrf } from './srf.js';

const CALLER = '127.0.0.3';
const CALLEES = ['127.0.1.21', '127.0.1.22'] as const;

type ProxyOptions = Parameters<TestSrf['proxyRequest']>[2];

/** A `method` request whose Via is the engine's, then the caller's (RFC 3261 §16.6 step 8). */
function viaEngineThenCaller(method: string): RegExp {
  const via = String.raw`Via: SIP/2\.0/[A-Z]+ 127\.0\.0\.1:\d+;[^\r\n]*(?:, |\r?\nVia: )SIP/2\.0/[A-Z]+ 127\.0\.0\.3`;
  return new RegExp(String.raw`${method} sip:bob@[^\r\n]+(?:\r?\n[^\r\n]+)*?\r?\n` + via);
}

/** Every final response srf.proxyRequest reported, in order. */
function statuses(result: ProxyResult | Error | undefined): number[] {
  if (!result || result instanceof Error) return [];
  return result.responses.flatMap((r) => r.msgs.map((m) => m.status));
}

describe.each(['udp', 'tcp'] as const)('srf.proxyRequest through the engine over %s', (transport) => {
  let engine: EngineService;
  let app: ConnectedApp;
  let targets: string[] = [];
  let options: ProxyOptions = {};
  let result: ProxyResult | Error | undefined;

  beforeAll(async () => {
    engine = await withEngine();
    app = await connectApp(engine, (srf) => {
      srf.invite((req) => {
        srf
          .proxyRequest(req, targets, options)
          .then((r) => (result = r))
          .catch((err: unknown) => (result = err instanceof Error ? err : new Error(String(err))));
      });
    });
  });
  afterAll(async () => {
    app?.close();
    await engine?.stop();
  });

  async function callee(index: 0 | 1, name: string, keys?: Record<string, string>): Promise<SippRun> {
    const run = await startSipp({ scenario: scenario(name), localAddress: CALLEES[index], transport, keys });
    return run;
  }
  const uriOf = (index: 0 | 1, run: SippRun): string =>
    `sip:bob@${CALLEES[index]}:${run.localPort};transport=${transport}`;

  /** Runs the caller; resolves once srf.proxyRequest has settled too (its `done` reply follows the final). */
  async function call(name = 'uac-invite') {
    result = undefined;
    const caller = await runSipp({
      scenario: scenario(name),
      target: engine.sipTarget,
      localAddress: CALLER,
      transport,
    });
    await waitUntil(() => Promise.resolve(result !== undefined), { what: 'srf.proxyRequest to settle' });
    return caller;
  }

  it('record-routes the call and relays its ACK and BYE (recordRoute)', async () => {
    const bob = await callee(0, 'uas-answer');
    targets = [uriOf(0, bob)];
    options = { recordRoute: true };
    const caller = await call();
    const served = await bob.done;
    expect(caller.ok, caller.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(result).toMatchObject({ connected: true, finalStatus: 200 });
    const [, port] = engine.sipTarget.split(':');
    // the INVITE the callee got: our Record-Route, our Via above the caller's, Max-Forwards down by one
    expect(served.messages).toMatch(new RegExp(`Record-Route: <sip:127\\.0\\.0\\.1:${port}[^>]*;lr>`));
    expect(served.messages).toMatch(viaEngineThenCaller('INVITE'));
    expect(served.messages).toMatch(/Max-Forwards: 69/);
    // the BYE came through the engine too
    expect(served.messages).toMatch(viaEngineThenCaller('BYE'));
  });

  it('tries the targets one after the other until one answers (serial forking)', async () => {
    const busy = await callee(0, 'uas-busy');
    const bob = await callee(1, 'uas-answer');
    targets = [uriOf(0, busy), uriOf(1, bob)];
    options = { recordRoute: true };
    const caller = await call();
    const [servedBusy, served] = await Promise.all([busy.done, bob.done]);
    expect(caller.ok, caller.describe()).toBe(true);
    expect(servedBusy.ok, servedBusy.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(statuses(result)).toEqual([486, 200]);
    expect(result).toMatchObject({ connected: true });
  });

  it('follows a 302 to its Contact (followRedirects)', async () => {
    const bob = await callee(1, 'uas-answer');
    const moved = await callee(0, 'uas-redirect', { redirect_to: uriOf(1, bob) });
    targets = [uriOf(0, moved)];
    options = { recordRoute: true, followRedirects: true };
    const caller = await call();
    const [servedMoved, served] = await Promise.all([moved.done, bob.done]);
    expect(caller.ok, caller.describe()).toBe(true);
    expect(servedMoved.ok, servedMoved.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(statuses(result)).toEqual([302, 200]);
  });

  it('forks to every target at once and cancels the others when one answers (simultaneous)', async () => {
    const ringing = await callee(0, 'uas-ring-until-cancel');
    const bob = await callee(1, 'uas-answer');
    targets = [uriOf(0, ringing), uriOf(1, bob)];
    options = { recordRoute: true, forking: 'simultaneous' };
    const caller = await call();
    const [servedRinging, served] = await Promise.all([ringing.done, bob.done]);
    expect(caller.ok, caller.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(servedRinging.ok, servedRinging.describe()).toBe(true);
    expect(servedRinging.messages).toMatch(/CANCEL sip:bob@/);
    expect(statuses(result)).toEqual([200]);
  });

  it('passes the caller’s CANCEL on to the target (RFC 3261 §16.10)', async () => {
    const ringing = await callee(0, 'uas-ring-until-cancel');
    targets = [uriOf(0, ringing)];
    options = {};
    const caller = await call('uac-invite-cancel');
    const served = await ringing.done;
    expect(caller.ok, caller.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);
    expect(result).toMatchObject({ connected: false, finalStatus: 487 });
  });
});
