/**
 * The digest step of a SIP app, shared by sbc-registrar (REGISTER) and sbc-inbound (INVITE): the
 * account's registration hook decides when it has one (jambonz's customer contract), else the
 * `clients` table; for INVITE, auth trunks are tried first. Results are plain data: a success, or
 * a refusal carrying the SIP answer (status, reason label, X-Reason, headers). Metrics, alerts and
 * log lines go through small callbacks, so this needs neither prom-client nor @sbc/service.
 */
import { lookupClientByAccountAndUsername, type AccountWithHook, type Db } from '@sbc/db';
import { authenticateRequest, type AuthTrunk } from './authenticate.js';
import { nonceCountOf, parseDigestCredentials } from './digest-credentials.js';
import type { DigestAlgorithm } from './digest-response.js';
import type { AuthGrant } from './hook-answer.js';
import type { AuthHookOutcome } from './hook-client.js';
import type { NonceManager } from './nonce.js';
import { NO_QOP_NONCE_COUNT, type ReplayGuard } from './replay-guard.js';

export interface SipDigestOptions {
  nonces: NonceManager;
  replayGuard: ReplayGuard;
  /** Offered with local credentials: clients table, auth trunks (SBC_DIGEST_ALGORITHMS). */
  algorithms: readonly DigestAlgorithm[];
  /** Offered when a hook decides (SBC_HOOK_DIGEST_ALGORITHMS). */
  hookAlgorithms: readonly DigestAlgorithm[];
  hookTimeoutMs: number;
  /** JAMBONES_HTTP_USER_AGENT_HEADER. */
  httpUserAgent?: string | undefined;
  /** ENCRYPTION_SECRET (or JWT_SECRET) and LEGACY_CRYPTO: to decrypt clients.password. */
  encryptionSecret: string | undefined;
  legacyCrypto: boolean;
  /** Retry-After of the 503 when a dependency fails. */
  retryAfterSeconds: number;
}

/** The request, as drachtio-srf's `req` has it. */
export interface SipDigestMessage {
  method: string;
  source_address: string;
  source_port: number;
  headers: Readonly<Record<string, string>>;
  get(name: string): string | undefined;
}

/** What is authenticated: a REGISTER for its AOR, or an INVITE for its Request-URI. */
export type SipDigestTarget<T extends AuthTrunk = AuthTrunk> =
  /** realm = the AOR host; `expires` = the expiry requested (sent to the hook). */
  | { method: 'REGISTER'; aorHost: string; expires: number }
  /** realm = the Request-URI host; voip_carriers rows with trunk_type 'auth' are tried first. */
  | { method: 'INVITE'; requestUriHost: string; authTrunks?: readonly T[] };

type Level = 'error' | 'warn' | 'info' | 'debug';
/** A logger with pino's `(obj, msg)` form (@sbc/service's `RequestLog`, or a pino child). */
export type DigestLog = Record<Level, (obj: Record<string, unknown>, msg: string) => void>;

export type NonceRejection = 'forged' | 'stale' | 'replayed';
export type DigestAlertType = 'webhook-failure' | 'webhook-connection-failure';

/** Where the step reports; every member optional. */
export interface DigestObserver {
  /** An auth hook answered (or not): its outcome and latency. */
  observeHook?(outcome: AuthHookOutcome, seconds: number): void;
  /** Credentials refused for their nonce. */
  nonceRejected?(reason: NonceRejection): void;
  /** An alert (jambonz's types): the hook is unreachable, slow or broken. */
  alert?(type: DigestAlertType, message: string, detail: Record<string, unknown>): void;
}

export interface SipDigestContext {
  db: Db;
  log: DigestLog;
  observer?: DigestObserver;
  /** ms since the epoch (default Date.now()). */
  now?: number;
}

export interface SipDigestSuccess<T extends AuthTrunk = AuthTrunk> {
  ok: true;
  username: string;
  grant: AuthGrant;
  via: 'hook' | 'client' | 'trunk';
  /** The auth trunk whose credentials matched (INVITE). */
  trunk?: T;
}

