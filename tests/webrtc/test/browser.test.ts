/**
 * A real browser through the SBC: headless Chromium loads the web phone (SIP.js over WSS), registers
 * through sbc-registrar with the demo client's digest credentials, and calls the demo DID; sbc-inbound
 * answers the browser with DTLS-SRTP and ICE and sends plain RTP to a sipp feature server. Audio must
 * flow both ways, and either side's hang-up must leave no call and no rtpengine session behind.
 * The same call from a SIP-over-TLS softphone shows TLS signalling end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createRedisClient, type Redis } from '@sbc/redis';
import { startSipp, waitUntil, type SippRun } from '@sbc/testkit';
import { startPageServer, type PageServer } from '../web/serve.mjs';
import { openBrowser, type Browser } from './support/browser.js';
import { TlsPhone } from './support/tls-phone.js';
import { rtpPackets } from '@sbc/testkit';
import { FEATURE_SERVER, startWebrtcStack, type WebrtcStack } from './support/stack.js';

interface Stats {
  inbound: number;
  outbound: number;
  connection: string;
}
interface Phone {
  register(o: { server: string; user: string; realm: string; password: string }): Promise<number>;
  call(target: string): Promise<number>;
  hangup(): Promise<void>;
  stats(): Promise<Stats>;
  state: string;
  events: { event: string; detail: string }[];
}
type W = { phone: Phone };

const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const FS_ANSWER = repo('scripts/demo/fs-answer.xml');
const FS_ANSWER_THEN_BYE = fileURLToPath(new URL('../scenarios/fs-answer-then-bye.xml', import.meta.url));

let stack: WebrtcStack;
let pages: PageServer;
let browser: Browser;
let redis: Redis;

beforeAll(async () => {
  stack = await startWebrtcStack();
  redis = createRedisClient({ host: stack.sbc.redis.host, port: stack.sbc.redis.port });
  pages = await startPageServer({ key: stack.certificate.key, cert: stack.certificate.cert });
  browser = await openBrowser();
  await browser.page.goto(pages.url);
  await browser.page.waitForFunction(() => 'phone' in window);
});
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  redis?.disconnect();
  await stack?.stop();
});

function featureServer(scenario: string, holdMs = 0): Promise<SippRun> {
  return startSipp({
    scenario,
    localAddress: FEATURE_SERVER,
    localPort: stack.featureServerPort,
    extraArgs: holdMs ? ['-d', String(holdMs)] : [],
    timeoutMs: 30_000,
  });
}

const stats = () => browser.page.evaluate(() => (window as unknown as W).phone.stats());
const did = () => `sip:${stack.demo.phone_numbers.exact}@${stack.demo.sip_realm}`;

/** Audio both ways for a while: the browser's counters grow, and rtpengine relays both parties. */
async function expectAudioBothWays(): Promise<void> {
  await waitUntil(async () => (await stats()).inbound > 0 && (await stats()).outbound > 0, {
    what: 'RTP in both directions in the browser',
    timeoutMs: 8000,
    intervalMs: 200,
  });
  const before = await stats();
  await new Promise((r) => setTimeout(r, 1500));
  const after = await stats();
  expect(after.connection).toBe('connected');
  // 20 ms packets: about 75 in 1.5 s each way; allow for jitter.
  expect(after.inbound - before.inbound).toBeGreaterThan(40);
  expect(after.outbound - before.outbound).toBeGreaterThan(40);

  const [callId] = await stack.rtpSessions();
  expect(callId).toBeDefined();
  const packets = await rtpPackets(stack.rtpengine, callId!);
  // Two parties, each sending towards rtpengine: the browser's SRTP (relayed to the feature server as
  // RTP) and the feature server's RTP (relayed to the browser as SRTP).
  expect(Object.keys(packets)).toHaveLength(2);
  for (const [tag, count] of Object.entries(packets)) expect(count, tag).toBeGreaterThan(40);
}

