/**
 * Phones registering through the real engine: sipp (UDP and TCP) and a small UDP phone for SHA-256
 * and hand-made nonces; the customer hook is the fake one of @sbc/testkit, credentials without a
 * hook come from the clients table of a real MariaDB, bindings land in a real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonceManager } from '@sbc/auth-hook';
import { listSbcAddresses, seedAccount, seedClient, seedSbcAddress, seedServiceProvider } from '@sbc/db';
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
import {
  authorization,
  challengesOf,
  freePort,
  runSipp,
  SipPhone,
  startFakeAuthHook,
  waitUntil,
  type FakeAuthHook,
} from '@sbc/testkit';

const HOOK_REALM = 'hook.sbc.test';
const LOCAL_REALM = 'local.sbc.test';
const WEBHOOK_SECRET = 'wh-secret-registrar-test';

let stack: Stack;
let hook: FakeAuthHook;
let registrar: RunningRegistrar;
let privatePort: number;

const john = (password = '1234') => [
  'john',
  HOOK_REALM,
  `[authentication username=john password=${password}]`,
];

function sipp(name: string, rows: string[][], options: { transport?: 'udp' | 'tcp'; expires?: number } = {}) {
  return runSipp({
    scenario: scenario(name),
    target: stack.engine.sipTarget,
    localAddress: PHONE,
    transport: options.transport ?? 'udp',
    keys: { expires: options.expires ?? 3600 },
    users: { rows },
  });
}

async function record(aor: string) {
  const raw = await registrar.redis.get(`user:${aor}`);
  return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
}

beforeAll(async () => {
  privatePort = await freePort('127.0.1.1');
  stack = await startStack({
    engine: { extraContacts: [`sip:127.0.1.1:${privatePort};transport=tcp`] },
  });
  hook = await startFakeAuthHook({
    users: [
      {
        username: 'john',
        password: '1234',
        realm: HOOK_REALM,
        expires: 3600,
        call_hook: 'http://127.0.0.1:3100/call',
        call_status_hook: 'http://127.0.0.1:3100/status',
      },
      { username: 'jane', password: '5678', realm: HOOK_REALM, expires: 20 },
    ],
    basicAuth: { username: 'foo', password: 'bar' },
    webhookSecret: WEBHOOK_SECRET,
  });
  const sp = await seedServiceProvider(stack.db, { root_domain: 'sbc.test' });
  await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: HOOK_REALM,
    registration_hook: { url: hook.url, username: 'foo', password: 'bar' },
    webhook_secret: WEBHOOK_SECRET,
  });
  const local = await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: LOCAL_REALM,
  });
  await seedClient(
    stack.db,
    {
      account_sid: local.account_sid,
      username: 'alice',
      password: 'alice-pass',
      allow_direct_user_calling: true,
    },
    CIPHER,
  );
  await seedClient(
    stack.db,
    { account_sid: local.account_sid, username: 'bob', password: 'bob-pass', is_active: false },
    CIPHER,
  );
  await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'deactivated.sbc.test',
    is_active: false,
  });
  await seedSbcAddress(stack.db, { ipv4: '127.0.0.99', last_updated: new Date(Date.now() - 7200_000) });
  registrar = await startRegistrar(stack, {}, (o) => ({ ...o, usersGaugeIntervalMs: 100 }));
});

afterAll(async () => {
  await registrar?.stop();
  await hook?.stop();
  await stack?.stop();
});

describe.each(['udp', 'tcp'] as const)('a phone over %s with the account hook', (transport) => {
  it('is challenged (MD5 only for a hook), registers, and the binding is stored field by field', async () => {
    const before = hook.requests.length;
    const started = Date.now();
    const result = await sipp('uac-register-auth', [john()], { transport });
    expect(result.ok, result.describe()).toBe(true);
    const challenge = /SIP\/2\.0 401[\s\S]*?\r?\n\r?\n/.exec(result.messages)?.[0] ?? '';
    expect(challenge.match(/WWW-Authenticate:/g)).toHaveLength(1);
    expect(challenge).toMatch(
      /WWW-Authenticate: Digest realm="hook\.sbc\.test", algorithm=MD5, qop="auth", nonce="/,
    );
    // UDP phones are told 30 s (jambonz's NAT rule); TCP gets what was granted.
    const ok = /SIP\/2\.0 200 OK[\s\S]*$/.exec(result.messages)?.[0] ?? '';
    expect(ok).toContain(`Expires: ${transport === 'udp' ? 30 : 3600}`);

    // The hook got jambonz's request: Basic auth, signature, the whole SIP request.
    expect(hook.requests.length).toBe(before + 1);
    const call = hook.requests.at(-1)!;
    expect(call.basicAuthOk).toBe(true);
    expect(call.signatureOk).toBe(true);
    expect(call.body).toMatchObject({
      source_address: PHONE,
      method: 'REGISTER',
      expires: 3600,
      scheme: 'digest',
      username: 'john',
      realm: HOOK_REALM,
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
    });
    expect((call.body.headers as Record<string, string>)['call-id']).toMatch(/@127\.0\.0\.3$/);

    const raw = await registrar.redis.get(`user:john@${HOOK_REALM}`);
    const stored = JSON.parse(raw!) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual([
      'contact',
      'sbcAddress',
      'privateSbcAddress',
      'protocol',
      'proxy',
      'callHook',
      'callStatusHook',
      'allow_direct_app_calling',
      'allow_direct_queue_calling',
      'allow_direct_user_calling',
      'expiryTime',
    ]);
    const sbc = stack.engine.sip.map((s) => `${s.protocol}/${s.host}:${s.port}`).join(',');
    expect(stored.contact).toMatch(new RegExp(`^sip:john@127\\.0\\.0\\.3:\\d+;transport=${transport}$`, 'i'));
    expect(stored.proxy).toMatch(/^sip:127\.0\.0\.3:\d+$/);
    expect(stored).toMatchObject({
      sbcAddress: sbc,
      privateSbcAddress: `127.0.1.1:${privatePort}`,
      protocol: transport,
      callHook: 'http://127.0.0.1:3100/call',
      callStatusHook: 'http://127.0.0.1:3100/status',
      allow_direct_app_calling: false,
      allow_direct_queue_calling: false,
      allow_direct_user_calling: false,
    });
    // Redis keeps the granted 3600 s whatever the phone was told.
    const expiryTime = stored.expiryTime as number;
    expect(expiryTime).toBeGreaterThanOrEqual(started + 3600_000);
    expect(expiryTime).toBeLessThanOrEqual(Date.now() + 3600_000);
    const ttl = await registrar.redis.ttl(`user:john@${HOOK_REALM}`);
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(Number(await registrar.redis.zscore('active-user', `user:john@${HOOK_REALM}`))).toBe(expiryTime);
  });

  it('answers a refresh from the same ip:port from the stored binding, without calling the hook', async () => {
    const before = hook.requests.length;
    const result = await sipp('uac-register-refresh', [john()], { transport });
    expect(result.ok, result.describe()).toBe(true);
    expect(hook.requests.length).toBe(before + 1);
    const last = result.messages.split('CSeq: 3 REGISTER').at(-1)!;
    expect(last).toMatch(/Expires: 30/);
    expect(
      metricValue(await registrar.scrape(), 'sbc_registrations_total', { result: 'cached' }),
    ).toBeGreaterThan(0);
  });

  it('un-registers with Expires: 0 (challenged too) and deletes both keys', async () => {
    const result = await sipp('uac-register-unregister', [john()], { transport });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages.split('CSeq: 4 REGISTER').at(-1)).toMatch(/Expires: 0/);
    expect(await registrar.redis.get(`user:john@${HOOK_REALM}`)).toBeNull();
    expect(await registrar.redis.zscore('active-user', `user:john@${HOOK_REALM}`)).toBeNull();
  });

  it('removes the binding with Contact: * and Expires: 0', async () => {
    const result = await sipp('uac-register-wildcard', [john()], { transport });
    expect(result.ok, result.describe()).toBe(true);
    expect(await registrar.redis.get(`user:john@${HOOK_REALM}`)).toBeNull();
    expect(await registrar.redis.zscore('active-user', `user:john@${HOOK_REALM}`)).toBeNull();
  });

  it('refuses a wrong password with 403 Invalid credentials', async () => {
    const result = await sipp('uac-register-auth-403', [john('wrong')], { transport });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(/SIP\/2\.0 403[\s\S]*X-Reason: Invalid credentials/);
    expect(hook.requests.at(-1)?.answer).toEqual({ status: 'fail', msg: 'invalid password' });
  });
});

describe('requests refused before any challenge', () => {
  const refused = (name: string, user: string, domain: string) => sipp(name, [[user, domain, '']]);

  it('unknown realm: 403 Unknown or invalid realm', async () => {
    const result = await refused('uac-register-403', 'john', 'unknown.sbc.test');
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Reason: Unknown or invalid realm');
  });

  it('deactivated account: 403 Account has been deactivated', async () => {
    const result = await refused('uac-register-403', 'john', 'deactivated.sbc.test');
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Reason: Account has been deactivated');
  });

  it('an IPv4 Request-URI (no SIP realm): 403', async () => {
    const result = await refused('uac-register-403', 'john', '127.0.0.9');
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Reason: A SIP realm is required');
  });

  it('an unparsable address of record (jambonz gh-83) never reaches the app: the engine answers 400', async () => {
    // jambonz answers 403 "Invalid address of record" (drachtio-server lets the From through); our
    // engine refuses the malformed From/To itself.
    const result = await refused('uac-register-400', 'john', `${HOOK_REALM}@${HOOK_REALM}`);
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('400 Bad Request (malformed From header)');
  });

  it('an address of record without a user part: 403 Invalid address of record', () =>
    withPhone(async (phone) => {
      const res = await phone.register({
        user: 'john',
        realm: HOOK_REALM,
        expires: 60,
        to: `<sip:${HOOK_REALM}>`,
      });
      expect(res.status).toBe(403);
      expect(res.header('x-reason')).toBe('Invalid address of record');
    }));

  it('no Contact: 400', async () => {
    const result = await refused('uac-register-no-contact', 'john', HOOK_REALM);
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Reason: Contact header is required for REGISTER requests');
  });

  it('no expires (header or Contact parameter): 400', async () => {
    const result = await refused('uac-register-no-expires', 'john', HOOK_REALM);
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toContain('X-Reason: Expires header or Contact expires parameter is required');
  });

  it('Contact: * with a non-zero expiry: 400 (RFC 3261 10.3)', async () => {
    const result = await refused('uac-register-wildcard-invalid', 'john', HOOK_REALM);
    expect(result.ok, result.describe()).toBe(true);
  });
});

describe('expires negotiation', () => {
  it('keeps the shorter expiry the hook grants, as the TTL and as the answer over TCP', async () => {
    const result = await sipp(
      'uac-register-auth',
      [['jane', HOOK_REALM, '[authentication username=jane password=5678]']],
      { transport: 'tcp' },
    );
    expect(result.ok, result.describe()).toBe(true);
    expect(/SIP\/2\.0 200 OK[\s\S]*$/.exec(result.messages)?.[0]).toContain('Expires: 20');
    expect(await registrar.redis.ttl(`user:jane@${HOOK_REALM}`)).toBeLessThanOrEqual(20);
  });
});

/** A fresh phone (a new source port, so no cached binding answers for it). */
async function withPhone<T>(use: (phone: SipPhone) => Promise<T>): Promise<T> {
  const phone = await SipPhone.open(PHONE, stack.engine.sipTarget);
  try {
    return await use(phone);
  } finally {
    phone.close();
  }
}

