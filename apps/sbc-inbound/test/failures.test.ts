/**
 * Bad input and failure (issue 10, DESIGN §5): a dependency that is down gets a fast, deliberate
 * answer (503 + Retry-After, or 480 where jambonz answers 480), never a hang; bodies we cannot use
 * get 488; broken credentials never a 500; identity headers from outside never reach a feature
 * server; feature servers fail over on 5xx / silence but not on the callee's 4xx. After each test
 * nothing is left: no call, no counter (JAMBONES_TRACK_ACCOUNT_CALLS is on throughout).
 *
 * One stack for the file; each test starts its own app (its own environment: a dead MySQL, a list
 * of rtpengines, trusted proxies) so round robin always starts from the first feature server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '@sbc/testkit';
import type { Env } from '@sbc/service';
import {
  clearFeatureServers,
  featureServerUp,
  JAMBONZ,
  metricValue,
  startFeatureServer,
  startInbound,
  startInboundStack,
  type InboundStack,
  type RunningInbound,
} from './support/inbound.js';
import {
  captureLog,
  closedTcpPort,
  closedUdpPort,
  PingOnlyRtpengine,
  SilentServer,
  wedgedTcpServer,
  siprecInvite,
  type LogLine,
} from './support/failures.js';
import { RawCaller, type InviteOptions, type InviteResult } from './support/raw-caller.js';

let stack: InboundStack;
let westco: RawCaller;

const ACCOUNT_CALLS = `incalls:account:${JAMBONZ.accounts.main}`;
/**
 * Every app of this file counts calls per account, so a counter left behind shows. A live
 * rtpengine answers in a few ms; 1 s before one counts as down leaves room for a loaded machine.
 */
const BASE_ENV: Env = {
  JAMBONES_TRACK_ACCOUNT_CALLS: '1',
  SBC_RETRY_AFTER: '7',
  SBC_RTPENGINE_TIMEOUT_MS: '1000',
};

beforeAll(async () => {
  stack = await startInboundStack();
  westco = await RawCaller.open(JAMBONZ.ip.westco, stack.engine.sipTarget);
});
afterAll(async () => {
  westco?.close();
  await stack?.stop();
});
beforeEach(async () => {
  await clearFeatureServers(stack);
  await stack.redisClient.del(ACCOUNT_CALLS);
  stack.hook.behave({ kind: 'normal' });
});

/** Runs `test` against a fresh sbc-inbound with `env`, then checks that nothing was left behind. */
async function withInbound(
  env: Env,
  test: (sbc: RunningInbound, log: LogLine[]) => Promise<void>,
): Promise<void> {
  const sbc = await startInbound(stack, { ...BASE_ENV, ...env });
  // The log from here on, for the "a log line naming the cause" checks (start-up stays quiet).
  const log = captureLog(sbc.logger);
  if (process.env.SBC_TEST_LOGLEVEL === undefined) sbc.logger.level = 'info';
  try {
    await test(sbc, log);
    await expectNothingLeft(sbc);
  } finally {
    await sbc.stop();
  }
}

async function expectNothingLeft(sbc: RunningInbound): Promise<void> {
  await waitUntil(
    async () => sbc.app.calls.size === 0 && Number((await stack.redisClient.get(ACCOUNT_CALLS)) ?? 0) === 0,
    { what: 'no call and no account counter left', timeoutMs: 5000 },
  ).catch(async (err: unknown) => {
    throw new Error(
      `${String(err)}: calls ${sbc.app.calls.size}, ${ACCOUNT_CALLS} = ${await stack.redisClient.get(ACCOUNT_CALLS)}`,
    );
  });
  expect(metricValue(await sbc.scrape(), 'sbc_calls_in_progress')).toBe(0);
}

/**
 * `sbc_invites_total{labels}` once it settled: the handler counts an INVITE after the answer is
 * sent and the counters are given back, so the caller may see the answer a moment before.
 */
async function invitesCounted(
  sbc: RunningInbound,
  labels: Record<string, string>,
  expected = 1,
): Promise<number> {
  const value = async () => metricValue(await sbc.scrape(), 'sbc_invites_total', labels);
  await waitUntil(async () => (await value()) >= expected, {
    what: 'the INVITE counted',
    timeoutMs: 2000,
  }).catch(() => undefined);
  return value();
}