describe.sequential('a browser (SIP.js over WSS) through the SBC', () => {
  it('registers over WSS with digest credentials from the clients table: the binding says wss', async () => {
    const status = await browser.step('register', () =>
      browser.page.evaluate((o) => (window as unknown as W).phone.register(o), {
        server: stack.wssUrl,
        user: 'alice',
        realm: stack.demo.sip_realm,
        password: 'alice-secret-1',
        trace: true,
      }),
    );
    expect(status).toBe(200);
    const record = JSON.parse((await redis.get(`user:alice@${stack.demo.sip_realm}`)) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(record.protocol).toBe('wss');
    expect(String(record.contact)).toMatch(/^<?sip:[^@]+@[a-z0-9]+\.invalid;transport=ws/);
  });

  it('calls the demo DID: DTLS-SRTP to the browser, RTP to the feature server, audio both ways; the browser hangs up', async () => {
    const fs = await featureServer(FS_ANSWER);
    await browser.step('call and hang up from the browser', async () => {
      expect(
        await browser.page.evaluate((target) => (window as unknown as W).phone.call(target), did()),
      ).toBe(200);
      await expectAudioBothWays();
      await browser.page.evaluate(() => (window as unknown as W).phone.hangup());
    });
    const served = await fs.done;
    expect(served.ok, served.describe()).toBe(true);
    const invite = served.messages.slice(served.messages.indexOf('INVITE sip:'));
    expect(invite).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(invite).not.toMatch(/a=fingerprint|a=ice-ufrag|a=candidate|a=crypto/);
    await waitUntil(async () => (await stack.rtpSessions()).length === 0, { what: 'rtpengine session gone' });
  });

  it('the feature server hangs up: the browser gets the BYE and the call is gone', async () => {
    const fs = await featureServer(FS_ANSWER_THEN_BYE, 4000);
    await browser.step('call and hang up from the feature server', async () => {
      const answered = await browser.page
        .evaluate((target) => (window as unknown as W).phone.call(target), did())
        .catch(async (err: Error) => {
          throw new Error(`${err.message}\nfeature server: ${(await fs.stop()).describe()}`);
        });
      expect(answered).toBe(200);
      await expectAudioBothWays();
      await browser.page.waitForFunction(
        () => (window as unknown as W).phone.state === 'hung up',
        undefined,
        { timeout: 8000 },
      );
    });
    const served = await fs.done;
    expect(served.ok, served.describe()).toBe(true);
    await waitUntil(async () => (await stack.rtpSessions()).length === 0, { what: 'rtpengine session gone' });
  });
});

describe.sequential('a SIP-over-TLS softphone through the SBC', () => {
  it('calls the demo DID over TLS: digest, RTP both ways through rtpengine, hangs up cleanly', async () => {
    const fs = await featureServer(FS_ANSWER);
    const phone = await TlsPhone.open('127.0.0.3', stack.tlsTarget);
    try {
      const res = await phone.call(did(), 'bob', stack.demo.sip_realm, 'bob-secret-2');
      expect(res.status, res.raw).toBe(200);
      // Both parties' RTP relayed by rtpengine (about 50 packets a second each way).
      const [callId] = await stack.rtpSessions();
      expect(callId).toBeDefined();
      let packets: Record<string, number> = {};
      await waitUntil(
        async () => {
          packets = await rtpPackets(stack.rtpengine, callId!);
          const counts = Object.values(packets);
          return phone.rtpReceived > 50 && counts.length === 2 && counts.every((n) => n > 50);
        },
        { what: 'RTP both ways over the TLS call', timeoutMs: 6000, intervalMs: 200 },
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}: phone received ${phone.rtpReceived}, rtpengine ${JSON.stringify(packets)}`,
        );
      });
      expect(await phone.hangUp()).toBe(200);
    } finally {
      phone.close();
    }
    const served = await fs.done;
    expect(served.ok, served.describe()).toBe(true);
    await waitUntil(async () => (await stack.rtpSessions()).length === 0, { what: 'rtpengine session gone' });
  });
});
