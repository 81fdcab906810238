/**
 * What goes wrong around a REGISTER: the customer's hook slow, down, answering garbage or an HTTP
 * error; hosted accounts at their device limit; Redis going away. Also sipp with local credentials
 * (MD5 is offered first by default: sipp's [authentication] only does MD5 and reads the first
 * challenge, as many phones do) and SHA-256 through the hook (SBC_HOOK_DIGEST_ALGORITHMS=MD5,SHA-256).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAccount, seedClient, seedServiceProvider, seedSubscription } from '@sbc/db';
import {
  freeTcpPort,
  runSipp,
  startFakeAuthHook,
  startRedis,
  type FakeAuthHook,
  type RedisService,
} from '@sbc/testkit';
import {
  CIPHER,
  PHONE,
  metricValue,
  scenario,
  startRegistrar,
  startStack,
  type RunningRegistrar,
  type Stack,
} from './helpers.js';
import { authorization, challengesOf, SipPhone } from '@sbc/testkit';

const HOOK_REALM = 'hook.sbc.test';
const LOCAL_REALM = 'local.sbc.test';

let stack: Stack;
let redis: RedisService;
let hook: FakeAuthHook;
let registrar: RunningRegistrar | undefined;

const ENV = {
  SBC_AUTH_HOOK_TIMEOUT_MS: '300',
  SBC_HOOK_DIGEST_ALGORITHMS: 'MD5,SHA-256',
  SBC_RETRY_AFTER: '17',
};

function sipp(name: string, user: string, realm: string, password: string, transport: 'udp' | 'tcp' = 'udp') {
  return runSipp({
    scenario: scenario(name),
    target: stack.engine.sipTarget,
    localAddress: PHONE,
    transport,
    keys: { expires: 3600 },
    users: { rows: [[user, realm, `[authentication username=${user} password=${password}]`]] },
  });
}

async function withPhone<T>(use: (phone: SipPhone) => Promise<T>): Promise<T> {
  const phone = await SipPhone.open(PHONE, stack.engine.sipTarget);
  try {
    return await use(phone);
  } finally {
    phone.close();
  }
}

const alerts = async (type: string) =>
  metricValue(await registrar!.scrape(), 'sbc_alerts_total', { alert_type: type });

beforeAll(async () => {
  [stack, redis] = await Promise.all([startStack(), startRedis()]);
  hook = await startFakeAuthHook({
    users: [{ username: 'john', password: '1234', realm: HOOK_REALM, expires: 3600 }],
  });
  const sp = await seedServiceProvider(stack.db, { root_domain: 'sbc.test' });
  await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: HOOK_REALM,
    registration_hook: { url: hook.url },
  });
  await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'down.sbc.test',
    registration_hook: { url: `http://127.0.0.1:${await freeTcpPort('127.0.0.1')}/auth` },
  });
  const local = await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: LOCAL_REALM,
  });
  await seedClient(
    stack.db,
    { account_sid: local.account_sid, username: 'alice', password: 'alice-pass' },
    CIPHER,
  );
  // Hosted plans: 0 sessions × ratio 0 + 1 device = 1 device; and an account with no devices at all.
  const limited = await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'limited.sbc.test',
    device_to_call_ratio: 0,
  });
  await seedSubscription(stack.db, {
    account_sid: limited.account_sid,
    products: [
      { category: 'voice_call_session', quantity: 5 },
      { category: 'device', quantity: 1 },
    ],
  });
  const none = await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'none.sbc.test',
    device_to_call_ratio: 0,
  });
  await seedSubscription(stack.db, {
    account_sid: none.account_sid,
    products: [{ category: 'voice_call_session', quantity: 5 }],
  });
  for (const account_sid of [limited.account_sid, none.account_sid]) {
    for (const username of ['carol', 'dave']) {
      await seedClient(stack.db, { account_sid, username, password: `${username}-pass` }, CIPHER);
    }
  }
  registrar = await startRegistrar(stack, ENV, (o) => o, { redis });
});

afterAll(async () => {
  await registrar?.stop();
  await hook?.stop();
  await redis?.stop().catch(() => undefined);
  await stack?.stop();
});

describe.each(['udp', 'tcp'] as const)('sipp with local credentials over %s', (transport) => {
  it('registers against the clients table', async () => {
    const result = await sipp('uac-register-auth', 'alice', LOCAL_REALM, 'alice-pass', transport);
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(/algorithm=MD5[\s\S]*algorithm=SHA-256/);
  });

  it('refuses a wrong password with 403', async () => {
    const result = await sipp('uac-register-auth-403', 'alice', LOCAL_REALM, 'bad', transport);
    expect(result.ok, result.describe()).toBe(true);
  });
});

describe('the auth hook', () => {
  it('accepts a SHA-256 answer when SHA-256 is offered to hook accounts', () =>
    withPhone(async (phone) => {
      const { res, challenge } = await phone.registerWithAuth({
        user: 'john',
        realm: HOOK_REALM,
        expires: 600,
        password: '1234',
        algorithm: 'SHA-256',
      });
      expect(challenge.algorithm).toBe('SHA-256');
      expect(res.status).toBe(200);
      expect(hook.requests.at(-1)?.body).toMatchObject({ algorithm: 'SHA-256', expires: 600 });
    }));

  it('slower than SBC_AUTH_HOOK_TIMEOUT_MS: 503 with Retry-After and an alert', async () => {
    const before = await alerts('webhook-connection-failure');
    hook.behave({ kind: 'slow', delayMs: 2000 });
    try {
      const result = await sipp('uac-register-auth-503', 'john', HOOK_REALM, '1234');
      expect(result.ok, result.describe()).toBe(true);
      expect(result.messages).toMatch(/SIP\/2\.0 503[\s\S]*Retry-After: 17/);
    } finally {
      hook.behave({ kind: 'normal' });
    }
    expect(await alerts('webhook-connection-failure')).toBe(before + 1);
    const text = await registrar!.scrape();
    expect(metricValue(text, 'sbc_auth_hook_duration_seconds_count', { outcome: 'slow' })).toBe(1);
    expect(metricValue(text, 'sbc_registrations_total', { result: 'unavailable', reason: 'hook_slow' })).toBe(
      1,
    );
  });

  it('down (connection refused): 503 with Retry-After and an alert', async () => {
    const before = await alerts('webhook-connection-failure');
    const result = await sipp('uac-register-auth-503', 'john', 'down.sbc.test', '1234');
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(/SIP\/2\.0 503[\s\S]*Retry-After: 17/);
    expect(await alerts('webhook-connection-failure')).toBe(before + 1);
  });

  it('hanging up without an answer: 503', async () => {
    hook.behave({ kind: 'hang-up' });
    try {
      const result = await sipp('uac-register-auth-503', 'john', HOOK_REALM, '1234');
      expect(result.ok, result.describe()).toBe(true);
    } finally {
      hook.behave({ kind: 'normal' });
    }
  });

  it('answering an HTTP error: 503 and a webhook-failure alert', async () => {
    const before = await alerts('webhook-failure');
    hook.behave({ kind: 'http-error', status: 500 });
    try {
      const result = await sipp('uac-register-auth-503', 'john', HOOK_REALM, '1234');
      expect(result.ok, result.describe()).toBe(true);
    } finally {
      hook.behave({ kind: 'normal' });
    }
    expect(await alerts('webhook-failure')).toBe(before + 1);
  });

  it('answering garbage: 403 and a webhook-failure alert', async () => {
    const before = await alerts('webhook-failure');
    hook.behave({ kind: 'garbage' });
    try {
      const result = await sipp('uac-register-auth-403', 'john', HOOK_REALM, '1234');
      expect(result.ok, result.describe()).toBe(true);
      expect(result.messages).toContain('X-Reason: Invalid credentials');
    } finally {
      hook.behave({ kind: 'normal' });
    }
    expect(await alerts('webhook-failure')).toBe(before + 1);
  });
});

describe('device limits of hosted accounts (JAMBONES_HOSTING)', () => {
  beforeAll(async () => {
    await registrar?.stop();
    registrar = await startRegistrar(stack, { ...ENV, JAMBONES_HOSTING: '1' }, (o) => o, { redis });
  });

  it('refuses a new device beyond the limit with 503 Max Devices Registered; refreshes still pass', () =>
    withPhone(async (phone) => {
      const first = await phone.registerWithAuth({
        user: 'carol',
        realm: 'limited.sbc.test',
        expires: 600,
        password: 'carol-pass',
      });
      expect(first.res.status).toBe(200);
      const second = await phone.register({ user: 'dave', realm: 'limited.sbc.test', expires: 600 });
      expect(second.status).toBe(503);
      expect(second.reason).toBe('Max Devices Registered');
      // carol again, from elsewhere: a refresh of a registered AOR is not a new device.
      await withPhone(async (other) => {
        const again = await other.registerWithAuth({
          user: 'carol',
          realm: 'limited.sbc.test',
          expires: 600,
          password: 'carol-pass',
        });
        expect(again.res.status).toBe(200);
      });
    }));

  it('an account without devices in its plan: 503 and an account-device-limit alert', () =>
    withPhone(async (phone) => {
      const res = await phone.register({ user: 'carol', realm: 'none.sbc.test', expires: 600 });
      expect(res.status).toBe(503);
      expect(res.reason).toBe('Max Devices Registered');
      expect(await alerts('account-device-limit')).toBe(1);
    }));

  it('un-registering is never limited', () =>
    withPhone(async (phone) => {
      const res = await phone.register({ user: 'dave', realm: 'limited.sbc.test', expires: 0 });
      expect(res.status).toBe(401);
    }));
});

describe('Redis down', () => {
  it('a REGISTER whose binding cannot be stored gets a fast 503 with Retry-After, never 200', () =>
    withPhone(async (phone) => {
      const first = await phone.register({ user: 'alice', realm: LOCAL_REALM, expires: 600 });
      expect(first.status).toBe(401);
      await redis.stop();
      const [challenge] = challengesOf(first);
      const res = await phone.register({
        user: 'alice',
        realm: LOCAL_REALM,
        expires: 600,
        cseq: 2,
        authorization: authorization(challenge!, {
          username: 'alice',
          password: 'alice-pass',
          uri: `sip:${LOCAL_REALM}`,
        }),
      });
      expect(res.status).toBe(503);
      expect(res.header('retry-after')).toBe('17');
      expect(
        metricValue(await registrar!.scrape(), 'sbc_registrations_total', {
          result: 'unavailable',
          reason: 'redis',
        }),
      ).toBe(1);
    }));
});