/** The INVITE a sipp feature server received, from its message log. */
function receivedInvite(messages: string): string {
  const start = messages.indexOf('INVITE sip:');
  expect(start, 'the feature server got no INVITE').toBeGreaterThanOrEqual(0);
  // sipp's message log separates messages with a line of dashes.
  const end = messages.indexOf('\n-----', start);
  return messages.slice(start, end > 0 ? end : undefined);
}

/** westco's call to its account's realm (its gateways route by realm: jambonz's seed has no SP on them). */
function carrierCall(options: InviteOptions = {}): Promise<InviteResult> {
  return westco.invite({ host: 'jambonz.org', ...options });
}

/** The handler's warning for an INVITE it could not connect, naming the cause (`reason`). */
function expectLogged(log: LogLine[], reason: string): void {
  const line = log.find((l) => l.msg === 'INVITE not connected' && l.reason === reason);
  expect(line, JSON.stringify(log.filter((l) => l.level >= 40))).toBeDefined();
  expect(line?.level).toBe(40);
}

function expectRetryAfter(result: InviteResult): void {
  expect(result.response.header('retry-after')).toBe('7');
}

/**
 * A device call with good credentials while the auth hook cannot decide: 503 + Retry-After within
 * `withinMs`, counted and logged with `reason`, and a webhook-connection-failure alert.
 */
async function expectHookUnavailable(
  sbc: RunningInbound,
  log: LogLine[],
  expected: { withinMs: number; reason: string },
): Promise<void> {
  const phone = await RawCaller.open(JAMBONZ.ip.device, stack.engine.sipTarget);
  try {
    const { answer } = await phone.deviceInvite({
      host: 'jambonz.org',
      did: '15551230000',
      user: 'john',
      password: '1234',
    });
    expect(answer.status).toBe(503);
    expect(answer.response.header('retry-after')).toBeDefined();
    expect(answer.elapsedMs).toBeLessThan(expected.withinMs);
    expect(await invitesCounted(sbc, { outcome: 'unavailable', originator: 'user' })).toBe(1);
    expectLogged(log, expected.reason);
    expect(sbc.records.alerts).toContainEqual(
      expect.objectContaining({
        alert_type: 'webhook-connection-failure',
        account_sid: JAMBONZ.accounts.main,
      }),
    );
  } finally {
    phone.close();
  }
}

