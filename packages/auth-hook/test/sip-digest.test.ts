import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@sbc/db';
import { createRedisClient, NonceStore, type Redis } from '@sbc/redis';
import { digestResponse, startRedis, type RedisService } from '@sbc/testkit';
import {
  authenticateSipRequest,
  NonceManager,
  prefetchReplayClaim,
  type DigestObserver,
  type SipDigestOptions,
} from '../src/index.js';

/**
 * The app-level step with an INVITE from a carrier's auth trunk: realm = Request-URI host, trunks
 * first, 401 only. (The clients-table and hook paths are run end to end by sbc-registrar's tests.)
 */
const realm = 'sip.sbc.test';
const trunk = { name: 'pbx', inbound_auth_username: 'pbx', inbound_auth_password: 'trunk-pass' };
// Never queried here: trunks match before the clients table is read.
const db = {} as Db;
const log = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const account = { account_sid: 'acct-1', registration_hook: undefined, webhook_secret: 'secret' };

let redis: RedisService;
let client: Redis;
let options: SipDigestOptions;

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient({ host: redis.host, port: redis.port, db: redis.db });
  options = {
    nonces: new NonceManager({ secret: 'the-shared-sbc-nonce-secret', maxAgeSeconds: 300 }),
    replayGuard: new NonceStore(client),
    algorithms: ['SHA-256', 'MD5'],
    hookAlgorithms: ['MD5'],
    hookTimeoutMs: 1000,
    encryptionSecret: undefined,
    legacyCrypto: false,
    retryAfterSeconds: 7,
  };
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

function invite(authorization?: string) {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  return {
    method: 'INVITE',
    source_address: '127.0.0.2',
    source_port: 5060,
    headers,
    get: (name: string) => headers[name.toLowerCase()],
  };
}

function answer(nonce: string, password: string, nc = '00000001'): string {
  const uri = `sip:+15551234@${realm}`;
  const cnonce = 'c0ffee';
  const response = digestResponse({
    username: 'pbx',
    realm,
    password,
    method: 'INVITE',
    uri,
    nonce,
    algorithm: 'MD5',
    qop: 'auth',
    nc,
    cnonce,
  });
  return `Digest username="pbx", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`;
}

describe('authenticateSipRequest (INVITE)', () => {
  const target = { method: 'INVITE' as const, requestUriHost: realm, authTrunks: [trunk] };

  it('challenges with 401 and one WWW-Authenticate per algorithm for the Request-URI host', async () => {
    const result = await authenticateSipRequest(invite(), target, account, options, { db, log });
    expect(result).toMatchObject({ ok: false, kind: 'challenge', status: 401, reason: 'no_credentials' });
    if (result.ok) return;
    expect(result.wwwAuthenticate).toHaveLength(2);
    expect(result.wwwAuthenticate[0]).toContain(`realm="${realm}"`);
    expect(result.wwwAuthenticate[0]).toContain('algorithm=SHA-256');
  });

  it('accepts the credentials of an auth trunk and says which one', async () => {
    const nonce = options.nonces.issue();
    const authorization = answer(nonce, 'trunk-pass');
    const guard = prefetchReplayClaim(authorization, realm, options, Date.now());
    const result = await authenticateSipRequest(
      invite(authorization),
      target,
      account,
      { ...options, replayGuard: guard },
      { db, log },
    );
    expect(result).toEqual({ ok: true, username: 'pbx', grant: {}, via: 'trunk', trunk });
  });

  it('refuses a replayed nonce-count with a stale challenge and reports it', async () => {
    const nonce = options.nonces.issue();
    const rejected: string[] = [];
    const observer: DigestObserver = { nonceRejected: (reason) => rejected.push(reason) };
    const authorization = answer(nonce, 'trunk-pass');
    await authenticateSipRequest(invite(authorization), target, account, options, { db, log });
    const again = await authenticateSipRequest(invite(authorization), target, account, options, {
      db,
      log,
      observer,
    });
    expect(again).toMatchObject({ ok: false, status: 401, reason: 'replayed_nonce_count' });
    expect(rejected).toEqual(['replayed']);
  });

  it('a wrong trunk password falls through to the clients table: 503 + Retry-After without a key', async () => {
    const nonce = options.nonces.issue();
    const result = await authenticateSipRequest(invite(answer(nonce, 'wrong')), target, account, options, {
      db,
      log,
    });
    expect(result).toMatchObject({
      ok: false,
      kind: 'unavailable',
      status: 503,
      reason: 'credentials',
      headers: { 'Retry-After': '7' },
    });
  });
});
