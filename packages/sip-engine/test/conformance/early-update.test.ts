import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, type EngineService } from '@sbc/testkit';
import { APP_SDP as SDP, connectApp, scenario, withEngine, type ConnectedApp } from './helpers.js';

const CALLER = '127.0.0.3';

describe.each(['udp', 'tcp'] as const)('UPDATE in the early dialog over %s', (transport) => {
  let engine: EngineService;
  let app: ConnectedApp;
  const seen: string[] = [];

  beforeAll(async () => {
    engine = await withEngine();
    app = await connectApp(engine, (srf) => {
      srf.invite((req, res) => {
        // srf finds the INVITE an UPDATE belongs to by Call-ID; drachtio hands it over in the INVITE's
        // transaction, and the answer to it goes back under the INVITE's txnId with CSeq UPDATE.
        req.on('update', (update, updateRes) => {
          const context = update.stackTxnId === req.stackTxnId ? 'INVITE transaction' : 'own transaction';
          seen.push(`update in the ${context}, ${/a=sendonly/.test(update.body) ? 'hold' : 'other'} offer`);
          updateRes.send(200, { body: SDP });
          srf
            .createUAS(req, res, { localSdp: SDP })
            .then((uas) => uas.on('destroy', () => seen.push('destroy')))
            .catch(() => seen.push('uas failed'));
        });
        res.send(183, { body: SDP });
      });
    });
  });
  afterAll(async () => {
    app?.close();
    await engine?.stop();
  });

  it('reaches the app in the INVITE transaction; its 200 and then the INVITE 200 go back', async () => {
    seen.length = 0;
    const caller = await runSipp({
      scenario: scenario('uac-invite-early-update'),
      target: engine.sipTarget,
      localAddress: CALLER,
      transport,
    });
    expect(caller.ok, caller.describe()).toBe(true);
    expect(caller.messages).toMatch(/SIP\/2\.0 200[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*CSeq: 2 UPDATE/);
    expect(seen).toEqual(['update in the INVITE transaction, hold offer', 'destroy']);
  });
});
