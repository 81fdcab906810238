/**
 * Source bans across a cluster: two SBCs (an engine and an sbc-registrar each) on one Redis. Wrong
 * passwords from a phone through SBC A ban its IP in the blacklist set; SBC B's engine drops the
 * phone within its refresh interval; the ban ends by itself; the private network is never banned;
 * an auth hook's `blacklist: true` bans at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAccount, seedClient, seedServiceProvider } from '@sbc/db';
import {
  engineEnv,
  SipPhone,
  startEngine,
  startFakeAuthHook,
  waitUntil,
  type EngineService,
  type FakeAuthHook,
} from '@sbc/testkit';
import {
  CIPHER,
  metricValue,
  startRegistrar,
  startStack,
  type RunningRegistrar,
  type Stack,
} from './helpers.js';

const REALM = 'bans.sbc.test';
const HOOK_REALM = 'bans-hook.sbc.test';
const KEY = 'blacklist-sip-ips';
const BANS = { SBC_AUTH_FAILURE_LIMIT: '5', SBC_AUTH_FAILURE_WINDOW: '60', SBC_BAN_SECONDS: '4' };

let stack: Stack;
let engineA: EngineService;
let engineB: EngineService;
let sbcA: RunningRegistrar;
let sbcB: RunningRegistrar;
let hook: FakeAuthHook;

beforeAll(async () => {
  stack = await startStack();
  const blacklist = [
    '--blacklist-redis-address',
    stack.redis.host,
    '--blacklist-redis-port',
    String(stack.redis.port),
    '--blacklist-redis-key',
    KEY,
    '--blacklist-refresh-secs',
    '1',
  ];
  [engineA, engineB, hook] = await Promise.all([
    startEngine({ extraArgs: blacklist }),
    startEngine({ extraArgs: blacklist }),
    startFakeAuthHook({ users: [] }),
  ]);
  const sp = await seedServiceProvider(stack.db);
  const account = await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: REALM,
  });
  await seedClient(
    stack.db,
    { account_sid: account.account_sid, username: 'alice', password: 'alice-pass' },
    CIPHER,
  );
  await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: HOOK_REALM,
    registration_hook: { url: hook.url },
  });
  [sbcA, sbcB] = await Promise.all([
    startRegistrar(stack, { ...engineEnv(engineA), ...BANS }),
    startRegistrar(stack, { ...engineEnv(engineB), ...BANS }),
  ]);
});

afterAll(async () => {
  await Promise.all([sbcA?.stop(), sbcB?.stop()]);
  await Promise.all([engineA?.stop(), engineB?.stop(), hook?.stop()]);
  await stack?.stop();
});

const redisSet = (): Promise<string[]> => sbcA.redis.smembers(KEY);

async function wrongPasswords(phone: SipPhone, count: number, realm = REALM): Promise<void> {
  for (let i = 0; i < count; i++) {
    const { res } = await phone.registerWithAuth({ user: 'alice', realm, password: 'guess', expires: 60 });
    expect(res.status).toBe(403);
  }
}

describe('bans shared by every SBC on one Redis', () => {
  it('bans a source after the failure limit on SBC A, drops it on SBC B too, and lets it back when the ban ends', async () => {
    const attacker = await SipPhone.open('127.0.0.71', engineA.sipTarget);
    const attackerAtB = await SipPhone.open('127.0.0.71', engineB.sipTarget);
    const neighbour = await SipPhone.open('127.0.0.72', engineB.sipTarget);
    try {
      await wrongPasswords(attacker, 5);
      await waitUntil(async () => (await redisSet()).includes('127.0.0.71'), {
        what: 'the ban in Redis',
        timeoutMs: 2000,
      });
      const text = await sbcA.scrape();
      expect(metricValue(text, 'sbc_auth_failures_total', { method: 'REGISTER' })).toBe(5);
      expect(metricValue(text, 'sbc_source_bans_total', { reason: 'auth-failures' })).toBe(1);
      expect(metricValue(text, 'sbc_alerts_total', { alert_type: 'source-banned' })).toBe(1);

      // within the engines' refresh interval (1 s) SBC B drops the attacker, even with the right password
      await new Promise((r) => setTimeout(r, 1500));
      await expect(
        attackerAtB.send(attackerAtB.registerText({ user: 'alice', realm: REALM, expires: 60 }), 1500),
      ).rejects.toThrow(/no final answer/);
      const { res } = await neighbour.registerWithAuth({
        user: 'alice',
        realm: REALM,
        password: 'alice-pass',
        expires: 60,
      });
      expect(res.status).toBe(200);

      // the ban (4 s) ends: an app takes it out of the set (every 5 s), the engines read it (every 1 s)
      await waitUntil(async () => !(await redisSet()).includes('127.0.0.71'), {
        what: 'the ban to end',
        timeoutMs: 12_000,
        intervalMs: 250,
      });
      await new Promise((r) => setTimeout(r, 1500));
      const back = await attackerAtB.registerWithAuth({
        user: 'alice',
        realm: REALM,
        password: 'alice-pass',
        expires: 60,
      });
      expect(back.res.status).toBe(200);
    } finally {
      attacker.close();
      attackerAtB.close();
      neighbour.close();
    }
  });

  it('never bans the private network (JAMBONES_NETWORK_CIDR)', async () => {
    const phone = await SipPhone.open('127.0.1.73', engineA.sipTarget);
    try {
      await wrongPasswords(phone, 8);
      await new Promise((r) => setTimeout(r, 300));
      expect(await redisSet()).not.toContain('127.0.1.73');
    } finally {
      phone.close();
    }
  });

  it('bans at once when the auth hook answers blacklist: true', async () => {
    hook.behave({ kind: 'deny', blacklist: true });
    const phone = await SipPhone.open('127.0.0.74', engineA.sipTarget);
    try {
      const { res } = await phone.registerWithAuth({
        user: 'mallory',
        realm: HOOK_REALM,
        password: 'x',
        expires: 60,
      });
      expect(res.status).toBe(403);
      expect(res.header('x-reason')).toMatch(/detected potential spammer/);
      await waitUntil(async () => (await redisSet()).includes('127.0.0.74'), {
        what: 'the ban in Redis',
        timeoutMs: 2000,
      });
      expect(metricValue(await sbcA.scrape(), 'sbc_source_bans_total', { reason: 'hook-blacklist' })).toBe(1);
    } finally {
      phone.close();
      hook.behave({ kind: 'normal' });
    }
  });
});