describe('local credentials (no hook): the clients table', () => {
  it('offers MD5 and SHA-256 (RFC 8760) and accepts a SHA-256 answer', () =>
    withPhone(async (phone) => {
      const { res, challenge } = await phone.registerWithAuth({
        user: 'alice',
        realm: LOCAL_REALM,
        expires: 600,
        password: 'alice-pass',
        algorithm: 'SHA-256',
      });
      expect(challenge.algorithm).toBe('SHA-256');
      expect(res.status).toBe(200);
      expect(res.header('expires')).toBe('30');
      const stored = await record(`alice@${LOCAL_REALM}`);
      expect(stored).toMatchObject({
        protocol: 'udp',
        allow_direct_user_calling: true,
        proxy: `sip:${PHONE}:${phone.port}`,
      });
    }));

  it('accepts an MD5 answer to the same challenge', () =>
    withPhone(async (phone) => {
      const first = await phone.register({ user: 'alice', realm: LOCAL_REALM, expires: 600 });
      expect(challengesOf(first).map((c) => c.algorithm)).toEqual(['MD5', 'SHA-256']);
      const { res } = await phone.registerWithAuth({
        user: 'alice',
        realm: LOCAL_REALM,
        expires: 600,
        password: 'alice-pass',
        algorithm: 'MD5',
      });
      expect(res.status).toBe(200);
    }));

  it('refuses a wrong password and an inactive client with 403', () =>
    withPhone(async (phone) => {
      const wrong = await phone.registerWithAuth({
        user: 'alice',
        realm: LOCAL_REALM,
        expires: 600,
        password: 'nope',
        algorithm: 'SHA-256',
      });
      expect(wrong.res.status).toBe(403);
      expect(wrong.res.header('x-reason')).toBe('Invalid credentials');
      const inactive = await phone.registerWithAuth({
        user: 'bob',
        realm: LOCAL_REALM,
        expires: 600,
        password: 'bob-pass',
      });
      expect(inactive.res.status).toBe(403);
    }));
});

