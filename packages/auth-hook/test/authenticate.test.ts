import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  digestResponse,
  freeTcpPort,
  startFakeAuthHook,
  startRedis,
  type FakeAuthHook,
  type RedisService,
} from '@sbc/testkit';
import { createRedisClient, NonceStore, type Redis } from '@sbc/redis';
import {
  authenticateRequest,
  NonceManager,
  type AuthenticateOptions,
  type AuthenticateRequestInput,
  type AuthenticateResult,
  type CredentialSource,
} from '../src/index.js';

const realm = 'jambonz.org';
const basicAuth = { username: 'foo', password: 'bar' };
const webhookSecret = 'foobar';

let redis: RedisService;
let client: Redis;
let hook: FakeAuthHook;
let nonces: NonceManager;
let options: AuthenticateOptions;
let hookSource: CredentialSource;

beforeAll(async () => {
  [redis, hook] = await Promise.all([
    startRedis(),
    startFakeAuthHook({
      users: [{ username: 'john', password: '1234', realm, expires: 600 }],
      basicAuth,
      webhookSecret,
    }),
  ]);
  client = createRedisClient({ host: redis.host, port: redis.port, db: redis.db, commandTimeoutMs: 500 });
  nonces = new NonceManager({ secret: 'the-shared-sbc-nonce-secret', maxAgeSeconds: 300 });
  hookSource = {
    kind: 'hook',
    hook: { url: hook.url, method: 'POST', ...basicAuth },
    webhookSecret,
    timeoutMs: 1000,
  };
  options = { nonces, replayGuard: new NonceStore(client), credentials: hookSource };
});
afterAll(async () => {
  client?.disconnect();
  await Promise.all([redis?.stop(), hook?.stop()]);
});
beforeEach(() => {
  hook.behave({ kind: 'normal' });
  hook.requests.length = 0;
});

function request(authorization?: string | string[], method = 'REGISTER'): AuthenticateRequestInput {
  return {
    method,
    realm,
    authorization,
    source: { address: '127.0.0.3', port: 5062 },
    headers: { 'call-id': 'a@127.0.0.3', cseq: `1 ${method}` },
    expires: method === 'REGISTER' ? 3600 : null,
  };
}

/** The phone's side: read our challenge and answer it (nc as a number; qop=false answers without qop). */
function answer(
  challengeValue: string,
  opts: {
    password?: string;
    nc?: number;
    qop?: boolean;
    username?: string;
    realm?: string;
    method?: string;
  } = {},
): string {
  const nonce = /nonce="([^"]+)"/.exec(challengeValue)![1]!;
  const algorithm = /algorithm=([^,\s]+)/.exec(challengeValue)![1]!;
  const username = opts.username ?? 'john';
  const r = opts.realm ?? realm;
  const uri = `sip:${realm}`;
  const qop = opts.qop === false ? undefined : 'auth';
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const response = digestResponse({
    username,
    realm: r,
    password: opts.password ?? '1234',
    method: opts.method ?? 'REGISTER',
    uri,
    nonce,
    algorithm,
    ...(qop && { qop, nc, cnonce: 'phone-cnonce' }),
  });
  return (
    `Digest username="${username}", realm="${r}", nonce="${nonce}", uri="${uri}", algorithm=${algorithm}, ` +
    `response="${response}"` +
    (qop ? `, qop=auth, nc=${nc}, cnonce="phone-cnonce"` : '')
  );
}

