/**
 * What a feature server does to a call's media path (reference §2.9): re-INVITEs with `X-Reason:
 * release-media` / `anchor-media` (rtpengine re-pointed, the caller not re-INVITEd) and, with
 * JAMBONES_ENABLE_FULL_MEDIA_RELEASE, `release-media-entirely` (the caller re-INVITEd with the
 * partner's SDP from Redis, the rtpengine session deleted); a `context-…` REFER moving the call to
 * another feature server. sipp does the SIP; RtpProbes are the caller, the feature server and the
 * "partner" the media moves to (the partner call's media, or the second feature server).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ngCommand, startSipp, waitUntil, type SippResult } from '@sbc/testkit';
import {
  featureServerUp,
  JAMBONZ,
  scenario,
  allLogged,
  startInboundStack,
  useApp,
  type InboundStack,
  westcoCall,
} from './support/inbound.js';
import { queryStreams, RtpProbe, type QueriedStream } from './support/rtp-probe.js';

let stack: InboundStack;

beforeAll(async () => {
  stack = await startInboundStack();
});
afterAll(async () => {
  await stack?.stop();
});

const FS_ADDRESS = '127.0.1.10';
const PARTNER_ADDRESS = '127.0.1.11';
const CALLER_ADDRESS = JAMBONZ.ip.westco;

interface Probes {
  caller: RtpProbe;
  featureServer: RtpProbe;
  partner: RtpProbe;
}

interface Running {
  callId: string;
  streams: { caller: QueriedStream; featureServer: QueriedStream };
  done: Promise<[SippResult, SippResult]>;
}

/** Starts a westco call to a sipp feature server that re-INVITEs with `reason`; both probes send. */
async function startCall(
  callerScenario: string,
  reason: string,
  probes: Probes,
  calls: () => ReadonlyMap<string, unknown>,
): Promise<Running> {
  const fs = await startSipp({
    scenario: scenario('dlg-fs-release'),
    localAddress: FS_ADDRESS,
    keys: {
      rtp_ip: probes.featureServer.address,
      rtp_port: probes.featureServer.port,
      rtp2_ip: probes.partner.address,
      rtp2_port: probes.partner.port,
      reason,
    },
    timeoutMs: 12_000,
  });
  await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
  const caller = westcoCall(stack, callerScenario, { media: probes.caller, timeoutMs: 12_000 });
  let callId = '';
  let streams: Running['streams'] | undefined;
  await waitUntil(
    async () => {
      callId = [...calls().keys()][0] ?? '';
      if (!callId) return false;
      const all = await queryStreams(stack.rtpengine, callId);
      const c = all.find((s) => s.endpointPort === probes.caller.port);
      const f = all.find((s) => s.endpointPort === probes.featureServer.port);
      if (c && f) streams = { caller: c, featureServer: f };
      return streams !== undefined;
    },
    { what: 'the call with both streams in rtpengine', timeoutMs: 5000 },
  );
  if (!streams) throw new Error('no streams');
  probes.caller.startSending(stack.rtpengine.host, streams.caller.localPort);
  probes.featureServer.startSending(stack.rtpengine.host, streams.featureServer.localPort);
  return { callId, streams, done: Promise.all([caller, fs.done]) };
}

async function withProbes<T>(run: (probes: Probes) => Promise<T>): Promise<T> {
  const [caller, featureServer, partner] = await Promise.all([
    RtpProbe.open(CALLER_ADDRESS),
    RtpProbe.open(FS_ADDRESS),
    RtpProbe.open(PARTNER_ADDRESS),
  ]);
  try {
    return await run({ caller, featureServer, partner });
  } finally {
    caller.close();
    featureServer.close();
    partner.close();
  }
}