/** The SIP answer for a request that is not (yet) authenticated. */
export interface SipDigestRefusal {
  ok: false;
  /** challenge: 401; bad-request: 400; forbidden: 403; unavailable: 503. */
  kind: 'challenge' | 'bad-request' | 'forbidden' | 'unavailable';
  status: 401 | 400 | 403 | 503;
  /** Metric label, snake_case: `no_credentials`, `stale_nonce`, `hook_denied`, `hook_slow`, `redis`, … */
  reason: string;
  /** jambonz's X-Reason ('Invalid credentials', `detected potential spammer from ip:port`, …). */
  xReason?: string;
  /** 403: the auth hook answered `blacklist: true` (ban the source). */
  blacklist?: boolean;
  /** 401: one WWW-Authenticate value per algorithm, in order (never 407 / Proxy-Authenticate). */
  wwwAuthenticate: readonly string[];
  /** Other headers: the hook's `headers` on a 403, Retry-After on a 503. */
  headers: Readonly<Record<string, string>>;
  /** For the log. */
  message: string;
}

export type SipDigestResult<T extends AuthTrunk = AuthTrunk> = SipDigestSuccess<T> | SipDigestRefusal;

const NONCE_REJECTIONS = {
  'forged-nonce': 'forged',
  'stale-nonce': 'stale',
  'replayed-nonce-count': 'replayed',
} as const;

const HOOK_ALERTS = {
  unreachable: 'webhook-connection-failure',
  slow: 'webhook-connection-failure',
  'http-error': 'webhook-failure',
  garbage: 'webhook-failure',
} as const;

const UNAVAILABLE_REASONS = {
  'hook-unreachable': 'hook_unreachable',
  'hook-slow': 'hook_slow',
  'hook-http-error': 'hook_http_error',
  'replay-guard': 'redis',
  'client-lookup': 'credentials',
} as const;

const realmOf = (target: SipDigestTarget<AuthTrunk>): string =>
  target.method === 'REGISTER' ? target.aorHost : target.requestUriHost;

/**
 * A replay guard whose first claim is already on its way: when the request carries credentials for
 * `realm` with a nonce we issued, their (nonce, nc) claim is sent now, so it shares a Redis round
 * trip with the app's other first commands (the client pipelines commands of one tick) instead of
 * costing one more. The digest step then gets that answer; any other claim goes to Redis. A claim
 * spent on a request that ends earlier only retires a nonce the client was using anyway.
 */
export function prefetchReplayClaim(
  authorization: string | undefined,
  realm: string,
  options: Pick<SipDigestOptions, 'nonces' | 'replayGuard'>,
  now: number,
): ReplayGuard {
  const { nonces, replayGuard } = options;
  if (!authorization) return replayGuard;
  let nonce: string;
  let nc: number;
  try {
    const credentials = parseDigestCredentials(authorization);
    if (credentials.realm.toLowerCase() !== realm.toLowerCase()) return replayGuard;
    if (nonces.check(credentials.nonce, now).kind !== 'valid') return replayGuard;
    nonce = credentials.nonce;
    nc =
      credentials.qop === undefined ? NO_QOP_NONCE_COUNT : (nonceCountOf(credentials) ?? NO_QOP_NONCE_COUNT);
  } catch {
    return replayGuard;
  }
  let pending: Promise<boolean> | undefined = replayGuard.claim(nonce, nc, nonces.replayTtlSeconds);
  // Nobody may ask for it (the request ends before authentication): never an unhandled rejection.
  pending.catch(() => undefined);
  return {
    claim(claimNonce, claimNc, ttlSeconds) {
      if (pending && claimNonce === nonce && claimNc === nc) {
        const answer = pending;
        pending = undefined;
        return answer;
      }
      return replayGuard.claim(claimNonce, claimNc, ttlSeconds);
    },
  };
}

/**
 * Digest-authenticates a REGISTER or an INVITE from a device of `account`: nonce checks and replay
 * claim, then (INVITE) auth trunks, then the account's registration hook or the clients table.
 * Never rejects: every failure is a refusal with its SIP answer.
 */