function expectChallenge(result: AuthenticateResult) {
  if (result.kind !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(result)}`);
  return result;
}

describe('authenticateRequest with a hook and the Redis replay guard', () => {
  it('challenges a request without credentials: SHA-256 then MD5, one fresh nonce', async () => {
    const result = expectChallenge(await authenticateRequest(request(), options));
    expect(result).toMatchObject({
      status: 401,
      headerName: 'WWW-Authenticate',
      stale: false,
      reason: 'no-credentials',
    });
    expect(result.headerValues).toHaveLength(2);
    expect(result.headerValues[0]).toMatch(
      /^Digest realm="jambonz.org", algorithm=SHA-256, qop="auth", nonce="[\w-]{43}"$/,
    );
    expect(result.headerValues[1]).toMatch(
      /^Digest realm="jambonz.org", algorithm=MD5, qop="auth", nonce="[\w-]{43}"$/,
    );
    const nonce = /nonce="([^"]+)"/.exec(result.headerValues[0]!)![1]!;
    expect(result.headerValues[1]).toContain(nonce);
    expect(nonces.check(nonce).kind).toBe('valid');
    expect(hook.requests).toHaveLength(0);
  });

  it('uses 407 / Proxy-Authenticate in proxy mode and the configured algorithms', async () => {
    const result = expectChallenge(
      await authenticateRequest(request(undefined, 'INVITE'), {
        ...options,
        proxy: true,
        algorithms: ['MD5'],
      }),
    );
    expect(result).toMatchObject({ status: 407, headerName: 'Proxy-Authenticate' });
    expect(result.headerValues).toHaveLength(1);
    expect(result.headerValues[0]).toContain('algorithm=MD5');
  });

  it('authenticates through the hook (SHA-256 and MD5) and refuses the replayed nonce-count', async () => {
    const challenge = expectChallenge(await authenticateRequest(request(), options));
    for (const [i, value] of challenge.headerValues.entries()) {
      const authorization = answer(value, { nc: i + 1 });
      const result = await authenticateRequest(request(authorization), options);
      expect(result).toMatchObject({ kind: 'authenticated', via: 'hook', grant: { expires: 600 } });
      if (result.kind === 'authenticated') {
        expect(result.credentials.username).toBe('john');
        expect(result.hook?.kind).toBe('ok');
      }
      const received = hook.requests.at(-1)!;
      expect(received.signatureOk).toBe(true);
      expect(received.basicAuthOk).toBe(true);
      expect(received.body).toMatchObject({ source_address: '127.0.0.3', source_port: 5062, expires: 3600 });

      const replay = expectChallenge(await authenticateRequest(request(authorization), options));
      expect(replay).toMatchObject({ stale: true, reason: 'replayed-nonce-count' });
      expect(replay.headerValues[0]).toContain('stale=true');
    }
    // The replays never reached the hook.
    expect(hook.requests).toHaveLength(2);
  });

  it('treats a nonce answered without qop as single-use', async () => {
    const challenge = expectChallenge(await authenticateRequest(request(), options));
    const authorization = answer(challenge.headerValues[1]!, { qop: false });
    expect((await authenticateRequest(request(authorization), options)).kind).toBe('authenticated');
    expect(expectChallenge(await authenticateRequest(request(authorization), options))).toMatchObject({
      stale: true,
      reason: 'replayed-nonce-count',
    });
  });

  it('shares the replay memory between SBC instances (two clients, one Redis)', async () => {
    const other = createRedisClient({ host: redis.host, port: redis.port, db: redis.db });
    try {
      const secondSbc = { ...options, replayGuard: new NonceStore(other) };
      const challenge = expectChallenge(await authenticateRequest(request(), options));
      const authorization = answer(challenge.headerValues[0]!);
      expect((await authenticateRequest(request(authorization), secondSbc)).kind).toBe('authenticated');
      expect(expectChallenge(await authenticateRequest(request(authorization), options)).reason).toBe(
        'replayed-nonce-count',
      );
    } finally {
      other.disconnect();
    }
  });

  it('answers an expired nonce with stale=true and a forged one without', async () => {
    const issuedAt = Date.now();
    const old = expectChallenge(await authenticateRequest(request(), { ...options, now: issuedAt }));
    const authorization = answer(old.headerValues[0]!);
    const stale = expectChallenge(
      await authenticateRequest(request(authorization), { ...options, now: issuedAt + 301_000 }),
    );
    expect(stale).toMatchObject({ stale: true, reason: 'stale-nonce' });

    const foreign = new NonceManager({ secret: 'another-sbc-cluster-secret' });
    const forgedChallenge = expectChallenge(
      await authenticateRequest(request(), { ...options, nonces: foreign }),
    );
    const forged = expectChallenge(
      await authenticateRequest(request(answer(forgedChallenge.headerValues[0]!)), options),
    );
    expect(forged).toMatchObject({ stale: false, reason: 'forged-nonce' });
    expect(forged.headerValues[0]).not.toContain('stale');
    expect(hook.requests).toHaveLength(0);
  });

  it('forbids a wrong password with the hook message', async () => {
    const challenge = expectChallenge(await authenticateRequest(request(), options));
    const result = await authenticateRequest(
      request(answer(challenge.headerValues[0]!, { password: 'nope' })),
      options,
    );
    expect(result).toMatchObject({
      kind: 'forbidden',
      reason: 'hook-denied',
      msg: 'invalid password',
      blacklist: false,
    });
  });

  it('re-challenges credentials for another realm or algorithm, and answers bad-request for garbage', async () => {
    const challenge = expectChallenge(await authenticateRequest(request(), options));
    const otherRealm = answer(challenge.headerValues[0]!, { realm: 'example.com' });
    expect(expectChallenge(await authenticateRequest(request(otherRealm), options)).reason).toBe(
      'other-realm',
    );

    // Of several Authorization headers, the one for our realm counts (RFC 3261 §22.3).
    const ours = answer(challenge.headerValues[0]!);
    expect((await authenticateRequest(request([otherRealm, 'Digest garbage', ours]), options)).kind).toBe(
      'authenticated',
    );

    const sha512 = ours.replace('algorithm=SHA-256', 'algorithm=SHA-512-256');
    expect(expectChallenge(await authenticateRequest(request(sha512), options)).reason).toBe(
      'unsupported-algorithm',
    );
    const authInt = answer(challenge.headerValues[0]!, { nc: 9 }).replace('qop=auth', 'qop=auth-int');
    expect(expectChallenge(await authenticateRequest(request(authInt), options)).reason).toBe(
      'unsupported-qop',
    );

    const bad = await authenticateRequest(request('Digest username="john", realm="jambonz.org"'), options);
    expect(bad).toMatchObject({
      kind: 'bad-request',
      error: { failure: 'missing-parameter', parameter: 'nonce' },
    });
    expect((await authenticateRequest(request('Basic am9objoxMjM0'), options)).kind).toBe('bad-request');
  });

  it('authenticates an auth trunk before asking the hook', async () => {
    const trunks = [
      { voip_carrier_sid: 'pbx-1', inbound_auth_username: 'john', inbound_auth_password: 'other' },
      { voip_carrier_sid: 'pbx-2', inbound_auth_username: 'pbx', inbound_auth_password: 's3cret' },
    ];
    const challenge = expectChallenge(await authenticateRequest(request(undefined, 'INVITE'), options));
    const authorization = answer(challenge.headerValues[0]!, {
      username: 'pbx',
      password: 's3cret',
      method: 'INVITE',
    });
    const result = await authenticateRequest(request(authorization, 'INVITE'), {
      ...options,
      authTrunks: trunks,
    });
    expect(result).toMatchObject({
      kind: 'authenticated',
      via: 'trunk',
      trunk: { voip_carrier_sid: 'pbx-2' },
    });
    expect(hook.requests).toHaveLength(0);

    // A trunk with the username but another password falls through to the hook (jambonz order).
    const john = answer(challenge.headerValues[0]!, { nc: 2, method: 'INVITE' });
    const viaHook = await authenticateRequest(request(john, 'INVITE'), { ...options, authTrunks: trunks });
    expect(viaHook).toMatchObject({ kind: 'authenticated', via: 'hook' });
    expect(hook.requests[0]!.body).toMatchObject({ method: 'INVITE', expires: null });
  });

  it('maps every hook failure to unavailable or forbidden', async () => {
    const challenge = expectChallenge(await authenticateRequest(request(), options));
    let nc = 0;
    const attempt = () =>
      authenticateRequest(request(answer(challenge.headerValues[0]!, { nc: ++nc })), options);

    hook.behave({ kind: 'slow', delayMs: 3000 });
    expect(await attempt()).toMatchObject({
      kind: 'unavailable',
      cause: 'hook-slow',
      hook: { kind: 'slow' },
    });
    hook.behave({ kind: 'http-error', status: 500 });
    expect(await attempt()).toMatchObject({
      kind: 'unavailable',
      cause: 'hook-http-error',
      hook: { status: 500 },
    });
    hook.behave({ kind: 'hang-up' });
    expect(await attempt()).toMatchObject({ kind: 'unavailable', cause: 'hook-unreachable' });
    hook.behave({ kind: 'garbage' });
    expect(await attempt()).toMatchObject({
      kind: 'forbidden',
      reason: 'hook-garbage',
      hook: { kind: 'garbage' },
    });
    hook.behave({
      kind: 'garbage',
      contentType: 'application/json',
      body: '{"status":"fail","blacklist":true,"headers":{"X-Reason":"bye"}}',
    });
    expect(await attempt()).toMatchObject({
      kind: 'forbidden',
      reason: 'hook-denied',
      blacklist: true,
      headers: { 'X-Reason': 'bye' },
    });

    const closed = await freeTcpPort('127.0.0.1');
    const down = await authenticateRequest(request(answer(challenge.headerValues[0]!, { nc: ++nc })), {
      ...options,
      credentials: { kind: 'hook', hook: { url: `http://127.0.0.1:${closed}/auth` } },
    });
    expect(down).toMatchObject({
      kind: 'unavailable',
      cause: 'hook-unreachable',
      hook: { error: 'ECONNREFUSED' },
    });
  });

  it('answers unavailable when Redis is down (runs last: stops Redis)', async () => {
    const challenge = expectChallenge(await authenticateRequest(request(), options));
    await redis.stop();
    const result = await authenticateRequest(request(answer(challenge.headerValues[0]!)), options);
    expect(result).toMatchObject({ kind: 'unavailable', cause: 'replay-guard' });
    expect(hook.requests).toHaveLength(0);
  });
});