describe('feature server re-INVITE with X-Reason: release-media / anchor-media', () => {
  const sbc = useApp(() => stack);
  vi.setConfig({ testTimeout: 30_000 });

  for (const reason of ['release-media', 'anchor-media'] as const) {
    it(`${reason}: rtpengine sends the caller's media to the new address, the caller is not re-INVITEd`, async () => {
      await withProbes(async (probes) => {
        const call = await startCall('dlg-caller-talk', reason, probes, () => sbc().app.calls);
        // The re-INVITE re-points rtpengine's feature-server stream at the partner.
        await waitUntil(
          async () =>
            (await queryStreams(stack.rtpengine, call.callId)).some(
              (s) => s.tag === call.streams.featureServer.tag && s.endpointPort === probes.partner.port,
            ),
          { what: 'rtpengine to send to the partner', timeoutMs: 4000 },
        );
        const switchedAt = Date.now();
        expect(sbc().app.calls.get(call.callId)?.mediaPath).toBe(
          reason === 'release-media' ? 'partial' : 'full',
        );
        probes.featureServer.stop();
        // The partner sends from its own socket to rtpengine's feature-server port (the SDP the
        // feature server got back says so).
        probes.partner.startSending(stack.rtpengine.host, call.streams.featureServer.localPort);
        const [caller, fs] = await call.done;
        const endedAt = Date.now();
        expect(caller.ok, caller.describe()).toBe(true);
        expect(fs.ok, fs.describe()).toBe(true);

        // The caller never got a re-INVITE (its scenario would have failed) and the feature server's
        // 200 is rtpengine's SDP with the same port it had.
        expect(allLogged(caller.messages, 'INVITE sip:')).toHaveLength(1);
        const answer = allLogged(fs.messages, 'SIP/2.0 200').find((m) => /CSeq: 1 INVITE/.test(m)) ?? '';
        expect(answer).toMatch(new RegExp(`m=audio ${call.streams.featureServer.localPort} RTP/AVP`));
        expect(answer).toMatch(/c=IN IP4 127\.0\.0\.1/);

        // Media after the switch: the caller's audio reaches the partner (not the old feature
        // server), and the partner's audio reaches the caller.
        const from = switchedAt + 300;
        const to = endedAt - 300;
        expect(to - from).toBeGreaterThan(1000);
        const frames = (to - from) / 20;
        expect(probes.partner.audioBetween(from, to), 'caller → partner').toBeGreaterThan(frames * 0.7);
        expect(probes.caller.audioBetween(from, to), 'partner → caller').toBeGreaterThan(frames * 0.7);
        expect(probes.featureServer.audioBetween(from, to), 'caller → old feature server address').toBe(0);
        // Not recorded: JAMBONES_RECORD_ALL_CALLS is off here (see its own test below).
        const recorded = readdirSync(join(stack.recordingDir, 'pcaps'));
        expect(recorded.some((name) => name.startsWith(`${encodeURIComponent(call.callId)}-`))).toBe(false);
      });
    });
  }

  it('release-media-entirely without JAMBONES_ENABLE_FULL_MEDIA_RELEASE is an ordinary re-INVITE (the caller gets rtpengine’s offer)', async () => {
    await withProbes(async (probes) => {
      const call = await startCall(
        'dlg-caller-released',
        'release-media-entirely',
        probes,
        () => sbc().app.calls,
      );
      const [caller, fs] = await call.done;
      expect(caller.ok, caller.describe()).toBe(true);
      expect(fs.ok, fs.describe()).toBe(true);
      const reinvite = allLogged(caller.messages, 'INVITE sip:')[1] ?? '';
      expect(reinvite).toMatch(/c=IN IP4 127\.0\.0\.1/);
      expect(reinvite).toMatch(new RegExp(`m=audio ${call.streams.caller.localPort} RTP/AVP`));
    });
  });
});