describe('a dependency that is down: a fast, deliberate answer', () => {
  it('MySQL refusing connections: 503 + Retry-After at once', async () => {
    await withInbound({ JAMBONES_MYSQL_PORT: String(await closedTcpPort()) }, async (sbc, log) => {
      const result = await carrierCall();
      expect(result.status).toBe(503);
      expectRetryAfter(result);
      expect(result.elapsedMs).toBeLessThan(1500);
      expect(await invitesCounted(sbc, { outcome: 'unavailable', reason: 'mysql' })).toBe(1);
      expectLogged(log, 'mysql');
    });
  });

  it('MySQL accepting connections but never answering: 503 + Retry-After within the connect timeout', async () => {
    const wedged = await wedgedTcpServer();
    try {
      await withInbound({ JAMBONES_MYSQL_PORT: String(wedged.port) }, async (sbc, log) => {
        wedged.wedge();
        const result = await carrierCall({ timeoutMs: 15_000 });
        expect(result.status).toBe(503);
        expectRetryAfter(result);
        // @sbc/db's connect timeout is 3 s: the answer comes right after it, never a hang.
        expect(result.elapsedMs).toBeLessThan(4500);
        expect(await invitesCounted(sbc, { outcome: 'unavailable', reason: 'mysql' })).toBe(1);
        expectLogged(log, 'mysql');
      });
    } finally {
      await wedged.close();
    }
  });

  it.each([
    ['counting the call', '1'],
    ['reading the feature servers', '0'],
  ])('Redis down (%s): 503 + Retry-After within 3 s', async (_step, track) => {
    const env = { JAMBONES_REDIS_PORT: String(await closedTcpPort()), JAMBONES_TRACK_ACCOUNT_CALLS: track };
    await withInbound(env, async (sbc, log) => {
      const result = await carrierCall();
      expect(result.status).toBe(503);
      expectRetryAfter(result);
      expect(result.elapsedMs).toBeLessThan(3000);
      expect(await invitesCounted(sbc, { outcome: 'unavailable', reason: 'redis' })).toBe(1);
      expectLogged(log, 'redis');
    });
  });

  it('auth hook slower than SBC_AUTH_HOOK_TIMEOUT_MS: a device call with credentials gets 503', async () => {
    await withInbound({ SBC_AUTH_HOOK_TIMEOUT_MS: '800' }, async (sbc, log) => {
      stack.hook.behave({ kind: 'slow', delayMs: 4000 });
      await expectHookUnavailable(sbc, log, { withinMs: 2500, reason: 'hook_slow' });
    });
  });

  it('auth hook unreachable: a device call with credentials gets 503', async () => {
    const hookUrl = stack.hook.url;
    await stack.db.execute('UPDATE webhooks SET url = ? WHERE webhook_sid = ?', [
      `http://127.0.0.1:${await closedTcpPort()}/auth`,
      JAMBONZ.hook,
    ]);
    try {
      await withInbound({}, async (sbc, log) => {
        await expectHookUnavailable(sbc, log, { withinMs: 2000, reason: 'hook_unreachable' });
      });
    } finally {
      await stack.db.execute('UPDATE webhooks SET url = ? WHERE webhook_sid = ?', [hookUrl, JAMBONZ.hook]);
    }
  });

  it('every rtpengine down: 480 within 3 s, an rtpengine-unavailable alert, the counters given back', async () => {
    const dead = `127.0.0.1:${await closedUdpPort()}`;
    await withInbound({ JAMBONES_RTPENGINES: dead }, async (sbc, log) => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 5000 });
      await featureServerUp(stack, fs.hostport);
      const result = await carrierCall();
      await fs.run.stop();
      expect(result.status).toBe(480);
      expect(result.elapsedMs).toBeLessThan(3000);
      expect(sbc.records.alerts).toContainEqual(
        expect.objectContaining({ alert_type: 'rtpengine-unavailable', account_sid: JAMBONZ.accounts.main }),
      );
      expect(sbc.app.rtpengines.engines().map((e) => e.active)).toEqual([false]);
      expect(await invitesCounted(sbc, { outcome: 'unavailable', reason: 'no_rtpengine' })).toBe(1);
      expectLogged(log, 'no_rtpengine');
      // The feature server never saw the call: no media, no INVITE.
      expect((await fs.run.done).messages).not.toMatch(/INVITE sip:/);
    });
  });
});

describe('two rtpengines, one down', () => {
  it('with a dead engine first in JAMBONES_RTPENGINES, calls still connect and it is marked inactive', async () => {
    const dead = `127.0.0.1:${await closedUdpPort()}`;
    await withInbound({ JAMBONES_RTPENGINES: `${dead},${stack.rtpengine.ngAddress}` }, async (sbc) => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { count: 3, timeoutMs: 15_000 });
      await featureServerUp(stack, fs.hostport);
      for (let i = 0; i < 3; i++) {
        const result = await carrierCall();
        expect(result.status, result.response.raw).toBe(200);
        expect(result.elapsedMs).toBeLessThan(2000);
        expect(await result.hangUp()).toBe(200);
      }
      const served = await fs.run.done;
      expect(served.successfulCalls, served.describe()).toBe(3);
      const engines = sbc.app.rtpengines.engines();
      expect(engines.find((e) => e.id === dead)?.active).toBe(false);
      expect(engines.find((e) => e.id === stack.rtpengine.ngAddress)?.active).toBe(true);
      expect(sbc.records.alerts.filter((a) => a.alert_type === 'rtpengine-unavailable')).toEqual([]);
    });
  });

  it('an engine that answers pings but not the offer: the offer is retried on the other one', async () => {
    const wedged = await PingOnlyRtpengine.open();
    try {
      await withInbound(
        { JAMBONES_RTPENGINES: `${wedged.address},${stack.rtpengine.ngAddress}` },
        async (sbc) => {
          expect(sbc.app.rtpengines.engines().every((e) => e.active)).toBe(true);
          const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', {
            count: 2,
            timeoutMs: 15_000,
          });
          await featureServerUp(stack, fs.hostport);
          const first = await carrierCall();
          expect(first.status, first.response.raw).toBe(200);
          // The offer went unanswered for SBC_RTPENGINE_TIMEOUT_MS (sent up to 3 times), then to the live engine.
          expect(first.elapsedMs).toBeGreaterThanOrEqual(950);
          expect(first.elapsedMs).toBeLessThan(3000);
          const offers = wedged.commands.filter((c) => c === 'offer').length;
          expect(offers).toBeGreaterThanOrEqual(1);
          expect(sbc.app.rtpengines.engines().find((e) => e.id === wedged.address)?.active).toBe(false);
          expect(await first.hangUp()).toBe(200);
          // The next call goes straight to the engine that answers.
          const second = await carrierCall();
          expect(second.status).toBe(200);
          expect(second.elapsedMs).toBeLessThan(900);
          expect(wedged.commands.filter((c) => c === 'offer')).toHaveLength(offers);
          expect(await second.hangUp()).toBe(200);
          const served = await fs.run.done;
          expect(served.successfulCalls, served.describe()).toBe(2);
          expect(sbc.records.alerts.filter((a) => a.alert_type === 'rtpengine-unavailable')).toEqual([]);
        },
      );
    } finally {
      wedged.close();
    }
  });
});