export async function authenticateSipRequest<T extends AuthTrunk = AuthTrunk>(
  req: SipDigestMessage,
  target: SipDigestTarget<T>,
  account: Pick<AccountWithHook, 'account_sid' | 'registration_hook' | 'webhook_secret'>,
  options: SipDigestOptions,
  context: SipDigestContext,
): Promise<SipDigestResult<T>> {
  const { db, log, observer = {} } = context;
  const hook = account.registration_hook;
  const { encryptionSecret, legacyCrypto } = options;
  const result = await authenticateRequest<T>(
    {
      method: req.method,
      realm: realmOf(target),
      authorization: req.get('Authorization'),
      source: { address: req.source_address, port: req.source_port },
      headers: req.headers,
      expires: target.method === 'REGISTER' ? target.expires : null,
    },
    {
      nonces: options.nonces,
      replayGuard: options.replayGuard,
      algorithms: hook ? options.hookAlgorithms : options.algorithms,
      ...(target.method === 'INVITE' && target.authTrunks && { authTrunks: target.authTrunks }),
      ...(context.now !== undefined && { now: context.now }),
      credentials: hook
        ? {
            kind: 'hook',
            hook,
            webhookSecret: account.webhook_secret,
            timeoutMs: options.hookTimeoutMs,
            ...(options.httpUserAgent !== undefined && { userAgent: options.httpUserAgent }),
          }
        : {
            kind: 'clients',
            lookupClient: (username) =>
              encryptionSecret === undefined
                ? Promise.reject(new Error('ENCRYPTION_SECRET / JWT_SECRET is not set'))
                : lookupClientByAccountAndUsername(db, account.account_sid, username, {
                    encryptionSecret,
                    legacyCrypto,
                  }),
          },
    },
  );

  if ('hook' in result && result.hook) observer.observeHook?.(result.hook.kind, result.hook.latencyMs / 1000);
  const source = `${req.source_address}:${req.source_port}`;
  const refusal = (
    kind: SipDigestRefusal['kind'],
    status: SipDigestRefusal['status'],
    reason: string,
    message: string,
    extra: Partial<Pick<SipDigestRefusal, 'xReason' | 'wwwAuthenticate' | 'headers' | 'blacklist'>> = {},
  ): SipDigestRefusal => ({
    ok: false,
    kind,
    status,
    reason,
    message,
    wwwAuthenticate: [],
    headers: {},
    ...extra,
  });

  switch (result.kind) {
    case 'challenge': {
      if (result.reason in NONCE_REJECTIONS) {
        const reason = NONCE_REJECTIONS[result.reason as keyof typeof NONCE_REJECTIONS];
        observer.nonceRejected?.(reason);
        log[reason === 'stale' ? 'debug' : 'warn']({ source, reason }, 'digest nonce refused');
      }
      return refusal('challenge', 401, result.reason.replaceAll('-', '_'), `challenge: ${result.reason}`, {
        wwwAuthenticate: result.headerValues,
      });
    }
    case 'bad-request':
      log.info({ err: result.error.message }, 'unparseable Authorization header');
      return refusal('bad-request', 400, 'bad_credentials_header', result.error.message, {
        xReason: 'Invalid Authorization header',
      });
    case 'forbidden': {
      const { credentials, hook: called } = result;
      if (result.reason === 'hook-garbage' && called?.kind === 'garbage') {
        observer.alert?.(HOOK_ALERTS.garbage, 'auth hook answered something other than the documented JSON', {
          url: called.url,
          problem: called.problem,
          excerpt: called.excerpt,
        });
      } else {
        log.info(
          {
            username: credentials.username,
            reason: result.reason,
            msg: result.msg,
            blacklist: result.blacklist,
          },
          'authentication failed',
        );
      }
      const xReason = result.blacklist ? `detected potential spammer from ${source}` : 'Invalid credentials';
      return refusal('forbidden', 403, result.reason.replaceAll('-', '_'), xReason, {
        xReason,
        ...(result.blacklist && { blacklist: true }),
        headers: { ...result.headers },
      });
    }
    case 'unavailable': {
      const called = result.hook;
      if (called && called.kind in HOOK_ALERTS) {
        observer.alert?.(
          HOOK_ALERTS[called.kind as keyof typeof HOOK_ALERTS],
          `auth hook ${called.kind}: ${result.message}`,
          { url: called.url, latencyMs: Math.round(called.latencyMs) },
        );
      } else {
        log.error({ cause: result.cause, err: result.message }, 'cannot check credentials');
      }
      return refusal('unavailable', 503, UNAVAILABLE_REASONS[result.cause], result.message, {
        headers: { 'Retry-After': String(options.retryAfterSeconds) },
      });
    }
    case 'authenticated':
      return {
        ok: true,
        username: result.credentials.username,
        grant: result.grant,
        via: result.via,
        ...(result.trunk !== undefined && { trunk: result.trunk }),
      };
  }
}