describe('REFER from the feature server to sip:context-… (move the call to another feature server)', () => {
  const sbc = useApp(() => stack);
  vi.setConfig({ testTimeout: 30_000 });

  it('202, a new leg to the Refer-To with the current SDP and X-Retain-Call-Sid / X-Account-Sid, the old leg hung up; audio flows with the new feature server', async () => {
    await withProbes(async (probes) => {
      // probes.partner is the second feature server's media.
      const fs2 = await startSipp({
        scenario: scenario('dlg-fs-moved'),
        localAddress: PARTNER_ADDRESS,
        keys: { rtp_ip: probes.partner.address, rtp_port: probes.partner.port },
        timeoutMs: 12_000,
      });
      const fs1 = await startSipp({
        scenario: scenario('dlg-fs-move'),
        localAddress: FS_ADDRESS,
        keys: {
          rtp_ip: probes.featureServer.address,
          rtp_port: probes.featureServer.port,
          fs2: `${PARTNER_ADDRESS}:${fs2.localPort}`,
        },
        timeoutMs: 12_000,
      });
      await featureServerUp(stack, `${FS_ADDRESS}:${fs1.localPort}`);
      const callerRun = westcoCall(stack, 'dlg-caller-talk', { media: probes.caller, timeoutMs: 12_000 });
      let callId = '';
      let streams: { caller: QueriedStream; featureServer: QueriedStream } | undefined;
      await waitUntil(
        async () => {
          callId = [...sbc().app.calls.keys()][0] ?? '';
          if (!callId) return false;
          const all = await queryStreams(stack.rtpengine, callId);
          const c = all.find((s) => s.endpointPort === probes.caller.port);
          const f = all.find((s) => s.endpointPort === probes.featureServer.port);
          if (c && f) streams = { caller: c, featureServer: f };
          return streams !== undefined;
        },
        { what: 'the call with both streams in rtpengine', timeoutMs: 5000 },
      );
      if (!streams) throw new Error('no streams');
      const fsStream = streams.featureServer;
      probes.caller.startSending(stack.rtpengine.host, streams.caller.localPort);
      probes.featureServer.startSending(stack.rtpengine.host, fsStream.localPort);
      // The move: rtpengine's feature-server stream (same tag, same port) now points at fs2's media.
      await waitUntil(
        async () =>
          (await queryStreams(stack.rtpengine, callId)).some(
            (s) => s.tag === fsStream.tag && s.endpointPort === probes.partner.port,
          ),
        { what: 'rtpengine to send to the second feature server', timeoutMs: 4000 },
      );
      const movedAt = Date.now();
      probes.featureServer.stop();
      probes.partner.startSending(stack.rtpengine.host, fsStream.localPort);
      const [caller, first, second] = await Promise.all([callerRun, fs1.done, fs2.done]);
      const endedAt = Date.now();
      expect(caller.ok, caller.describe()).toBe(true);
      expect(first.ok, first.describe()).toBe(true);
      expect(second.ok, second.describe()).toBe(true);

      // fs1: 202 to its REFER, then the SBC's BYE (its scenario waits for both).
      expect(first.messages).toMatch(/SIP\/2\.0 202/);
      // fs2: an INVITE to the Refer-To URI with the two headers (not the others) and the SDP fs1 had.
      const invite = allLogged(second.messages, 'INVITE sip:')[0] ?? '';
      expect(invite).toMatch(/^INVITE sip:context-moved-call@127\.0\.1\.11:\d+ SIP\/2\.0/);
      expect(invite).toMatch(/\nX-Retain-Call-Sid: call-sid-kept\s*\n/);
      expect(invite).toMatch(/\nX-Account-Sid: account-of-the-call\s*\n/);
      expect(invite).not.toMatch(/X-Not-Carried/);
      expect(invite).toMatch(new RegExp(`m=audio ${fsStream.localPort} RTP/AVP`));
      // The caller was never re-INVITEd; its BYE ended the call on fs2.
      expect(allLogged(caller.messages, 'INVITE sip:')).toHaveLength(1);
      expect(second.messages).toMatch(/BYE sip:/);

      // Audio after the move: caller ⇄ fs2 both ways, nothing to fs1's media any more.
      const from = movedAt + 300;
      const to = endedAt - 300;
      expect(to - from).toBeGreaterThan(1000);
      const frames = (to - from) / 20;
      expect(probes.partner.audioBetween(from, to), 'caller → fs2').toBeGreaterThan(frames * 0.7);
      expect(probes.caller.audioBetween(from, to), 'fs2 → caller').toBeGreaterThan(frames * 0.7);
      expect(probes.featureServer.audioBetween(from, to), 'caller → fs1').toBe(0);
    });
  });
});

