/**
 * In-dialog services of a connected call (reference §2.9): INFO from the feature server (mute,
 * unmute, Dtmf), DTMF INFO from the caller, REFER both ways, hold and unhold. sipp does the SIP on
 * both sides; the media of both sides is an RtpProbe (a UDP socket named in the scenario's SDP)
 * that sends PCMA towards rtpengine and logs what it receives, so each test sees what each party
 * really hears.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freeUdpPort, startSipp, waitUntil, type SippResult } from '@sbc/testkit';
import {
  featureServerUp,
  JAMBONZ,
  scenario,
  allLogged,
  startInbound,
  startInboundStack,
  useApp as useAppOf,
  type InboundStack,
  westcoCall,
} from './support/inbound.js';
import { RawCaller, sdpOffer } from './support/raw-caller.js';
import { queryStreams, RtpProbe, type QueriedStream } from './support/rtp-probe.js';

let stack: InboundStack;

beforeAll(async () => {
  stack = await startInboundStack();
});
afterAll(async () => {
  await stack?.stop();
});

const FS_ADDRESS = '127.0.1.10';
const CALLER_ADDRESS = JAMBONZ.ip.westco;
const SRS_ADDRESS = '127.0.1.30';

/** The responses a sipp got to its requests with CSeq `cseq`. */
function answersTo(messages: string, cseq: string): string[] {
  return allLogged(messages, 'SIP/2.0 ').filter((m) => new RegExp(`\\nCSeq: ${cseq}\\s*\\n`).test(m));
}

interface Call {
  caller: SippResult;
  featureServer: SippResult;
  callerProbe: RtpProbe;
  fsProbe: RtpProbe;
  /** rtpengine's streams of the caller and the feature server, sampled every 100 ms while the call was up. */
  samples: { at: number; caller: QueriedStream; featureServer: QueriedStream }[];
  /** When the SBC saw the call end. */
  endedAt: number;
}

