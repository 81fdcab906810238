import { buildDigestChallenges } from './digest-challenge.js';
import { nonceCountOf, parseDigestCredentials, type DigestCredentials } from './digest-credentials.js';
import { parseDigestAlgorithm, verifyDigestResponse, type DigestAlgorithm } from './digest-response.js';
import { DigestParseError } from './errors.js';
import type { AuthGrant } from './hook-answer.js';
import { callAuthHook, type AuthHookResult, type AuthHookTarget } from './hook-client.js';
import { verifyClientCredentials, type ClientRow } from './local-credentials.js';
import type { NonceManager } from './nonce.js';
import { NO_QOP_NONCE_COUNT, type ReplayGuard } from './replay-guard.js';

/** The SIP request being authenticated, as plain data. */
export interface AuthenticateRequestInput {
  /** SIP method. */
  method: string;
  /** The realm we challenge for: the Request-URI host (INVITE) or the AOR host (REGISTER). */
  realm: string;
  /** The `Authorization` (or with `proxy`, `Proxy-Authorization`) header value(s), if any. */
  authorization: string | readonly string[] | undefined;
  source: { address: string; port: number };
  /** All SIP request headers (sent to POST hooks). */
  headers: Readonly<Record<string, string>>;
  /** Requested REGISTER expiry in seconds; null for other methods. */
  expires: number | null;
}

/** A `voip_carriers` row with trunk_type 'auth' (inbound digest credentials of a carrier). */
export interface AuthTrunk {
  inbound_auth_username: string | null;
  inbound_auth_password: string | null;
}

/** Who decides whether the credentials are right. */
export type CredentialSource =
  /** The account's registration hook (`webhooks` row) and its webhook_secret. */
  | {
      kind: 'hook';
      hook: AuthHookTarget;
      webhookSecret?: string | null;
      timeoutMs?: number;
      userAgent?: string;
    }
  /** No hook: the `clients` table; the lookup returns the row with its password decrypted. */
  | { kind: 'clients'; lookupClient: (username: string) => Promise<ClientRow | null | undefined> };

export interface AuthenticateOptions<T extends AuthTrunk = AuthTrunk> {
  nonces: NonceManager;
  replayGuard: ReplayGuard;
  credentials: CredentialSource;
  /** Carriers whose inbound digest credentials are tried first (INVITE only, as jambonz does). */
  authTrunks?: readonly T[];
  /** Challenges offered, most preferred first. Default SHA-256 then MD5 (RFC 8760 §2.4). */
  algorithms?: readonly DigestAlgorithm[];
  /** Challenge with 407 / Proxy-Authenticate instead of 401 / WWW-Authenticate (jambonz: never). */
  proxy?: boolean;
  /** ms since the epoch; default Date.now(). */
  now?: number;
}

export type ChallengeReason =
  | 'no-credentials'
  /** Credentials for another realm only. */
  | 'other-realm'
  | 'unsupported-algorithm'
  /** qop other than auth (auth-int is not offered). */
  | 'unsupported-qop'
  /** A nonce we did not issue. */
  | 'forged-nonce'
  | 'stale-nonce'
  /** The (nonce, nc) pair was used before, or a no-qop nonce was used twice. */
  | 'replayed-nonce-count';

export type ForbiddenReason =
  | 'hook-denied'
  /** The hook answered 200 with something other than the documented JSON (DESIGN §5: a failure). */
  | 'hook-garbage'
  | 'unknown-user'
  | 'inactive-client'
  | 'invalid-password';

export type UnavailableCause =
  'hook-unreachable' | 'hook-slow' | 'hook-http-error' | 'replay-guard' | 'client-lookup';

export type AuthenticateResult<T extends AuthTrunk = AuthTrunk> =
  /** Answer `status` with one `headerName` header per value, in this order. */
  | {
      kind: 'challenge';
      status: 401 | 407;
      headerName: 'WWW-Authenticate' | 'Proxy-Authenticate';
      headerValues: string[];
      stale: boolean;
      reason: ChallengeReason;
    }
  /** Answer 403 (jambonz X-Reason: "Invalid credentials", or the spammer text when blacklist). */
  | {
      kind: 'forbidden';
      reason: ForbiddenReason;
      credentials: DigestCredentials;
      blacklist: boolean;
      /** Extra headers the hook asked for on the 403. */
      headers: Readonly<Record<string, string>>;
      msg?: string;
      hook?: AuthHookResult;
    }
  /** A dependency failed: answer 503 (with Retry-After). `hook.status` holds an HTTP error status. */
  | {
      kind: 'unavailable';
      cause: UnavailableCause;
      message: string;
      credentials: DigestCredentials;
      hook?: AuthHookResult;
    }
  /** The credentials header is not parseable: answer 400. */
  | { kind: 'bad-request'; error: DigestParseError }
  | {
      kind: 'authenticated';
      via: 'trunk' | 'hook' | 'client';
      credentials: DigestCredentials;
      grant: AuthGrant;
      trunk?: T;
      client?: ClientRow;
      hook?: AuthHookResult;
    };

type Challenge = Extract<AuthenticateResult, { kind: 'challenge' }>;

const DEFAULT_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

function challenge(
  input: AuthenticateRequestInput,
  options: AuthenticateOptions<AuthTrunk>,
  now: number,
  reason: ChallengeReason,
  stale = false,
): Challenge {
  const nonce = options.nonces.issue(now);
  return {
    kind: 'challenge',
    status: options.proxy ? 407 : 401,
    headerName: options.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate',
    headerValues: buildDigestChallenges({
      realm: input.realm,
      nonce,
      algorithms: options.algorithms ?? DEFAULT_ALGORITHMS,
      stale,
    }),
    stale,
    reason,
  };
}