describe('bodies we cannot use as an offer: 488', () => {
  it('an SDP without v= / m= lines', async () => {
    await withInbound({}, async (sbc) => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 5000 });
      await featureServerUp(stack, fs.hostport);
      const result = await carrierCall({ body: 'this is not an SDP\r\n' });
      const served = await fs.run.stop();
      expect(result.status).toBe(488);
      expect(result.response.header('x-reason')).toMatch(/SDP/);
      expect(await invitesCounted(sbc, { outcome: 'rejected', reason: 'bad_sdp' })).toBe(1);
      expect(served.messages).not.toMatch(/INVITE sip:/);
    });
  });

  it('an SDP rtpengine refuses', async () => {
    await withInbound({}, async (sbc) => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 5000 });
      await featureServerUp(stack, fs.hostport);
      // Well-formed enough for the SBC; rtpengine answers "Failed to parse SDP".
      const body = [
        'v=0',
        'o=- 1 1 IN IP4 127.0.38.20',
        's=-',
        'c=IN IP9 127.0.38.20',
        't=0 0',
        'm=audio 40000 RTP/AVP 8',
        '',
      ].join('\r\n');
      const result = await carrierCall({ body });
      const served = await fs.run.stop();
      expect(result.status).toBe(488);
      const text = await sbc.scrape();
      expect(await invitesCounted(sbc, { outcome: 'rejected', reason: 'bad_sdp' })).toBe(1);
      // The offer reached rtpengine, which answered it (an error): not a down engine, no alert.
      expect(
        metricValue(text, 'sbc_rtpengine_duration_seconds_count', { command: 'offer', result: 'ok' }),
      ).toBe(1);
      expect(sbc.records.alerts).toEqual([]);
      expect(served.messages).not.toMatch(/INVITE sip:/);
    });
  });

  it('a body that is not application/sdp', async () => {
    await withInbound({}, async (sbc) => {
      const result = await carrierCall({ contentType: 'text/plain' });
      expect(result.status).toBe(488);
      expect(result.response.header('x-reason')).toMatch(/text\/plain/);
      expect(await invitesCounted(sbc, { outcome: 'rejected', reason: 'bad_sdp' })).toBe(1);
    });
  });
});

