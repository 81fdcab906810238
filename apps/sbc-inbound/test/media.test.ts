import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ngCommand, SipPhone, waitUntil } from '@sbc/testkit';
import {
  clearFeatureServers,
  featureServerUp,
  placeCall,
  startFeatureServer,
  startInbound,
  startInboundStack,
  type InboundStack,
  type RunningInbound,
} from './support/inbound.js';

let stack: InboundStack;

beforeAll(async () => {
  stack = await startInboundStack();
});
afterAll(async () => {
  await stack?.stop();
});

type AppEnv = Record<string, string | undefined>;

/** One app per describe block; `env` may be a function of the stack (read when the app starts). */
function useApp(env: AppEnv | (() => AppEnv) = {}): () => RunningInbound {
  let sbc: RunningInbound | undefined;
  beforeAll(async () => {
    sbc = await startInbound(stack, typeof env === 'function' ? env() : env);
  });
  afterAll(async () => {
    await sbc?.stop();
  });
  afterEach(async () => {
    await clearFeatureServers(stack);
    await waitUntil(() => Promise.resolve((sbc?.app.calls.size ?? 0) === 0), { what: 'calls to end' });
  });
  return () => {
    if (!sbc) throw new Error('app not started');
    return sbc;
  };
}

async function rtpengineSessions(): Promise<number> {
  const list = await ngCommand(stack.rtpengine.host, stack.rtpengine.ngPort, { command: 'list' });
  return Array.isArray(list.calls) ? list.calls.length : 0;
}

/** An INVITE from a carrier (westco, 127.0.38.20) to jambonz.org with `sdp`; resolves with the 200. */
async function callWithSdp(phone: SipPhone, sdp: string) {
  const callId = `${randomBytes(6).toString('hex')}@${phone.address}`;
  const tag = randomBytes(4).toString('hex');
  const head = (method: string, cseq: number, uri: string, extra: string[] = []) =>
    [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${phone.address}:${phone.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:15085551212@${phone.address}>;tag=${tag}`,
      ...extra,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
    ].join('\r\n');
  const invite = `${head('INVITE', 1, 'sip:+16173333456@jambonz.org', ['To: <sip:+16173333456@jambonz.org>'])}\r\nContact: <sip:caller@${phone.address}:${phone.port}>\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
  const res = await phone.send(invite);
  const to = res.header('to') ?? '';
  const contact = /<([^>]+)>/.exec(res.header('contact') ?? '')?.[1] ?? '';
  phone.transmit(`${head('ACK', 1, contact, [`To: ${to}`])}\r\nContent-Length: 0\r\n\r\n`);
  const hangUp = () => phone.send(`${head('BYE', 2, contact, [`To: ${to}`])}\r\nContent-Length: 0\r\n\r\n`);
  return { res, hangUp };
}

function sdpOf(kind: 'sdes' | 'webrtc', address: string): string {
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
  return [`v=0`, `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', ...lines, ''].join(
    '\r\n',
  );
}

describe('media profiles', () => {
  useApp();

  it('an SDES-SRTP caller gets RTP/SAVP with a crypto line; the feature server gets plain RTP', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
    await featureServerUp(stack, fs.hostport);
    const phone = await SipPhone.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const { res, hangUp } = await callWithSdp(phone, sdpOf('sdes', phone.address));
      expect(res.status, res.raw).toBe(200);
      expect(res.raw).toMatch(/m=audio \d+ RTP\/SAVP /);
      expect(res.raw).toMatch(/a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/);
      expect((await hangUp()).status).toBe(200);
    } finally {
      phone.close();
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
    const phone = await SipPhone.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const { res, hangUp } = await callWithSdp(phone, sdpOf('webrtc', phone.address));
      expect(res.status, res.raw).toBe(200);
      expect(res.raw).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
      expect(res.raw).toMatch(/a=fingerprint:sha-256 /);
      expect(res.raw).toMatch(/a=ice-ufrag:/);
      expect(res.raw).toMatch(/a=rtcp-mux/);
      expect((await hangUp()).status).toBe(200);
    } finally {
      phone.close();
    }
    const served = await fs.run.done;
    expect(served.ok, served.describe()).toBe(true);
    const invite = served.messages.slice(served.messages.indexOf('INVITE sip:'));
    expect(invite).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(invite).not.toMatch(/a=fingerprint|a=ice-ufrag|a=candidate/);
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
