import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSipp, startSipp, type EngineService } from '@sbc/testkit';
import { APP_SDP as SDP, connectApp, scenario, withEngine, type ConnectedApp } from './helpers.js';
import type { TestDialog } from './srf.js';

const CALLER = '127.0.0.3';
const CALLEE = '127.0.1.11';

describe.each(['udp', 'tcp'] as const)(
  'in-dialog requests and reliable provisionals over %s',
  (transport) => {
    let engine: EngineService;
    let app: ConnectedApp;
    let mode: 'uas' | 'b2bua-modify' | 'prack' = 'uas';
    let bLeg = '';
    const seen: string[] = [];

    beforeAll(async () => {
      engine = await withEngine();
      app = await connectApp(engine, (srf) => {
        srf.invite((req, res) => {
          if (mode === 'uas') {
            srf
              .createUAS(req, res, { localSdp: SDP })
              .then((uas) => {
                uas.on('modify', (re, reRes) => {
                  seen.push(`modify ${/a=sendonly/.test(re.body) ? 'hold' : 'other'}`);
                  reRes.send(200, { body: SDP });
                });
                uas.on('info', (info, infoRes) => {
                  seen.push(`info ${info.get('Content-Type')} ${info.body.trim().split(/\r?\n/)[0]}`);
                  infoRes.send(200);
                });
                uas.on('destroy', () => seen.push('destroy'));
              })
              .catch(() => seen.push('uas failed'));
          } else if (mode === 'b2bua-modify') {
            srf
              .createB2BUA(req, res, bLeg, { localSdpB: req.body })
              .then(({ uas, uac }: { uas: TestDialog; uac: TestDialog }) => {
                uas.on('destroy', () => void uac.destroy().catch(() => undefined));
                uac
                  .modify(SDP)
                  .then(() => seen.push('modified B'))
                  .catch(() => seen.push('modify failed'));
              })
              .catch(() => seen.push('b2bua failed'));
          } else {
            res.send(183, { headers: { Require: '100rel' }, body: SDP }, undefined, (prack) => {
              seen.push(`prack ${prack.get('RAck')}`);
              srf
                .createUAS(req, res, { localSdp: SDP })
                .then((uas) => uas.on('destroy', () => seen.push('destroy')))
                .catch(() => seen.push('uas failed'));
            });
          }
        });
      });
    });
    afterAll(async () => {
      app?.close();
      await engine?.stop();
    });

    it('hands a re-INVITE and an INFO from the network to the app and their answers back', async () => {
      mode = 'uas';
      seen.length = 0;
      const caller = await runSipp({
        scenario: scenario('uac-invite-reinvite-info'),
        target: engine.sipTarget,
        localAddress: CALLER,
        transport,
      });
      expect(caller.ok, caller.describe()).toBe(true);
      expect(seen).toEqual(['modify hold', 'info application/dtmf-relay Signal=5', 'destroy']);
    });

    it('sends a re-INVITE from the app (dialog.modify) and ACKs its 200', async () => {
      mode = 'b2bua-modify';
      seen.length = 0;
      const callee = await startSipp({
        scenario: scenario('uas-answer-accept-reinvite'),
        localAddress: CALLEE,
        transport,
      });
      bLeg = `sip:bob@${CALLEE}:${callee.localPort};transport=${transport}`;
      const caller = await runSipp({
        scenario: scenario('uac-invite-long'),
        target: engine.sipTarget,
        localAddress: CALLER,
        transport,
      });
      const served = await callee.done;
      expect(caller.ok, caller.describe()).toBe(true);
      expect(served.ok, served.describe()).toBe(true);
      expect(seen).toEqual(['modified B']);
      expect(served.messages).toMatch(
        /INVITE sip:bob@127\.0\.1\.11[^\r\n]* SIP\/2\.0[\s\S]*CSeq: \d+ INVITE/,
      );
    });

    it('sends a reliable 183 (RSeq), hands the PRACK to the app, then answers', async () => {
      mode = 'prack';
      seen.length = 0;
      const caller = await runSipp({
        scenario: scenario('uac-invite-prack'),
        target: engine.sipTarget,
        localAddress: CALLER,
        transport,
      });
      expect(caller.ok, caller.describe()).toBe(true);
      expect(caller.messages).toMatch(/SIP\/2\.0 183[\s\S]*RSeq: \d+/);
      expect(seen[0]).toMatch(/^prack \d+ 1 INVITE$/);
      expect(seen).toContain('destroy');
    });
  },
);