describe('SIPREC', () => {
  it("reaches the feature server as multipart/mixed with rtpengine's SDP and the recording metadata", async () => {
    await stack.db.execute('UPDATE accounts SET siprec_hook_sid = ? WHERE account_sid = ?', [
      JAMBONZ.apps.test,
      JAMBONZ.accounts.main,
    ]);
    try {
      await withInbound({}, async () => {
        const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 8000 });
        await featureServerUp(stack, fs.hostport);
        const siprec = siprecInvite(JAMBONZ.ip.westco);
        const result = await carrierCall({ body: siprec.body, contentType: siprec.contentType });
        expect(result.status, result.response.raw).toBe(200);
        expect(await result.hangUp()).toBe(200);
        const served = await fs.run.done;
        expect(served.ok, served.describe()).toBe(true);
        const invite = receivedInvite(served.messages);
        expect(invite).toMatch(/\nContent-Type: multipart\/mixed;\s*boundary="?uniqueBoundary"?/i);
        expect(invite).toMatch(new RegExp(`\\nX-Application-Sid: ${JAMBONZ.apps.test}\\s*\\n`));
        // rtpengine's SDP in the first part, the caller's metadata untouched in the second.
        expect(invite).toMatch(
          /--uniqueBoundary\s*\nContent-Type: application\/sdp\s*\n\s*\nv=0[\s\S]*c=IN IP4 127\.0\.0\.1/,
        );
        expect(invite).not.toMatch(/c=IN IP4 127\.0\.38\.20/);
        expect(invite).toMatch(
          /Content-Type: application\/rs-metadata\+xml\s*\nContent-Disposition: recording-session/,
        );
        expect(invite).toContain(
          '<participant participant_id="p1"><nameID aor="sip:alice@example.com"/></participant>',
        );
        expect(invite).toMatch(/<\/recording>\s*\n--uniqueBoundary--/);
      });
    } finally {
      await stack.db.execute('UPDATE accounts SET siprec_hook_sid = NULL WHERE account_sid = ?', [
        JAMBONZ.accounts.main,
      ]);
    }
  });
});

