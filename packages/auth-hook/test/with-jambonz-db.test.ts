import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digestResponse,
  startFakeAuthHook,
  startMysql,
  startRedis,
  type FakeAuthHook,
  type MysqlService,
  type RedisService,
  type TestDatabase,
} from '@sbc/testkit';
import {
  createDb,
  lookupAccountBySipRealm,
  lookupAuthTrunks,
  lookupClientByAccountAndUsername,
  schemaSql,
  seedAccount,
  seedCarrier,
  seedClient,
  seedServiceProvider,
  type Db,
  type PasswordCipherOptions,
} from '@sbc/db';
import { createRedisClient, NonceStore, type Redis } from '@sbc/redis';
import {
  authenticateRequest,
  NonceManager,
  type AuthenticateOptions,
  type AuthenticateRequestInput,
  type AuthenticateResult,
  type CredentialSource,
} from '../src/index.js';

// The apps' wiring end to end: rows from a jambonz schema (@sbc/db), nonces in Redis (@sbc/redis),
// the customer's hook (testkit), and this package deciding.

const cipher: PasswordCipherOptions = { encryptionSecret: 'the-encryption-secret' };
const localRealm = 'local.example.com';
const hookedRealm = 'hooked.example.com';

let mysql: MysqlService;
let database: TestDatabase;
let db: Db;
let redis: RedisService;
let redisClient: Redis;
let hook: FakeAuthHook;
let accountSid: string;
let serviceProviderSid: string;
let options: Omit<AuthenticateOptions, 'credentials'>;

beforeAll(async () => {
  [mysql, redis, hook] = await Promise.all([
    startMysql(),
    startRedis(),
    startFakeAuthHook({
      users: [{ username: 'carol', password: 'c4rol', realm: hookedRealm, expires: 120 }],
      basicAuth: { username: 'hookuser', password: 'hookpass' },
      webhookSecret: 'wh_secret_hooked',
    }),
  ]);
  database = await mysql.createDatabase({ schema: schemaSql() });
  db = createDb({
    host: database.host,
    port: database.port,
    user: database.user,
    password: database.password,
    database: database.database,
    connectTimeoutMs: 1000,
    queryTimeoutMs: 2000,
  });
  redisClient = createRedisClient({ host: redis.host, port: redis.port, db: redis.db });

  ({ service_provider_sid: serviceProviderSid } = await seedServiceProvider(db));
  ({ account_sid: accountSid } = await seedAccount(db, {
    service_provider_sid: serviceProviderSid,
    sip_realm: localRealm,
  }));
  await seedAccount(db, {
    service_provider_sid: serviceProviderSid,
    sip_realm: hookedRealm,
    webhook_secret: 'wh_secret_hooked',
    registration_hook: { url: hook.url, method: 'POST', username: 'hookuser', password: 'hookpass' },
  });
  await seedClient(
    db,
    { account_sid: accountSid, username: 'alice', password: 'wonder1and', allow_direct_queue_calling: false },
    cipher,
  );
  await seedClient(
    db,
    { account_sid: accountSid, username: 'bob', password: 'b0b', is_active: false },
    cipher,
  );
  await seedCarrier(db, {
    service_provider_sid: serviceProviderSid,
    account_sid: accountSid,
    name: 'customer pbx',
    trunk_type: 'auth',
    inbound_auth_username: 'pbx',
    inbound_auth_password: 'pbx-pass',
  });

  options = {
    nonces: new NonceManager({ secret: 'the-shared-sbc-nonce-secret' }),
    replayGuard: new NonceStore(redisClient),
  };
});
afterAll(async () => {
  redisClient?.disconnect();
  await db?.close().catch(() => undefined);
  await database?.drop().catch(() => undefined);
  await Promise.all([mysql?.stop(), redis?.stop(), hook?.stop()]);
});

const clientsOfAccount: CredentialSource = {
  kind: 'clients',
  lookupClient: (username) => lookupClientByAccountAndUsername(db, accountSid, username, cipher),
};