describe('in-dialog requests of a carrier call', () => {
  const sbc = useAppOf(() => stack);
  vi.setConfig({ testTimeout: 40_000 });

  /**
   * One call from the westco carrier to a sipp feature server, both parties' media on RtpProbes
   * that start sending as soon as rtpengine knows both streams.
   */
  async function runCall(
    callerScenario: string,
    fsScenario: string,
    /** Called once both probes send, e.g. to have one of them send a digit. */
    whileTalking?: (probes: { caller: RtpProbe; featureServer: RtpProbe }) => void,
    /** More keys for the feature server's scenario. */
    fsKeys: Record<string, string | number> = {},
  ): Promise<Call> {
    const [callerProbe, fsProbe] = await Promise.all([
      RtpProbe.open(CALLER_ADDRESS),
      RtpProbe.open(FS_ADDRESS),
    ]);
    try {
      const fs = await startSipp({
        scenario: scenario(fsScenario),
        localAddress: FS_ADDRESS,
        keys: { rtp_ip: fsProbe.address, rtp_port: fsProbe.port, ...fsKeys },
        timeoutMs: 15_000,
      });
      await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
      const caller = westcoCall(stack, callerScenario, { media: callerProbe, timeoutMs: 15_000 });
      let callId = '';
      let streams: { caller: QueriedStream; featureServer: QueriedStream } | undefined;
      await waitUntil(
        async () => {
          callId = [...sbc().app.calls.keys()][0] ?? '';
          if (!callId) return false;
          const all = await queryStreams(stack.rtpengine, callId);
          const callerStream = all.find((s) => s.endpointPort === callerProbe.port);
          const fsStream = all.find((s) => s.endpointPort === fsProbe.port);
          if (callerStream && fsStream) streams = { caller: callerStream, featureServer: fsStream };
          return streams !== undefined;
        },
        { what: 'the call with both streams in rtpengine', timeoutMs: 5000 },
      );
      if (!streams) throw new Error('no streams');
      callerProbe.startSending(stack.rtpengine.host, streams.caller.localPort);
      fsProbe.startSending(stack.rtpengine.host, streams.featureServer.localPort);
      whileTalking?.({ caller: callerProbe, featureServer: fsProbe });
      const samples: Call['samples'] = [];
      const tags = { caller: streams.caller.tag, featureServer: streams.featureServer.tag };
      let sippDone = false;
      void Promise.all([caller, fs.done]).finally(() => (sippDone = true));
      while (sbc().app.calls.has(callId) && !sippDone) {
        const all = await queryStreams(stack.rtpengine, callId).catch(() => []);
        const callerStream = all.find((s) => s.tag === tags.caller);
        const fsStream = all.find((s) => s.tag === tags.featureServer);
        if (callerStream && fsStream)
          samples.push({ at: Date.now(), caller: callerStream, featureServer: fsStream });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const endedAt = Date.now();
      const [callerResult, fsResult] = await Promise.all([caller, fs.done]);
      return { caller: callerResult, featureServer: fsResult, callerProbe, fsProbe, samples, endedAt };
    } finally {
      callerProbe.close();
      fsProbe.close();
    }
  }

  it('INFO from the feature server: mute / unmute block its media towards the caller, Dtmf plays an RFC 2833 event, others are relayed', async () => {
    const call = await runCall('dlg-caller-info', 'dlg-fs-info');
    expect(call.caller.ok, call.caller.describe()).toBe(true);
    expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
    const fsMessages = call.featureServer.messages;

    // The SBC answered mute, unmute and Dtmf itself (200), the malformed Dtmf 400.
    expect(answersTo(fsMessages, '1 INFO')[0]).toMatch(/^SIP\/2\.0 200/);
    expect(answersTo(fsMessages, '2 INFO')[0]).toMatch(/^SIP\/2\.0 200/);
    expect(answersTo(fsMessages, '3 INFO')[0]).toMatch(/^SIP\/2\.0 200/);
    expect(answersTo(fsMessages, '4 INFO')[0]).toMatch(/^SIP\/2\.0 400/);
    // The ordinary INFO went to the caller, whose answer (and body) came back.
    const relayed = answersTo(fsMessages, '5 INFO')[0] ?? '';
    expect(relayed).toMatch(/^SIP\/2\.0 200/);
    expect(relayed).toMatch(/caller got it/);
    const callerInfos = allLogged(call.caller.messages, 'INFO sip:');
    expect(callerInfos).toHaveLength(1);
    expect(callerInfos[0]).toMatch(/\nX-Reason: app-event\s*\n/);
    expect(callerInfos[0]).toMatch(/\{"hello":"caller"\}/);

    // Muted: the caller heard nothing from the feature server for about the 1.5 s between mute and
    // unmute, then heard it again; the feature server kept hearing the caller all along.
    const gap = call.callerProbe.longestAudioGap();
    expect(gap.ms).toBeGreaterThan(1000);
    expect(gap.ms).toBeLessThan(2500);
    expect(call.callerProbe.audioBetween(gap.from + gap.ms, call.endedAt)).toBeGreaterThan(50);
    expect(call.fsProbe.audioBetween(gap.from + 100, gap.from + gap.ms - 100)).toBeGreaterThan(30);
    // ... while rtpengine kept receiving the feature server's packets (it dropped them).
    const during = call.samples.filter((s) => s.at > gap.from && s.at < gap.from + gap.ms);
    expect(during.length).toBeGreaterThan(2);
    expect(during.at(-1)!.featureServer.packets).toBeGreaterThan(during[0]!.featureServer.packets + 20);

    // Dtmf: the caller received telephone-event packets for digit 5 (and no other digit).
    expect(call.callerProbe.events()).toEqual([5]);
    expect(call.fsProbe.events()).toEqual([]);
  });

  it('RFC 2833 from the caller: the feature server also gets the digit as INFO application/dtmf-relay (rtpengine --dtmf-log-dest)', async () => {
    const call = await runCall('dlg-caller-talk', 'dlg-fs-dtmf-info', (probes) => {
      setTimeout(() => probes.caller.sendDtmf(9, 200), 800);
    });
    expect(call.caller.ok, call.caller.describe()).toBe(true);
    expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
    // The event went through rtpengine in the RTP too, and came as one INFO with rtpengine's duration.
    expect(call.fsProbe.events()).toEqual([9]);
    const infos = allLogged(call.featureServer.messages, 'INFO sip:');
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatch(/\nContent-Type: application\/dtmf-relay\s*\n/);
    expect(infos[0]).toMatch(/\r?\n\r?\nSignal=9\r?\nDuration=200\s*$/);
    expect(sbc().app.dtmfEvents?.counts.delivered).toBe(1);
  });

  it('RFC 2833 played by sipp (its capture of digit 5) reaches the feature server as an INFO too', async () => {
    const fsProbe = await RtpProbe.open(FS_ADDRESS);
    try {
      const fs = await startSipp({
        scenario: scenario('dlg-fs-dtmf-info'),
        localAddress: FS_ADDRESS,
        keys: { rtp_ip: fsProbe.address, rtp_port: fsProbe.port },
        timeoutMs: 15_000,
      });
      await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
      const caller = await westcoCall(stack, 'dlg-caller-dtmf-pcap', { timeoutMs: 15_000 });
      const fsResult = await fs.done;
      expect(caller.ok, caller.describe()).toBe(true);
      expect(fsResult.ok, fsResult.describe()).toBe(true);
      expect(fsProbe.events()).toEqual([5]);
      const infos = allLogged(fsResult.messages, 'INFO sip:');
      expect(infos).toHaveLength(1);
      expect(infos[0]).toMatch(/\nContent-Type: application\/dtmf-relay\s*\n/);
      expect(infos[0]).toMatch(/\r?\n\r?\nSignal=5\r?\nDuration=\d+\s*$/);
    } finally {
      fsProbe.close();
    }
  });

  it('a carrier whose dtmf_type is info gets the feature server’s Dtmf as an INFO, not RFC 2833', async () => {
    await stack.db.execute("UPDATE voip_carriers SET dtmf_type = 'info' WHERE voip_carrier_sid = ?", [
      JAMBONZ.carriers.westcoMain,
    ]);
    try {
      const call = await runCall('dlg-caller-dtmf-info', 'dlg-fs-info');
      expect(call.caller.ok, call.caller.describe()).toBe(true);
      expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
      expect(answersTo(call.featureServer.messages, '3 INFO')[0]).toMatch(/^SIP\/2\.0 200/);
      const callerInfos = allLogged(call.caller.messages, 'INFO sip:');
      expect(callerInfos).toHaveLength(2);
      expect(callerInfos[0]).toMatch(/\nContent-Type: application\/dtmf-relay\s*\n/);
      expect(callerInfos[0]).toMatch(/\r?\n\r?\nSignal=5\r?\nDuration=400\s*$/);
      expect(callerInfos[0]).not.toMatch(/X-Reason/);
      expect(callerInfos[1]).toMatch(/\nX-Reason: app-event\s*\n/);
      expect(call.callerProbe.events()).toEqual([]);
    } finally {
      await stack.db.execute("UPDATE voip_carriers SET dtmf_type = 'rfc2833' WHERE voip_carrier_sid = ?", [
        JAMBONZ.carriers.westcoMain,
      ]);
    }
  });

  it('INVITE with Replaces: the new caller takes the call (feature server re-INVITEd, old caller BYEd, audio with the new caller); wrong tags 481, unknown call 404', async () => {
    const [oldProbe, newProbe, fsProbe] = await Promise.all([
      RtpProbe.open(CALLER_ADDRESS),
      RtpProbe.open(CALLER_ADDRESS),
      RtpProbe.open(FS_ADDRESS),
    ]);
    const fs = await startSipp({
      scenario: scenario('dlg-fs-replaced'),
      localAddress: FS_ADDRESS,
      keys: { rtp_ip: fsProbe.address, rtp_port: fsProbe.port },
      timeoutMs: 15_000,
    });
    await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
    const [oldCaller, newCaller] = await Promise.all([
      RawCaller.open(CALLER_ADDRESS, stack.engine.sipTarget),
      RawCaller.open(CALLER_ADDRESS, stack.engine.sipTarget),
    ]);
    try {
      const first = await oldCaller.invite({
        host: 'jambonz.org',
        body: sdpOffer(CALLER_ADDRESS, oldProbe.port),
      });
      expect(first.status).toBe(200);
      await waitUntil(() => Promise.resolve(sbc().app.calls.size === 1), {
        what: 'the call',
        timeoutMs: 2000,
      });
      const call = [...sbc().app.calls.values()][0]!;
      const rtpCallId = [...sbc().app.calls.keys()][0]!;
      const { callId, localTag, remoteTag } = call.callerDialog;
      expect(callId).toBe(first.callId);

      // RFC 3891 §3: to-tag is the SBC's tag, from-tag the caller's; anything else names no dialog.
      const wrongTags = await newCaller.invite({
        host: 'jambonz.org',
        headers: [`Replaces: ${callId};to-tag=${remoteTag};from-tag=${localTag}`],
      });
      expect(wrongTags.status).toBe(481);
      const unknown = await newCaller.invite({
        host: 'jambonz.org',
        headers: ['Replaces: no-such-call@127.0.0.1;to-tag=a;from-tag=b'],
      });
      expect(unknown.status).toBe(404);
      const earlyOnly = await newCaller.invite({
        host: 'jambonz.org',
        headers: [`Replaces: ${callId};to-tag=${localTag};from-tag=${remoteTag};early-only`],
      });
      expect(earlyOnly.status).toBe(486);

      const replaced = await newCaller.invite({
        host: 'jambonz.org',
        body: sdpOffer(CALLER_ADDRESS, newProbe.port),
        headers: [`Replaces: ${callId};to-tag=${localTag};from-tag=${remoteTag}`],
      });
      expect(replaced.status).toBe(200);
      await waitUntil(() => Promise.resolve(oldCaller.requests.some((r) => r.startsWith('BYE '))), {
        what: 'the replaced caller to get a BYE',
        timeoutMs: 3000,
      });
      // Still one call, now with the new caller's dialog.
      expect(sbc().app.calls.size).toBe(1);
      expect(call.callerDialog.callId).toBe(replaced.callId);

      // rtpengine now sends the feature server's audio to the new caller, and the new caller's to it.
      let streams: { caller: QueriedStream; featureServer: QueriedStream } | undefined;
      await waitUntil(
        async () => {
          const all = await queryStreams(stack.rtpengine, rtpCallId);
          const caller = all.find((s) => s.endpointPort === newProbe.port);
          const featureServer = all.find((s) => s.endpointPort === fsProbe.port);
          streams = caller && featureServer ? { caller, featureServer } : undefined;
          return streams !== undefined;
        },
        { what: 'rtpengine to know the new caller', timeoutMs: 3000 },
      );
      const from = Date.now();
      newProbe.startSending(stack.rtpengine.host, streams!.caller.localPort);
      fsProbe.startSending(stack.rtpengine.host, streams!.featureServer.localPort);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(newProbe.audioBetween(from, Date.now())).toBeGreaterThan(30);
      expect(fsProbe.audioBetween(from, Date.now())).toBeGreaterThan(30);
      expect(oldProbe.audioBetween(from, Date.now())).toBe(0);

      expect(await replaced.hangUp()).toBe(200);
      const fsResult = await fs.done;
      expect(fsResult.ok, fsResult.describe()).toBe(true);
      // The feature server saw the first INVITE and one re-INVITE, whose SDP is rtpengine's.
      const invites = allLogged(fsResult.messages, 'INVITE sip:');
      expect(invites).toHaveLength(2);
      expect(invites[1]).toMatch(new RegExp(`c=IN IP4 ${stack.rtpengine.host.replace(/\./g, '\\.')}`));
      await waitUntil(() => Promise.resolve(sbc().app.calls.size === 0), {
        what: 'the call to end',
        timeoutMs: 3000,
      });
    } finally {
      for (const p of [oldProbe, newProbe, fsProbe]) p.close();
      oldCaller.close();
      newCaller.close();
    }
  });

  it('two instances on one engine: a Replaces INVITE reaching the one without the call is answered 503 (the other answers it)', async () => {
    const other = await startInbound(stack, { DTMF_LISTEN_PORT: '0' });
    const fs = await startSipp({
      scenario: scenario('uas-fs-answer'),
      localAddress: FS_ADDRESS,
      timeoutMs: 15_000,
    });
    const caller = await RawCaller.open(CALLER_ADDRESS, stack.engine.sipTarget);
    const transferTarget = await RawCaller.open(CALLER_ADDRESS, stack.engine.sipTarget);
    try {
      await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
      const call = await caller.invite({ host: 'jambonz.org' });
      expect(call.status).toBe(200);
      const apps = [sbc().app, other.app];
      await waitUntil(() => Promise.resolve(apps.some((app) => app.calls.size === 1)), {
        what: 'the call',
        timeoutMs: 2000,
      });
      const holder = apps.find((app) => app.calls.size === 1)!;
      const { callId, remoteTag } = [...holder.calls.values()][0]!.callerDialog;
      // The engine hands INVITEs to its two apps in turn: two attempts reach both. Wrong tags, so
      // that the holder answers 481 and the call stays.
      const answers = [];
      for (let i = 0; i < 2; i++) {
        answers.push(
          await transferTarget.invite({
            host: 'jambonz.org',
            headers: [`Replaces: ${callId};to-tag=not-ours;from-tag=${remoteTag}`],
          }),
        );
      }
      expect(answers.map((a) => a.status).sort()).toEqual([481, 503]);
      const elsewhere = answers.find((a) => a.status === 503)!;
      expect(elsewhere.response.header('X-Reason')).toBe(
        'replaced call is held by another sbc-inbound instance',
      );
      expect(elsewhere.response.header('Retry-After')).toBe('1');
      expect(await call.hangUp()).toBe(200);
      expect((await fs.done).ok).toBe(true);
      await waitUntil(() => Promise.resolve(apps.every((app) => app.calls.size === 0)), {
        what: 'the call to end',
        timeoutMs: 3000,
      });
    } finally {
      caller.close();
      transferTarget.close();
      await other.stop();
    }
  });

  it('SIPREC client: start / pause / resume / stop from the feature server; the SRS gets the multipart INVITE and both parties’ media, none while paused', async () => {
    const [srsProbe1, srsProbe2] = await Promise.all([
      RtpProbe.open(SRS_ADDRESS),
      RtpProbe.open(SRS_ADDRESS),
    ]);
    const srs = await startSipp({
      scenario: scenario('dlg-srs'),
      localAddress: SRS_ADDRESS,
      keys: { rtp_ip: SRS_ADDRESS, rtp_port: srsProbe1.port, rtp_port2: srsProbe2.port },
      timeoutMs: 15_000,
    });
    try {
      const call = await runCall('dlg-caller-talk-long', 'dlg-fs-record', undefined, {
        srs_url: `sip:srs@${SRS_ADDRESS}:${srs.localPort}`,
      });
      expect(call.caller.ok, call.caller.describe()).toBe(true);
      expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
      const srsResult = await srs.done;
      expect(srsResult.ok, srsResult.describe()).toBe(true);
      const fsMessages = call.featureServer.messages;
      // start 200, a second start 400, pause 200, resume 200, stop 200, a second stop 400.
      expect(
        ['1', '2', '3', '4', '5', '6'].map((n) => answersTo(fsMessages, `${n} INFO`)[0]?.slice(8, 11)),
      ).toEqual(['200', '400', '200', '200', '200', '400']);

      // RFC 7866: Require: siprec, a multipart body with the SDP (m-lines labelled) and the metadata.
      const invites = allLogged(srsResult.messages, 'INVITE sip:');
      expect(invites).toHaveLength(3);
      const invite = invites[0]!;
      expect(invite).toMatch(/\nRequire: siprec\s*\n/);
      expect(invite).toMatch(/\nContent-Type: multipart\/mixed;boundary=uniqueBoundary\s*\n/);
      expect(invite).toMatch(/\nX-Custom: hello srs\s*\n/);
      expect(invite).toMatch(
        /Content-Type: application\/sdp[\s\S]*m=audio[\s\S]*a=label:1[\s\S]*m=audio[\s\S]*a=label:2/,
      );
      expect(invite).toMatch(/Content-Type: application\/rs-metadata\+xml/);
      expect(invite).toMatch(/<jb:callsid>call-sid-srs-test<\/jb:callsid>/);
      expect(invite).toMatch(/<jb:recordingid>rec-1<\/jb:recordingid>/);
      expect(invite).toMatch(/<jb:callingnumber>15085551212<\/jb:callingnumber>/);
      expect(invite).toMatch(/<nameID aor="sip:15085551212@/);
      // Pause and resume re-INVITEs: inactive, then sendonly again.
      expect(invites[1]).toMatch(/a=inactive/);
      expect(invites[1]).not.toMatch(/a=sendonly/);
      expect(invites[2]).toMatch(/a=sendonly/);

      // The SRS heard both parties (one stream each) and nothing for about the second of the pause.
      expect(srsProbe1.audioBetween(0, Date.now())).toBeGreaterThan(40);
      expect(srsProbe2.audioBetween(0, Date.now())).toBeGreaterThan(40);
      for (const probe of [srsProbe1, srsProbe2]) {
        const gap = probe.longestAudioGap();
        expect(gap.ms).toBeGreaterThan(700);
        expect(gap.ms).toBeLessThan(2500);
      }
      // ... while the parties kept hearing each other.
      expect(call.callerProbe.longestAudioGap().ms).toBeLessThan(500);
      expect(call.fsProbe.longestAudioGap().ms).toBeLessThan(500);
    } finally {
      srsProbe1.close();
      srsProbe2.close();
    }
  });

  it('SIPREC client: an SRS that never answers gets the feature server a 400 after JAMBONES_RECORDING_NO_ANSWER_TIMEOUT, and the call goes on', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, SRS_ADDRESS, resolve));
    try {
      const call = await runCall('dlg-caller-talk', 'dlg-fs-record-no-srs', undefined, {
        srs_url: `sip:srs@${SRS_ADDRESS}:${silent.address().port}`,
      });
      expect(call.caller.ok, call.caller.describe()).toBe(true);
      expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
      expect(answersTo(call.featureServer.messages, '1 INFO')[0]).toMatch(/^SIP\/2\.0 400/);
      // Two-way audio to the end.
      expect(call.callerProbe.longestAudioGap().ms).toBeLessThan(500);
    } finally {
      silent.close();
    }
  });

  it('DTMF INFO and REFER from the caller: RFC 2833 towards the feature server; REFER with three headers, NOTIFY back', async () => {
    const call = await runCall('dlg-caller-dtmf-refer', 'dlg-fs-caller-refer');
    expect(call.caller.ok, call.caller.describe()).toBe(true);
    expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
    const callerMessages = call.caller.messages;

    // The dtmf-relay INFO became telephone-event packets for 7 towards the feature server (and
    // never an INFO there); the malformed one got 400.
    expect(answersTo(callerMessages, '2 INFO')[0]).toMatch(/^SIP\/2\.0 200/);
    expect(answersTo(callerMessages, '3 INFO')[0]).toMatch(/^SIP\/2\.0 400/);
    expect(call.fsProbe.events()).toEqual([7]);
    expect(call.callerProbe.events()).toEqual([]);
    expect(call.featureServer.messages).not.toMatch(/INFO sip:/);

    // The REFER reached the feature server with Refer-To, Referred-By and User-Agent only.
    const refers = allLogged(call.featureServer.messages, 'REFER sip:');
    expect(refers).toHaveLength(1);
    const refer = refers[0]!;
    expect(refer).toMatch(/\nRefer-To: <sip:transfer-target@jambonz\.org>\s*\n/);
    expect(refer).toMatch(/\nReferred-By: <sip:15085551212@127\.0\.38\.20:\d+>\s*\n/);
    expect(refer).toMatch(/\nUser-Agent: dlg-test-phone\s*\n/);
    expect(refer).not.toMatch(/X-Secret/);
    // Its 202 came back, then the feature server's NOTIFY with the sipfrag.
    expect(answersTo(callerMessages, '4 REFER')[0]).toMatch(/^SIP\/2\.0 202/);
    const notify = allLogged(callerMessages, 'NOTIFY sip:')[0] ?? '';
    expect(notify).toMatch(/\nEvent: refer\s*\n/);
    expect(notify).toMatch(/\nContent-Type: message\/sipfrag;version=2\.0\s*\n/);
    expect(notify).toMatch(/SIP\/2\.0 200 OK\s*$/);
    // A REFER without Refer-To: 400 from the SBC.
    expect(answersTo(callerMessages, '5 REFER')[0]).toMatch(/^SIP\/2\.0 400/);
  });

  it('REFER from the feature server: an IP Refer-To goes to the carrier’s DNS-named outbound gateway with +, or untouched on request; no Referred-By is 400', async () => {
    await stack.db.execute(
      `INSERT INTO sip_gateways (sip_gateway_sid, voip_carrier_sid, ipv4, port, inbound, outbound, is_active)
       VALUES ('gw-westco-dns', ?, 'localhost', 5070, 0, 1, 1)`,
      [JAMBONZ.carriers.westcoMain],
    );
    await stack.db.execute('UPDATE voip_carriers SET e164_leading_plus = 1 WHERE voip_carrier_sid = ?', [
      JAMBONZ.carriers.westcoMain,
    ]);
    try {
      const call = await runCall('dlg-caller-refer', 'dlg-fs-refer');
      expect(call.caller.ok, call.caller.describe()).toBe(true);
      expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
      const refers = allLogged(call.caller.messages, 'REFER sip:');
      expect(refers).toHaveLength(2);
      const [rewritten = '', untouched = ''] = refers;
      expect(rewritten).toMatch(/\nRefer-To: <sip:\+15557778888@localhost:5070;transport=udp>\s*\n/);
      expect(rewritten).toMatch(/\nReferred-By: <sip:fs@127\.0\.1\.10:\d+>\s*\n/);
      expect(rewritten).toMatch(/\nX-Transfer-Note: keep-me\s*\n/);
      expect(rewritten).toMatch(/\nContact: <sip:[^>]+>\s*\n/);
      expect(untouched).toMatch(/\nRefer-To: <sip:15557778888@127\.0\.1\.99:5080>\s*\n/);
      expect(untouched).not.toMatch(/X-Refer-To-Leave-Untouched/i);
      const fsMessages = call.featureServer.messages;
      expect(answersTo(fsMessages, '1 REFER')[0]).toMatch(/^SIP\/2\.0 202/);
      expect(answersTo(fsMessages, '2 REFER')[0]).toMatch(/^SIP\/2\.0 202/);
      expect(answersTo(fsMessages, '3 REFER')[0]).toMatch(/^SIP\/2\.0 400/);
    } finally {
      await stack.db.execute("DELETE FROM sip_gateways WHERE sip_gateway_sid = 'gw-westco-dns'");
      await stack.db.execute('UPDATE voip_carriers SET e164_leading_plus = 0 WHERE voip_carrier_sid = ?', [
        JAMBONZ.carriers.westcoMain,
      ]);
    }
  });

  it('REFER from the feature server: without a DNS-named carrier gateway an IP Refer-To goes to the caller’s own address', async () => {
    const call = await runCall('dlg-caller-refer', 'dlg-fs-refer');
    expect(call.caller.ok, call.caller.describe()).toBe(true);
    expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
    const [rewritten = ''] = allLogged(call.caller.messages, 'REFER sip:');
    const callerPort = /\nVia: SIP\/2\.0\/UDP 127\.0\.38\.20:(\d+)/.exec(call.caller.messages)?.[1];
    expect(callerPort).toBeDefined();
    expect(rewritten).toMatch(
      new RegExp(`\\nRefer-To: <sip:15557778888@127\\.0\\.38\\.20:${callerPort};transport=udp>\\s*\\n`),
    );
  });

  it('hold then unhold (caller re-INVITEs sendonly, sendrecv) leaves audio flowing both ways', async () => {
    const call = await runCall('dlg-caller-hold', 'dlg-fs-hold');
    expect(call.caller.ok, call.caller.describe()).toBe(true);
    expect(call.featureServer.ok, call.featureServer.describe()).toBe(true);
    // Both re-INVITEs went through rtpengine to the feature server.
    const reinvites = allLogged(call.featureServer.messages, 'INVITE sip:').slice(1);
    expect(reinvites).toHaveLength(2);
    expect(reinvites[0]).toMatch(/a=sendonly/);
    expect(reinvites[1]).toMatch(/a=sendrecv/);
    // The caller hangs up 2 s after the unhold: the last 1.5 s before the end are after it.
    const from = call.endedAt - 1600;
    const to = call.endedAt - 200;
    expect(call.callerProbe.audioBetween(from, to), 'feature server → caller after unhold').toBeGreaterThan(
      40,
    );
    expect(call.fsProbe.audioBetween(from, to), 'caller → feature server after unhold').toBeGreaterThan(40);
    // rtpengine's counters of both parties grew over that window too.
    const before = call.samples.find((s) => s.at >= from);
    const after = call.samples.filter((s) => s.at <= to).at(-1);
    expect(before && after).toBeTruthy();
    expect(after!.caller.packets - before!.caller.packets).toBeGreaterThan(30);
    expect(after!.featureServer.packets - before!.featureServer.packets).toBeGreaterThan(30);
  });
});