/** The first credentials for our realm; a parse error only matters when nothing usable was sent. */
function pickCredentials(
  values: readonly string[],
  realm: string,
): { credentials: DigestCredentials } | { error: DigestParseError } | { otherRealm: true } {
  let firstError: DigestParseError | undefined;
  for (const value of values) {
    try {
      const credentials = parseDigestCredentials(value);
      if (credentials.realm.toLowerCase() === realm.toLowerCase()) return { credentials };
    } catch (err) {
      if (!(err instanceof DigestParseError)) throw err;
      firstError ??= err;
    }
  }
  return firstError ? { error: firstError } : { otherRealm: true };
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The whole digest step of a REGISTER or INVITE, as plain data in and out:
 * no credentials → challenge; unparseable → bad-request; other realm, unsupported algorithm or
 * qop, forged nonce → challenge; expired nonce or replayed nonce-count → challenge with
 * stale=true; then auth trunks, then the hook or the clients table decide.
 *
 * Clients without qop send no nonce-count: their nonce is single-use (claimed as nc 0), so a
 * second request with it is answered with a fresh stale=true challenge (no password prompt).
 * The replay claim happens before the hook is called, so a replayed request never reaches it.
 */
export async function authenticateRequest<T extends AuthTrunk = AuthTrunk>(
  input: AuthenticateRequestInput,
  options: AuthenticateOptions<T>,
): Promise<AuthenticateResult<T>> {
  const now = options.now ?? Date.now();
  const values =
    input.authorization === undefined
      ? []
      : typeof input.authorization === 'string'
        ? [input.authorization]
        : input.authorization;
  if (values.length === 0) return challenge(input, options, now, 'no-credentials');

  const picked = pickCredentials(values, input.realm);
  if ('error' in picked) return { kind: 'bad-request', error: picked.error };
  if ('otherRealm' in picked) return challenge(input, options, now, 'other-realm');
  const { credentials } = picked;

  if (!parseDigestAlgorithm(credentials.algorithm))
    return challenge(input, options, now, 'unsupported-algorithm');
  if (credentials.qop !== undefined && credentials.qop.toLowerCase() !== 'auth') {
    return challenge(input, options, now, 'unsupported-qop');
  }

  const nonce = options.nonces.check(credentials.nonce, now);
  if (nonce.kind === 'forged') return challenge(input, options, now, 'forged-nonce');
  if (nonce.kind === 'stale') return challenge(input, options, now, 'stale-nonce', true);

  const nc =
    credentials.qop === undefined ? NO_QOP_NONCE_COUNT : (nonceCountOf(credentials) ?? NO_QOP_NONCE_COUNT);
  let firstUse: boolean;
  try {
    firstUse = await options.replayGuard.claim(credentials.nonce, nc, options.nonces.replayTtlSeconds);
  } catch (err) {
    return { kind: 'unavailable', cause: 'replay-guard', message: messageOf(err), credentials };
  }
  if (!firstUse) return challenge(input, options, now, 'replayed-nonce-count', true);

  for (const trunk of options.authTrunks ?? []) {
    if (
      trunk.inbound_auth_username === credentials.username &&
      trunk.inbound_auth_password !== null &&
      verifyDigestResponse(credentials, { method: input.method, password: trunk.inbound_auth_password })
    ) {
      return { kind: 'authenticated', via: 'trunk', credentials, grant: {}, trunk };
    }
  }

  const source = options.credentials;
  if (source.kind === 'clients') {
    let client: ClientRow | null | undefined;
    try {
      client = await source.lookupClient(credentials.username);
    } catch (err) {
      return { kind: 'unavailable', cause: 'client-lookup', message: messageOf(err), credentials };
    }
    const local = verifyClientCredentials(client, credentials, { method: input.method });
    if (local.kind === 'fail') {
      return { kind: 'forbidden', reason: local.reason, credentials, blacklist: false, headers: {} };
    }
    return { kind: 'authenticated', via: 'client', credentials, grant: local.grant, client: local.client };
  }

  const hook = await callAuthHook(
    source.hook,
    {
      source_address: input.source.address,
      source_port: input.source.port,
      method: input.method,
      headers: input.headers,
      expires: input.expires,
      credentials,
    },
    {
      webhookSecret: source.webhookSecret,
      ...(source.timeoutMs !== undefined && { timeoutMs: source.timeoutMs }),
      ...(source.userAgent !== undefined && { userAgent: source.userAgent }),
    },
  );
  switch (hook.kind) {
    case 'ok':
      return { kind: 'authenticated', via: 'hook', credentials, grant: hook.grant, hook };
    case 'fail':
      return {
        kind: 'forbidden',
        reason: 'hook-denied',
        credentials,
        blacklist: hook.blacklist,
        headers: hook.headers,
        ...(hook.msg !== undefined && { msg: hook.msg }),
        hook,
      };
    case 'garbage':
      return { kind: 'forbidden', reason: 'hook-garbage', credentials, blacklist: false, headers: {}, hook };
    case 'unreachable':
      return { kind: 'unavailable', cause: 'hook-unreachable', message: hook.message, credentials, hook };
    case 'slow':
      return {
        kind: 'unavailable',
        cause: 'hook-slow',
        message: `no answer within ${hook.timeoutMs} ms`,
        credentials,
        hook,
      };
    case 'http-error':
      return {
        kind: 'unavailable',
        cause: 'hook-http-error',
        message: `the hook answered HTTP ${hook.status}`,
        credentials,
        hook,
      };
  }
}