function request(realm: string, authorization?: string, method = 'REGISTER'): AuthenticateRequestInput {
  return {
    method,
    realm,
    authorization,
    source: { address: '127.0.0.3', port: 5060 },
    headers: { 'call-id': 'x@127.0.0.3' },
    expires: method === 'REGISTER' ? 3600 : null,
  };
}

/** Gets a challenge and answers its first (SHA-256) offer like a phone. */
async function login(
  realm: string,
  username: string,
  password: string,
  credentials: CredentialSource,
  method = 'REGISTER',
  extra: Partial<AuthenticateOptions> = {},
): Promise<AuthenticateResult> {
  const challenge = await authenticateRequest(request(realm, undefined, method), { ...options, credentials });
  if (challenge.kind !== 'challenge') throw new Error(`expected a challenge, got ${challenge.kind}`);
  const offer = challenge.headerValues[0]!;
  const nonce = /nonce="([^"]+)"/.exec(offer)![1]!;
  const algorithm = /algorithm=([^,]+)/.exec(offer)![1]!;
  const digest = { username, realm, password, method, uri: `sip:${realm}`, nonce, algorithm };
  const response = digestResponse({ ...digest, qop: 'auth', nc: '00000001', cnonce: 'cn' });
  const authorization =
    `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="sip:${realm}", ` +
    `algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="cn", response="${response}"`;
  return authenticateRequest(request(realm, authorization, method), { ...options, credentials, ...extra });
}

describe('authenticateRequest against jambonz rows', () => {
  it('accepts a client from the clients table (password decrypted by @sbc/db) with its flags', async () => {
    const result = await login(localRealm, 'alice', 'wonder1and', clientsOfAccount);
    expect(result).toMatchObject({
      kind: 'authenticated',
      via: 'client',
      grant: {
        allow_direct_app_calling: true,
        allow_direct_queue_calling: false,
        allow_direct_user_calling: true,
      },
      client: { username: 'alice', account_sid: accountSid },
    });
  });

  it('forbids a wrong password, an inactive client and an unknown user', async () => {
    expect(await login(localRealm, 'alice', 'wonderland', clientsOfAccount)).toMatchObject({
      kind: 'forbidden',
      reason: 'invalid-password',
    });
    expect(await login(localRealm, 'bob', 'b0b', clientsOfAccount)).toMatchObject({
      kind: 'forbidden',
      reason: 'inactive-client',
    });
    expect(await login(localRealm, 'mallory', 'x', clientsOfAccount)).toMatchObject({
      kind: 'forbidden',
      reason: 'unknown-user',
    });
  });

  it('calls the account hook found by realm, signed with the account webhook_secret', async () => {
    const account = await lookupAccountBySipRealm(db, hookedRealm);
    expect(account?.registration_hook).toBeDefined();
    const source: CredentialSource = {
      kind: 'hook',
      hook: account!.registration_hook!,
      webhookSecret: account!.webhook_secret,
    };
    const result = await login(hookedRealm, 'carol', 'c4rol', source);
    expect(result).toMatchObject({ kind: 'authenticated', via: 'hook', grant: { expires: 120 } });
    const received = hook.requests.at(-1)!;
    expect(received.basicAuthOk).toBe(true);
    expect(received.signatureOk).toBe(true);
  });

  it('accepts an auth trunk from voip_carriers on INVITE', async () => {
    const trunks = await lookupAuthTrunks(db, { accountSid, serviceProviderSid });
    const result = await login(localRealm, 'pbx', 'pbx-pass', clientsOfAccount, 'INVITE', {
      authTrunks: trunks,
    });
    expect(result).toMatchObject({ kind: 'authenticated', via: 'trunk', trunk: { name: 'customer pbx' } });
  });

  it('answers unavailable when MySQL is down (runs last: stops MySQL)', async () => {
    await mysql.stop();
    const result = await login(localRealm, 'alice', 'wonder1and', clientsOfAccount);
    expect(result).toMatchObject({ kind: 'unavailable', cause: 'client-lookup' });
  });
});