describe('an Authorization header we cannot parse: 400 or a fresh challenge, never 500', () => {
  const broken: [status: number, header: string][] = [
    [400, 'Digest'],
    [400, 'Digest ,,,,'],
    [400, 'Digest username="john", realm="jambonz.org", nonce='],
    [400, 'Digest username="john, realm="jambonz.org", nonce="x", uri="sip:a", response="b"'],
    [400, 'Digest username=john realm=jambonz.org'],
    [400, 'Basic am9objoxMjM0'],
    [
      400,
      'Digest username="john", realm="jambonz.org", nonce="n", uri="sip:x", response="00", qop=auth, nc=zz, cnonce=',
    ],
    // Well-formed but not answering our challenge: a fresh one.
    [
      401,
      'Digest username="john", realm="jambonz.org", nonce="not-ours", uri="sip:x", response="00", algorithm=ROT13',
    ],
    [
      401,
      `Digest username="${'a'.repeat(3000)}", realm="jambonz.org", nonce="n", uri="sip:x", response="00"`,
    ],
  ];

  it('gets 400 or 401 for each, the hook is never asked, nothing counted as an error', async () => {
    await withInbound({}, async (sbc) => {
      const phone = await RawCaller.open(JAMBONZ.ip.device, stack.engine.sipTarget);
      const hookRequests = stack.hook.requests.length;
      try {
        for (const [status, header] of broken) {
          const { answer } = await phone.deviceInvite({
            host: 'jambonz.org',
            did: '15551230000',
            user: 'john',
            password: '1234',
            authorization: () => header,
          });
          expect(answer.status, `${header.slice(0, 80)}\n${answer.response.raw}`).toBe(status);
          if (status === 401) expect(answer.response.header('www-authenticate')).toMatch(/^Digest .*nonce="/);
        }
      } finally {
        phone.close();
      }
      expect(stack.hook.requests.length).toBe(hookRequests);
      expect(await invitesCounted(sbc, { outcome: 'error' }, 0)).toBe(0);
      expect(await invitesCounted(sbc, { outcome: 'connected' }, 0)).toBe(0);
    });
  });
});

describe('identity headers from outside', () => {
  const SPOOFER = '127.0.38.99';

  it('X-Forwarded-For from an unknown address is not its source: a realm R-URI is challenged, an IP R-URI is not provisioned', async () => {
    await withInbound({}, async (sbc) => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 5000 });
      await featureServerUp(stack, fs.hostport);
      const spoofer = await RawCaller.open(SPOOFER, stack.engine.sipTarget);
      try {
        const forged = [`X-Forwarded-For: ${JAMBONZ.ip.westco}`];
        const realm = await spoofer.invite({ host: 'jambonz.org', headers: forged });
        expect(realm.status).toBe(401);
        const ip = await spoofer.invite({ headers: forged });
        expect(ip.status).toBe(404);
        const subspace = await spoofer.invite({
          headers: [`X-Subspace-Forwarded-For: ${JAMBONZ.ip.westco}`],
        });
        expect(subspace.status).toBe(404);
      } finally {
        spoofer.close();
      }
      const served = await fs.run.stop();
      expect(served.messages).not.toMatch(/INVITE sip:/);
      expect(await invitesCounted(sbc, { outcome: 'connected' }, 0)).toBe(0);
    });
  });

  it('behind a trusted proxy (SBC_TRUSTED_PROXY_CIDRS), X-Forwarded-For names the caller', async () => {
    await withInbound({ SBC_TRUSTED_PROXY_CIDRS: `${SPOOFER}/32` }, async () => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 8000 });
      await featureServerUp(stack, fs.hostport);
      const proxy = await RawCaller.open(SPOOFER, stack.engine.sipTarget);
      try {
        const result = await proxy.invite({
          host: 'jambonz.org',
          headers: [`X-Forwarded-For: ${JAMBONZ.ip.westco}`],
        });
        expect(result.status, result.response.raw).toBe(200);
        expect(await result.hangUp()).toBe(200);
      } finally {
        proxy.close();
      }
      const served = await fs.run.done;
      expect(served.ok, served.describe()).toBe(true);
      const invite = receivedInvite(served.messages);
      expect(invite).toMatch(/\nX-Forwarded-For: 127\.0\.38\.20\s*\n/);
      expect(invite).toMatch(/\nX-Originating-Carrier: westco\s*\n/);
      expect(invite).toMatch(new RegExp(`\\nX-Account-Sid: ${JAMBONZ.accounts.main}\\s*\\n`));
    });
  });

  it("a carrier's own identity headers (any spelling) never reach the feature server", async () => {
    await withInbound({}, async () => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { timeoutMs: 8000 });
      await featureServerUp(stack, fs.hostport);
      const result = await carrierCall({
        headers: [
          'X-Forwarded-For: 6.6.6.6',
          'X-Authenticated-User: evil@jambonz.org',
          'X-Application-Sid: evil-application',
          'x-account-sid: evil-account',
          'x-voip-carrier-sid: evil-carrier',
          'X-FORWARDED-CARRIER: evil-carrier',
          'x-originating-carrier: evil-carrier',
          'X-MS-Teams-Tenant-FQDN: evil.example.com',
          'X-CID: evil-cid',
          'X-Custom: kept',
        ],
      });
      expect(result.status, result.response.raw).toBe(200);
      expect(await result.hangUp()).toBe(200);
      const served = await fs.run.done;
      expect(served.ok, served.describe()).toBe(true);
      const invite = receivedInvite(served.messages);
      expect(invite).not.toMatch(/evil|6\.6\.6\.6/i);
      expect(invite).toMatch(/\nX-Forwarded-For: 127\.0\.38\.20\s*\n/);
      expect(invite).toMatch(new RegExp(`\\nX-Account-Sid: ${JAMBONZ.accounts.main}\\s*\\n`));
      expect(invite).not.toMatch(/X-Authenticated-User/i);
      expect(invite).not.toMatch(/X-MS-Teams-Tenant-FQDN/i);
      expect(invite.match(/\nX-Forwarded-For:/gi)).toHaveLength(1);
      expect(invite.match(/\nX-Account-Sid:/gi)).toHaveLength(1);
      expect(invite).toMatch(/\nX-Custom: kept\s*\n/);
    });
  });
});