describe('nonces are ours and checked', () => {
  let phone: SipPhone;
  beforeAll(async () => {
    phone = await SipPhone.open(PHONE, stack.engine.sipTarget);
  });
  afterAll(() => phone?.close());

  const rejections = async (reason: string) =>
    metricValue(await registrar.scrape(), 'sbc_digest_nonce_rejections_total', { reason });

  it('an expired nonce gets a fresh challenge with stale=true', async () => {
    const before = await rejections('stale');
    const old = registrar.app.nonces.issue(Date.now() - 3600_000);
    const res = await phone.register({
      user: 'alice',
      realm: LOCAL_REALM,
      expires: 600,
      authorization: authorization(
        { realm: LOCAL_REALM, nonce: old, algorithm: 'MD5', qop: 'auth' },
        { username: 'alice', password: 'alice-pass', uri: `sip:${LOCAL_REALM}` },
      ),
    });
    expect(res.status).toBe(401);
    const challenges = challengesOf(res);
    expect(challenges.every((c) => c.stale && c.nonce !== old)).toBe(true);
    expect(await rejections('stale')).toBe(before + 1);
  });

  it('a nonce we did not issue (another key) is challenged again without stale, and counted', async () => {
    const before = await rejections('forged');
    const foreign = new NonceManager({ secret: 'some-other-cluster-secret' }).issue();
    const res = await phone.register({
      user: 'alice',
      realm: LOCAL_REALM,
      expires: 600,
      authorization: authorization(
        { realm: LOCAL_REALM, nonce: foreign, algorithm: 'MD5', qop: 'auth' },
        { username: 'alice', password: 'alice-pass', uri: `sip:${LOCAL_REALM}` },
      ),
    });
    expect(res.status).toBe(401);
    expect(challengesOf(res).some((c) => c.stale)).toBe(false);
    expect(await rejections('forged')).toBe(before + 1);
  });

  it('a replayed Authorization (same nonce and nc) is refused and never reaches the hook', async () => {
    const before = await rejections('replayed');
    const { res, authorization: header } = await phone.registerWithAuth({
      user: 'john',
      realm: HOOK_REALM,
      expires: 600,
      password: '1234',
    });
    expect(res.status).toBe(200);
    const hookCalls = hook.requests.length;
    // Sent from elsewhere: from the phone's own ip:port the cached-refresh shortcut would answer.
    const replay = await withPhone((attacker) =>
      attacker.register({
        user: 'john',
        realm: HOOK_REALM,
        expires: 600,
        authorization: header,
        cseq: 7,
      }),
    );
    expect(replay.status).toBe(401);
    expect(challengesOf(replay)[0]?.stale).toBe(true);
    expect(hook.requests.length).toBe(hookCalls);
    expect(await rejections('replayed')).toBe(before + 1);
  });
});