describe('a call from Microsoft Teams', () => {
  const TEAMS_PROXY = '127.0.9.9';
  const TEAMS_ENDPOINT = '127.0.9.10';
  let endpointPort = 0;
  beforeAll(async () => {
    endpointPort = await freeUdpPort(TEAMS_ENDPOINT);
    await stack.db.execute(
      `INSERT INTO ms_teams_tenants (ms_teams_tenant_sid, service_provider_sid, account_sid, application_sid, tenant_fqdn)
       VALUES ('tt-refer', ?, ?, ?, 'contoso.teams.test')`,
      [JAMBONZ.sp, JAMBONZ.accounts.main, JAMBONZ.apps.test],
    );
  });
  const sbc = useAppOf(
    () => stack,
    () => ({
      MS_TEAMS_SIP_PROXY_IPS: TEAMS_PROXY,
      SBC_TEAMS_OUTBOUND_PROXY: `${TEAMS_ENDPOINT}:${endpointPort}`,
    }),
  );
  vi.setConfig({ testTimeout: 40_000 });

  it('Teams’ transfer REFER is carried out by the SBC: 202, an INVITE to the Teams endpoint, sipfrag NOTIFYs, the new leg replaces the old', async () => {
    const fs = await startSipp({
      scenario: scenario('uas-fs-answer'),
      localAddress: FS_ADDRESS,
      timeoutMs: 15_000,
    });
    const endpoint = await startSipp({
      scenario: scenario('dlg-teams-new-leg'),
      localAddress: TEAMS_ENDPOINT,
      localPort: endpointPort,
      timeoutMs: 15_000,
    });
    const teams = await RawCaller.open(TEAMS_PROXY, stack.engine.sipTarget);
    try {
      await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
      const call = await teams.invite({ host: 'contoso.teams.test', did: '+15083871234' });
      expect(call.status).toBe(200);
      await waitUntil(() => Promise.resolve(sbc().app.calls.size === 1), {
        what: 'the call',
        timeoutMs: 2000,
      });

      // A REFER to a user is the feature server's (relayed as from any caller)…
      // …but Teams' own transfer (no user, Teams' SIP endpoint) is the SBC's.
      const refer = await call.request('REFER', [
        'Refer-To: <sip:sip.pstnhub.microsoft.com;transport=udp>',
        'Referred-By: <sip:+15083871234@contoso.teams.test>',
        'User-Agent: Microsoft.PSTNHub.SIPProxy v.2024.1.1',
      ]);
      expect(refer.status).toBe(202);
      // rtpengine takes the new leg's media in the old one's place (the old Teams leg offered port 40000).
      const rtpCallId = [...sbc().app.calls.keys()][0]!;
      await waitUntil(
        async () => {
          const streams = await queryStreams(stack.rtpengine, rtpCallId);
          return streams.length === 2 && streams.every((stream) => stream.endpointPort !== 40_000);
        },
        { what: 'rtpengine to send the caller side to the new Teams leg', timeoutMs: 3000 },
      );

      const endpointResult = await endpoint.done;
      expect(endpointResult.ok, endpointResult.describe()).toBe(true);
      const invite = allLogged(endpointResult.messages, 'INVITE sip:')[0] ?? '';
      expect(invite).toMatch(/^INVITE sip:sip\.pstnhub\.microsoft\.com/);
      expect(invite).toMatch(/\nFrom: <?sip:15085551212@contoso\.teams\.test>?;tag=/);
      expect(invite).toMatch(new RegExp(`c=IN IP4 ${stack.rtpengine.host.replace(/\./g, '\\.')}`));

      // Teams heard the progress (RFC 3515 sipfrag NOTIFYs, the last one final) and then a BYE.
      await waitUntil(() => Promise.resolve(teams.requests.some((r) => r.startsWith('BYE '))), {
        what: 'the old Teams leg to get a BYE',
        timeoutMs: 3000,
      });
      const notifies = teams.requests.filter((r) => r.startsWith('NOTIFY '));
      const frags = notifies.map((n) => /\r\n\r\n(SIP\/2\.0 \d+)/.exec(n)?.[1]);
      expect(frags).toEqual(expect.arrayContaining(['SIP/2.0 100', 'SIP/2.0 180', 'SIP/2.0 200']));
      expect(frags.at(-1)).toBe('SIP/2.0 200');
      expect(notifies.at(-1)).toMatch(/\r\nSubscription-State: terminated/);
      expect(
        notifies.every(
          (n) => /\r\nEvent: refer\r\n/.test(n) && /Content-Type: message\/sipfrag;version=2\.0/.test(n),
        ),
      ).toBe(true);
      // The new leg's BYE ended the call: the feature server was hung up on.
      expect((await fs.done).ok).toBe(true);
      await waitUntil(() => Promise.resolve(sbc().app.calls.size === 0), {
        what: 'the call to end',
        timeoutMs: 3000,
      });
      expect(sbc().records.cdrs.at(-1)).toMatchObject({ answered: true, trunk: 'Microsoft Teams' });
    } finally {
      teams.close();
    }
  });
});
