import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ngCommand, startRtpengine, startSipp, waitUntil, type RtpengineService } from '@sbc/testkit';
import { RawCaller, sdpOffer } from './support/raw-caller.js';
import {
  featureServerUp,
  placeCall,
  scenario,
  startFeatureServer,
  startInboundStack,
  useApp as useAppOf,
  type InboundStack,
} from './support/inbound.js';

let stack: InboundStack;

beforeAll(async () => {
  stack = await startInboundStack();
});
afterAll(async () => {
  await stack?.stop();
});

const useApp = (env: Parameters<typeof useAppOf>[1] = {}) => useAppOf(() => stack, env);

async function rtpengineSessions(): Promise<number> {
  const list = await ngCommand(stack.rtpengine.host, stack.rtpengine.ngPort, { command: 'list' });
  return Array.isArray(list.calls) ? list.calls.length : 0;
}

function sdpOf(kind: 'sdes' | 'webrtc', address: string, version = 1): string {
  const lines =
    kind === 'sdes'
      ? [
          'm=audio 7010 RTP/SAVP 0',
          'a=rtpmap:0 PCMU/8000',
          'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
        ]
      : [
          'm=audio 7020 UDP/TLS/RTP/SAVPF 111 0',
          'a=rtpmap:111 opus/48000/2',
          'a=rtpmap:0 PCMU/8000',
          'a=ice-ufrag:F7gI',
          'a=ice-pwd:x9cml/YzichV2+XlhiMu8g',
          'a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39',
          'a=setup:actpass',
          'a=mid:0',
          'a=rtcp-mux',
          `a=candidate:1 1 udp 2130706431 ${address} 7020 typ host`,
        ];
  return [
    `v=0`,
    `o=- 1 ${version} IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    ...lines,
    '',
  ].join('\r\n');
}

describe('media profiles', () => {
  const sbc = useApp();
  /**
   * Until the app holds the call, srf itself answers a re-INVITE with the current SDP: a caller that
   * re-INVITEs within a millisecond of its ACK is not what these tests are about.
   */
  const connected = (callId: string) =>
    waitUntil(() => Promise.resolve(sbc().app.calls.has(callId)), { what: 'the call in the app' });

  it('an SDES-SRTP caller gets RTP/SAVP with a crypto line; the feature server gets plain RTP', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const call = await caller.invite({ host: 'jambonz.org', body: sdpOf('sdes', caller.address) });
      const res = call.response;
      expect(call.status, res.raw).toBe(200);
      expect(res.raw).toMatch(/m=audio \d+ RTP\/SAVP /);
      expect(res.raw).toMatch(/a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/);
      expect(await call.hangUp()).toBe(200);
    } finally {
      caller.close();
    }
    const served = await fs.run.done;
    expect(served.ok, served.describe()).toBe(true);
    const invite = served.messages.slice(served.messages.indexOf('INVITE sip:'));
    expect(invite).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(invite).not.toMatch(/a=crypto/);
  });

  it('a WebRTC (DTLS-SRTP) caller gets a DTLS answer with ICE; the feature server gets plain RTP', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const call = await caller.invite({ host: 'jambonz.org', body: sdpOf('webrtc', caller.address) });
      const res = call.response;
      expect(call.status, res.raw).toBe(200);
      expect(res.raw).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
      expect(res.raw).toMatch(/a=fingerprint:sha-256 /);
      expect(res.raw).toMatch(/a=ice-ufrag:/);
      expect(res.raw).toMatch(/a=rtcp-mux/);
      expect(await call.hangUp()).toBe(200);
    } finally {
      caller.close();
    }
    const served = await fs.run.done;
    expect(served.ok, served.describe()).toBe(true);
    const invite = served.messages.slice(served.messages.indexOf('INVITE sip:'));
    expect(invite).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(invite).not.toMatch(/a=fingerprint|a=ice-ufrag|a=candidate/);
  });

  it('a WebRTC caller’s re-INVITE gets an answer with the same ice-ufrag / ice-pwd as the first (jambonz #94)', async () => {
    const fs = await startSipp({
      scenario: scenario('dlg-fs-reinvite'),
      localAddress: '127.0.1.10',
      keys: { rtp_ip: '127.0.1.10', rtp_port: 7000 },
      timeoutMs: 15_000,
    });
    await featureServerUp(stack, `127.0.1.10:${fs.localPort}`);
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    const ice = (raw: string) => ({
      ufrag: /a=ice-ufrag:(\S+)/.exec(raw)?.[1],
      pwd: /a=ice-pwd:(\S+)/.exec(raw)?.[1],
    });
    try {
      const call = await caller.invite({ host: 'jambonz.org', body: sdpOf('webrtc', caller.address) });
      expect(call.status, call.response.raw).toBe(200);
      await connected(call.callId);
      const first = ice(call.response.raw);
      expect(first.ufrag).toBeDefined();
      expect(first.pwd).toBeDefined();
      const again = await call.reinvite(sdpOf('webrtc', caller.address, 2));
      expect(again.status, again.raw).toBe(200);
      expect(again.raw).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
      expect(ice(again.raw)).toEqual(first);
      expect(await call.hangUp()).toBe(200);
    } finally {
      caller.close();
    }
    const served = await fs.done;
    expect(served.ok, served.describe()).toBe(true);
    // The re-INVITE went through rtpengine to the feature server (not answered from the old SDP).
    expect(served.messages.split('INVITE sip:').length - 1).toBe(2);
  });

  it('a re-INVITE rtpengine refuses gets 488 and the call goes on (a later re-INVITE and the BYE work)', async () => {
    const fs = await startSipp({
      scenario: scenario('dlg-fs-reinvite'),
      localAddress: '127.0.1.10',
      keys: { rtp_ip: '127.0.1.10', rtp_port: 7000 },
      timeoutMs: 15_000,
    });
    await featureServerUp(stack, `127.0.1.10:${fs.localPort}`);
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const call = await caller.invite({ host: 'jambonz.org' });
      expect(call.status, call.response.raw).toBe(200);
      await connected(call.callId);
      // No m= line rtpengine could use: it answers with an error.
      const refused = await call.reinvite(
        'v=0\r\no=- 1 2 IN IP4 127.0.38.20\r\ns=-\r\nm=audio x RTP/AVP\r\n',
      );
      expect(refused.status, refused.raw).toBe(488);
      expect(sbc().app.calls.has(call.callId)).toBe(true);
      const accepted = await call.reinvite(sdpOffer(caller.address));
      expect(accepted.status, accepted.raw).toBe(200);
      expect(await call.hangUp()).toBe(200);
    } finally {
      caller.close();
    }
    const served = await fs.done;
    expect(served.ok, served.describe()).toBe(true);
    // The refused offer never reached the feature server: it saw one re-INVITE only.
    expect(served.messages.split('INVITE sip:').length - 1).toBe(2);
  });

  it('a feature server that vanished after answering leaves nothing behind when the caller hangs up', async () => {
    // The feature server answers, then is gone (sipp exits after the ACK): its BYE is never answered.
    const fs = await startFeatureServer('uas-fs-answer-and-vanish', '127.0.1.12', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const started = Date.now();
    const result = await placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 500 });
    expect(result.ok, result.describe()).toBe(true);
    // The caller's BYE was answered at once, without waiting for the feature server's 32 s timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await rtpengineSessions()).toBe(0);
  });
});

describe('rtpengines from <cluster>:active-rtp (no JAMBONES_RTPENGINES)', () => {
  beforeAll(async () => {
    await stack.sets.touch('active-rtp', stack.rtpengine.host);
  });
  const sbc = useApp(() => ({
    JAMBONES_RTPENGINES: undefined,
    RTPENGINE_PORT: String(stack.rtpengine.ngPort),
  }));

  it('uses the engines sbc-options keeps in the set', async () => {
    expect(
      sbc()
        .app.rtpengines.engines()
        .map((e) => e.id),
    ).toEqual([stack.rtpengine.ngAddress]);
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const result = await placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 200 });
    expect(result.ok, result.describe()).toBe(true);
    expect((await fs.run.done).ok).toBe(true);
  });
});

describe('rtpengines from K8S_RTPENGINE_SERVICE_NAME (resolved in DNS)', () => {
  const sbc = useApp(() => ({
    JAMBONES_RTPENGINES: undefined,
    K8S_RTPENGINE_SERVICE_NAME: `localhost:${stack.rtpengine.ngPort}`,
  }));

  it('uses the addresses the service name resolves to', async () => {
    expect(
      sbc()
        .app.rtpengines.engines()
        .map((e) => e.id),
    ).toEqual([`127.0.0.1:${stack.rtpengine.ngPort}`]);
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const result = await placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 200 });
    expect(result.ok, result.describe()).toBe(true);
    expect((await fs.run.done).ok).toBe(true);
  });
});

describe('rtpengine gone in the middle of a call', () => {
  let engine: RtpengineService;
  beforeAll(async () => {
    engine = await startRtpengine({ interfaceNames: ['private', 'public'] });
  });
  afterAll(async () => {
    await engine?.stop();
  });
  const sbc = useApp(() => ({ JAMBONES_RTPENGINES: engine.ngAddress }));

  it('a re-INVITE then gets 488 (no answer from rtpengine) and the call is not dropped', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const call = await caller.invite({ host: 'jambonz.org' });
      expect(call.status, call.response.raw).toBe(200);
      await waitUntil(() => Promise.resolve(sbc().app.calls.has(call.callId)), { what: 'the call' });
      await engine.stop();
      const reinvite = await call.reinvite(sdpOffer(caller.address));
      expect(reinvite.status, reinvite.raw).toBe(488);
      expect(sbc().app.calls.has(call.callId)).toBe(true);
      // The call still ends normally: BYE answered, the feature server gets its BYE, CDR written.
      expect(await call.hangUp()).toBe(200);
    } finally {
      caller.close();
    }
    const served = await fs.run.done;
    expect(served.ok, served.describe()).toBe(true);
    await waitUntil(() => Promise.resolve(sbc().records.cdrs.length === 1), { what: 'the CDR' });
    expect(sbc().records.cdrs[0]).toMatchObject({ answered: true, termination_reason: 'caller hungup' });
  });
});