describe('the SBC itself', () => {
  it('records its public address in sbc_addresses and removes stale rows', async () => {
    const rows = await listSbcAddresses(stack.db);
    const udp = stack.engine.sip.find((s) => s.protocol === 'udp')!;
    expect(rows.map((r) => [r.ipv4, r.port])).toEqual([[udp.host, udp.port]]);
    expect(rows[0]?.last_updated).toBeInstanceOf(Date);
  });

  it('exports registrations by result and reason, hook latency and the registered users gauge', async () => {
    await waitUntil(async () => metricValue(await registrar.scrape(), 'sbc_registered_users') > 0, {
      what: 'the registered users gauge',
    });
    const text = await registrar.scrape();
    expect(
      metricValue(text, 'sbc_registrations_total', { result: 'registered', reason: 'hook' }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(text, 'sbc_registrations_total', { result: 'registered', reason: 'client' }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(text, 'sbc_registrations_total', { result: 'rejected', reason: 'unknown_realm' }),
    ).toBe(1);
    expect(
      metricValue(text, 'sbc_registrations_total', { result: 'challenged', reason: 'no_credentials' }),
    ).toBeGreaterThan(0);
    expect(metricValue(text, 'sbc_auth_hook_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(metricValue(text, 'sbc_auth_hook_duration_seconds_count', { outcome: 'fail' })).toBeGreaterThan(0);
  });
});
