/**
 * The platform's own failures under steady REGISTER load, on real services (see support/stack.ts):
 *   1. the Redis primary SIGKILLed (Sentinel promotes the replica),
 *   2. MariaDB restarted,
 *   3. one of two sbc-registrar processes SIGKILLed (the regbot leader),
 *   4. the SIP engine restarted.
 * Each case measures what the failure table of the README reports (seconds without service,
 * answers 503 / dropped / wrong, data lost) and writes it to .vitest/failover-table.json; the
 * benchmark (bench/table.mjs) prints it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistrationStore, type Redis } from '@sbc/redis';
import { SipPhone, waitUntil } from '@sbc/testkit';
import { RegisterLoad, longestOutage, type Attempt } from './support/load.js';
import {
  CLUSTER,
  FailoverStack,
  REALM,
  REGBOT_LOCK_TTL_MS,
  RETRY_AFTER,
  password_,
  type AppInstance,
} from './support/stack.js';

const BENCH = process.env.SBC_FAILOVER_BENCH === '1';
/** Load before and after each failure (ms); longer in the benchmark. */
const STEADY_MS = BENCH ? 5000 : 1500;
const PHONES = ['127.0.0.31', '127.0.0.32', '127.0.0.33', '127.0.0.34'];
const FS = '127.0.1.21';

interface Row {
  failure: string;
  secondsWithoutService: number;
  requests: number;
  unavailable: number;
  dropped: number;
  wrong: number;
  dataLost: number;
  note: string;
}
const rows: Row[] = [];

const stack = new FailoverStack();
let load: RegisterLoad;
let client: Redis;
let store: RegistrationStore;

beforeAll(async () => {
  await stack.start(BENCH ? 12_000 : 4000);
  client = stack.redis.connect();
  client.on('error', () => undefined);
  store = new RegistrationStore(client);
  load = new RegisterLoad({
    target: stack.engine.sipTarget,
    addresses: PHONES,
    realm: REALM,
    users: stack.users,
    password: password_,
    pauseMs: 10,
    timeoutMs: 5000,
  });
  await load.start();
  await load.waitForOk(20);
});

afterAll(async () => {
  await load?.stop();
  client?.disconnect();
  await stack.stop();
  mkdirSync('.vitest', { recursive: true });
  writeFileSync('.vitest/failover-table.json', JSON.stringify({ bench: BENCH, rows }, null, 2));
});

/** 200s whose binding is not in Redis now. */
async function missingBindings(attempts: readonly Attempt[]): Promise<string[]> {
  const oks = attempts.filter((a) => a.outcome === 'ok');
  const missing: string[] = [];
  for (const a of oks) {
    if (!(await store.get(`${a.user}@${REALM}`))) missing.push(a.user);
  }
  return missing;
}

function summarize(failure: string, from: number, to: number, note: string, dataLost: number): Row {
  const during = load.between(from, to);
  const row: Row = {
    failure,
    secondsWithoutService: Number(longestOutage(load.attempts, from, to).toFixed(1)),
    requests: during.length,
    unavailable: during.filter((a) => a.outcome === 'unavailable').length,
    dropped: during.filter((a) => a.outcome === 'dropped').length,
    wrong: during.filter((a) => a.outcome === 'other').length,
    dataLost,
    note,
  };
  rows.push(row);
  return row;
}

/**
 * Nothing but 200, 503 with our Retry-After, or a timeout; with `appGone`, also the engine's 480 for
 * requests that the killed app had in hand (at most one per phone).
 */
function expectDeliberate(
  attempts: readonly Attempt[],
  options: { appGone?: boolean; noApp?: boolean } = {},
): void {
  const others = attempts.filter((a) => a.outcome === 'other');
  expect(others.map((a) => `${a.user}: ${a.status} ${a.detail}`)).toEqual([]);
  const unavailable = attempts.filter((x) => x.outcome === 'unavailable');
  const engine480 = unavailable.filter((a) => a.status === 480);
  expect(engine480.length).toBeLessThanOrEqual(options.appGone ? PHONES.length : 0);
  // With `noApp`, the engine's own 503 (no app connected for REGISTER yet, as drachtio-server
  // answers) has no Retry-After; the registrar's 503s always carry SBC_RETRY_AFTER.
  for (const a of unavailable.filter((x) => x.status === 503))
    expect([RETRY_AFTER, ...(options.noApp ? [undefined] : [])]).toContain(a.retryAfter);
}