describe('feature servers', () => {
  it('none in active-fs: 480', async () => {
    await withInbound({}, async (sbc) => {
      const result = await carrierCall();
      expect(result.status).toBe(480);
      expect(result.elapsedMs).toBeLessThan(1000);
      expect(await invitesCounted(sbc, { outcome: 'unavailable', reason: 'no_feature_server' })).toBe(1);
    });
  });

  it('the first answers 503: the call connects on the second', async () => {
    await withInbound({}, async (sbc) => {
      const refusing = await startFeatureServer('uas-fs-503', '127.0.1.21', { timeoutMs: 5000 });
      const answering = await startFeatureServer('fail-fs-answer', '127.0.1.22', { timeoutMs: 8000 });
      await featureServerUp(stack, refusing.hostport);
      await featureServerUp(stack, answering.hostport);
      const result = await carrierCall();
      expect(result.status, result.response.raw).toBe(200);
      expect(await result.hangUp()).toBe(200);
      const [refused, served] = await Promise.all([refusing.run.done, answering.run.done]);
      expect(refused.messages).toMatch(/INVITE sip:/);
      expect(served.ok, served.describe()).toBe(true);
      expect(metricValue(await sbc.scrape(), 'sbc_feature_server_failovers_total')).toBe(1);
    });
  });

  it('the first never answers: the call connects on the second after SBC_FS_ANSWER_TIMEOUT_MS', async () => {
    const silent = await SilentServer.open('127.0.1.21');
    try {
      await withInbound({ SBC_FS_ANSWER_TIMEOUT_MS: '1000' }, async () => {
        const answering = await startFeatureServer('fail-fs-answer', '127.0.1.22', { timeoutMs: 8000 });
        await featureServerUp(stack, silent.hostport);
        await featureServerUp(stack, answering.hostport);
        const result = await carrierCall();
        expect(result.status, result.response.raw).toBe(200);
        expect(result.elapsedMs).toBeGreaterThanOrEqual(950);
        expect(result.elapsedMs).toBeLessThan(3000);
        expect(silent.invites.length).toBeGreaterThan(0);
        expect(await result.hangUp()).toBe(200);
        const served = await answering.run.done;
        expect(served.ok, served.describe()).toBe(true);
      });
    } finally {
      silent.close();
    }
  });

  it("the first answers 486: the caller gets 486 and the second is not tried (the callee's word)", async () => {
    const second = await SilentServer.open('127.0.1.22');
    try {
      await withInbound({}, async (sbc) => {
        const busy = await startFeatureServer('uas-fs-486', '127.0.1.21', { timeoutMs: 5000 });
        await featureServerUp(stack, busy.hostport);
        await featureServerUp(stack, second.hostport);
        const result = await carrierCall();
        expect(result.status).toBe(486);
        const refused = await busy.run.done;
        expect(refused.messages).toMatch(/INVITE sip:/);
        expect(second.received).toEqual([]);
        expect(metricValue(await sbc.scrape(), 'sbc_feature_server_failovers_total')).toBe(0);
      });
    } finally {
      second.close();
    }
  });

  it('a drained feature server (its IP in drained-fs) is not used', async () => {
    const drained = await SilentServer.open('127.0.1.21');
    try {
      await withInbound({}, async () => {
        const answering = await startFeatureServer('fail-fs-answer', '127.0.1.22', {
          count: 2,
          timeoutMs: 10_000,
        });
        await featureServerUp(stack, drained.hostport);
        await featureServerUp(stack, answering.hostport);
        await stack.sets.drain('127.0.1.21');
        // Two calls: round robin would have given the drained server one of them.
        for (let i = 0; i < 2; i++) {
          const result = await carrierCall();
          expect(result.status, result.response.raw).toBe(200);
          expect(result.elapsedMs).toBeLessThan(1500);
          expect(await result.hangUp()).toBe(200);
        }
        const served = await answering.run.done;
        expect(served.successfulCalls, served.describe()).toBe(2);
        expect(drained.received).toEqual([]);
      });
    } finally {
      drained.close();
    }
  });
});

describe('a call that ends at once', () => {
  it('a BYE right behind the ACK ends both legs: nothing is left', async () => {
    await withInbound({}, async (sbc) => {
      const fs = await startFeatureServer('fail-fs-answer', '127.0.1.20', { count: 10, timeoutMs: 10_000 });
      await featureServerUp(stack, fs.hostport);
      for (let i = 0; i < 10; i++) {
        const result = await carrierCall();
        expect(result.status, result.response.raw).toBe(200);
        // RawCaller sends the BYE as soon as its ACK is out: the engine often delivers both with
        // the 200's confirmation, before srf has handed the dialogs to the app.
        expect(await result.hangUp()).toBe(200);
      }
      const served = await fs.run.done;
      expect(served.successfulCalls, served.describe()).toBe(10);
      await waitUntil(() => Promise.resolve(sbc.app.calls.size === 0), {
        what: 'every call ended',
        timeoutMs: 3000,
      });
      expect(metricValue(await sbc.scrape(), 'sbc_calls_ended_total', { ended_by: 'caller' })).toBe(10);
    });
  });
});