describe('feature server re-INVITE with X-Reason: release-media-entirely (JAMBONES_ENABLE_FULL_MEDIA_RELEASE)', () => {
  const sbc = useApp(() => stack, { JAMBONES_ENABLE_FULL_MEDIA_RELEASE: '1' });
  vi.setConfig({ testTimeout: 30_000 });

  it('saves the caller SDP as a_sdp, re-INVITEs the caller with b_sdp, deletes the rtpengine session; the call goes on', async () => {
    await withProbes(async (probes) => {
      const partnerSdp = [
        'v=0',
        'o=partner 7 7 IN IP4 127.0.1.11',
        's=-',
        `c=IN IP4 ${probes.partner.address}`,
        't=0 0',
        `m=audio ${probes.partner.port} RTP/AVP 8 101`,
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=sendrecv',
        '',
      ].join('\r\n');
      const call = await startCall('dlg-caller-released', 'release-media-entirely', probes, () => {
        const calls = sbc().app.calls;
        // Written by the partner call's SBC in jambonz; here, as soon as the call exists.
        for (const id of calls.keys()) void stack.redisClient.set(`b_sdp:${id}`, partnerSdp, 'EX', 60);
        return calls;
      });
      // a_sdp: the caller's own SDP, for an hour.
      const saved = await stack.redisClient.get(`a_sdp:${call.callId}`);
      expect(saved).toMatch(new RegExp(`m=audio ${probes.caller.port} RTP/AVP 8 101`));
      const ttl = await stack.redisClient.ttl(`a_sdp:${call.callId}`);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);

      // After the re-INVITE, rtpengine no longer knows the call.
      await waitUntil(
        async () =>
          (
            await ngCommand(stack.rtpengine.host, stack.rtpengine.ngPort, {
              command: 'query',
              'call-id': call.callId,
            })
          ).result === 'error',
        { what: 'the rtpengine session to be deleted', timeoutMs: 4000 },
      );
      expect(sbc().app.calls.get(call.callId)?.mediaPath).toBe('none');
      const [caller, fs] = await call.done;
      expect(caller.ok, caller.describe()).toBe(true);
      expect(fs.ok, fs.describe()).toBe(true);
      // The caller's re-INVITE carried the partner's SDP as it was stored.
      const reinvite = allLogged(caller.messages, 'INVITE sip:')[1] ?? '';
      expect(reinvite).toMatch(new RegExp(`c=IN IP4 ${probes.partner.address.replaceAll('.', '\\.')}`));
      expect(reinvite).toMatch(new RegExp(`m=audio ${probes.partner.port} RTP/AVP 8 101`));
      // The feature server got its current SDP back (rtpengine's port it already had).
      const answer = allLogged(fs.messages, 'SIP/2.0 200').find((m) => /CSeq: 1 INVITE/.test(m)) ?? '';
      expect(answer).toMatch(new RegExp(`m=audio ${call.streams.featureServer.localPort} RTP/AVP`));
      // The call went on to the caller's BYE, which reached the feature server.
      expect(fs.messages).toMatch(/BYE sip:/);
      await stack.redisClient.del(`a_sdp:${call.callId}`, `b_sdp:${call.callId}`);
    });
  });
});

/** Packets in a pcap file (records after the 24-byte global header). */
function pcapPackets(file: string): number {
  const data = readFileSync(file);
  let count = 0;
  for (let at = 24; at + 16 <= data.length; at += 16 + data.readUInt32LE(at + 8)) count++;
  return count;
}

describe('JAMBONES_RECORD_ALL_CALLS', () => {
  const sbc = useApp(() => stack, { JAMBONES_RECORD_ALL_CALLS: 'true' });
  vi.setConfig({ testTimeout: 30_000 });

  it('rtpengine records the call (record call: yes): a pcap of its RTP appears in the recording directory', async () => {
    await withProbes(async (probes) => {
      const fs = await startSipp({
        scenario: scenario('dlg-fs-moved'),
        localAddress: FS_ADDRESS,
        keys: { rtp_ip: probes.featureServer.address, rtp_port: probes.featureServer.port },
        timeoutMs: 12_000,
      });
      await featureServerUp(stack, `${FS_ADDRESS}:${fs.localPort}`);
      const caller = westcoCall(stack, 'dlg-caller-talk', { media: probes.caller, timeoutMs: 12_000 });
      let callId = '';
      let streams: QueriedStream[] = [];
      await waitUntil(
        async () => {
          callId = [...sbc().app.calls.keys()][0] ?? '';
          if (!callId) return false;
          streams = await queryStreams(stack.rtpengine, callId);
          return streams.length === 2;
        },
        { what: 'the call with both streams in rtpengine', timeoutMs: 5000 },
      );
      const callerStream = streams.find((s) => s.endpointPort === probes.caller.port)!;
      const fsStream = streams.find((s) => s.endpointPort === probes.featureServer.port)!;
      probes.caller.startSending(stack.rtpengine.host, callerStream.localPort);
      probes.featureServer.startSending(stack.rtpengine.host, fsStream.localPort);
      const [callerResult, fsResult] = await Promise.all([caller, fs.done]);
      expect(callerResult.ok, callerResult.describe()).toBe(true);
      expect(fsResult.ok, fsResult.describe()).toBe(true);
      const sent = probes.caller.sent + probes.featureServer.sent;
      // rtpengine names it after the Call-ID (URI-encoded) and closes it when the call is deleted.
      const pcaps = join(stack.recordingDir, 'pcaps');
      let file = '';
      await waitUntil(
        () => {
          file =
            readdirSync(pcaps, { withFileTypes: true })
              .filter((e) => e.isFile() && e.name.startsWith(`${encodeURIComponent(callId)}-`))
              .map((e) => join(pcaps, e.name))[0] ?? '';
          return Promise.resolve(file !== '' && pcapPackets(file) > 0);
        },
        { what: `a pcap of ${callId}`, timeoutMs: 3000 },
      );
      // Both parties' packets are in it (rtpengine records what it receives from each).
      expect(pcapPackets(file)).toBeGreaterThan(sent * 0.8);
    });
  });
});