async function fsPing(status: 'open' | 'closed'): Promise<number> {
  const phone = await SipPhone.open(FS, stack.engine.sipTarget);
  try {
    const res = await phone.send(
      [
        `OPTIONS sip:${stack.engine.sipTarget} SIP/2.0`,
        `Via: SIP/2.0/UDP ${FS}:${phone.port};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
        'Max-Forwards: 70',
        `From: <sip:fs@${FS}:${phone.port}>;tag=fs1`,
        `To: <sip:${stack.engine.sipTarget}>`,
        `Call-ID: fs-${Date.now()}-${Math.random()}@${FS}`,
        'CSeq: 1 OPTIONS',
        `Contact: <sip:fs@${FS}:${phone.port}>`,
        `X-FS-Status: ${status}`,
        `X-FS-ServiceUrl: http://${FS}:3000`,
        'X-FS-Calls: 0',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      4000,
    );
    return res.status;
  } finally {
    phone.close();
  }
}

async function leaders(apps: readonly AppInstance[]): Promise<string[]> {
  const held: string[] = [];
  for (const app of apps) if ((await app.gauge('sbc_regbot_leader')) === 1) held.push(app.name);
  return held;
}

describe('failures under REGISTER load', () => {
  it('Redis primary SIGKILLed: 503 + Retry-After until the replica is promoted, no 200 lost, sets, drain and leader kept', async () => {
    // State that must survive: a feature server in the health set, another drained, the regbot leader.
    expect(await fsPing('open')).toBe(200);
    await client.sadd(`${CLUSTER}:drained-fs`, '127.0.1.99');
    await waitUntil(async () => (await leaders(stack.registrars)).length === 1, {
      what: 'one regbot leader',
      timeoutMs: 10_000,
    });
    await sleep(STEADY_MS);

    const old = await stack.redis.primaryNode();
    const killedAt = Date.now();
    await old.kill('SIGKILL');
    const promoted = await stack.redis.waitForFailover(old);
    const promotedAt = Date.now();
    await load.waitForOk(20, 15_000);
    await sleep(STEADY_MS);
    const until = Date.now();

    // Every binding answered 200 up to the kill is on the promoted replica (see README: the
    // registrar does not answer 200 before the write reached the primary; the window is the
    // replication lag, sub-millisecond here, and is what is counted as data lost).
    const before = load.between(0, killedAt);
    const lost = await missingBindings(before);
    const after = load.between(killedAt, until);
    const wrongAfter = await missingBindings(load.between(promotedAt + 100, until));
    const row = summarize(
      'Redis primary SIGKILLed (Sentinel failover)',
      killedAt,
      until,
      `failover took ${((promotedAt - killedAt) / 1000).toFixed(1)} s; promoted ${promoted.port}`,
      lost.length,
    );
    expect(lost).toEqual([]);
    expect(wrongAfter).toEqual([]);
    expectDeliberate(after);
    expect(row.unavailable).toBeGreaterThan(0);
    expect(row.dropped).toBe(0);

    // Health set and drain state survived; sbc-options answers on the new primary.
    expect(await client.smembers(`${CLUSTER}:active-fs`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^127\.0\.1\.21:/)]),
    );
    expect(await client.smembers(`${CLUSTER}:drained-fs`)).toContain('127.0.1.99');
    expect(await fsPing('open')).toBe(200);
    // The regbot token: still held by exactly one instance, which the key names.
    await waitUntil(async () => (await leaders(stack.registrars)).length === 1, {
      what: 'exactly one regbot leader after the failover',
      timeoutMs: REGBOT_LOCK_TTL_MS,
    });
    expect(await client.exists(`${CLUSTER}:regbot-token`)).toBe(1);
  });

  it('MariaDB restarted: deliberate answers while it is down, the pool reconnects, nothing hangs', async () => {
    await sleep(STEADY_MS);
    const from = Date.now();
    await stack.restartMysql(1000);
    await load.waitForOk(20, 15_000);
    await sleep(STEADY_MS);
    const until = Date.now();
    const during = load.between(from, until);
    const row = summarize('MariaDB restarted', from, until, 'SIGTERM, 1 s down, started again', 0);
    expectDeliberate(during);
    expect(row.dropped).toBe(0);
    expect(await missingBindings(during)).toEqual([]);
    for (const app of stack.registrars) expect((await fetch(`${app.http}/readyz`)).status).toBe(200);
  });

  it('the leading sbc-registrar SIGKILLed while two run: the other serves, the leader moves within the lock TTL', async () => {
    const [leaderName] = await leaders(stack.registrars);
    const leader = stack.registrars.find((a) => a.name === leaderName)!;
    const other = stack.registrars.find((a) => a !== leader)!;
    await sleep(STEADY_MS);
    const from = Date.now();
    process.kill(leader.daemon.pid, 'SIGKILL');
    await leader.daemon.exited.catch(() => undefined);
    await load.waitForOk(20, 15_000);
    await waitUntil(async () => (await other.gauge('sbc_regbot_leader')) === 1, {
      what: 'the other instance to take the regbot token',
      timeoutMs: REGBOT_LOCK_TTL_MS + 3000,
      intervalMs: 200,
    });
    const moved = Date.now() - from;
    await sleep(STEADY_MS);
    const until = Date.now();
    const during = load.between(from, until);
    const row = summarize(
      'one of two sbc-registrar SIGKILLed',
      from,
      until,
      `regbot leader moved after ${(moved / 1000).toFixed(1)} s (lock TTL ${REGBOT_LOCK_TTL_MS / 1000} s)`,
      0,
    );
    expect(moved).toBeLessThan(REGBOT_LOCK_TTL_MS + 2000);
    expectDeliberate(during, { appGone: true });
    expect(await missingBindings(during)).toEqual([]);
    // Requests the killed process had in hand are the only ones that may go unanswered.
    expect(row.dropped).toBeLessThanOrEqual(PHONES.length);
    // Leave two instances for the next case.
    const replacement = await stack.startApp('sbc-registrar', `${leader.name}-2`);
    stack.registrars = [other, replacement];
  });

  it('the SIP engine restarted: the apps reconnect and serve again', async () => {
    await sleep(STEADY_MS);
    const from = Date.now();
    await stack.restartEngine();
    await load.waitForOk(20, 20_000);
    await sleep(STEADY_MS);
    const until = Date.now();
    const during = load.between(from, until);
    const row = summarize(
      'SIP engine restarted',
      from,
      until,
      'apps dial the engine; the engine answers 503 until they are back',
      0,
    );
    expectDeliberate(during, { noApp: true });
    expect(await missingBindings(during)).toEqual([]);
    expect(await fsPing('open')).toBe(200);
    // While no engine listens, requests are lost on the wire (UDP): the phones' retransmissions
    // carry them over if the engine is back within their timeout.
    expect(row.secondsWithoutService).toBeLessThan(10);
  });
});
