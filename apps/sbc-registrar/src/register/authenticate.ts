/**
 * Step 4: digest authentication (jambonz's digestChallenge), through @sbc/auth-hook. The account's
 * registration hook decides when it has one (jambonz's customer contract, unchanged), else the
 * `clients` table. Nonces are ours and checked; replays are refused before the hook is called.
 */
import {
  authenticateRequest,
  NO_QOP_NONCE_COUNT,
  nonceCountOf,
  parseDigestCredentials,
  type AuthGrant,
  type AuthHookResult,
  type DigestAlgorithm,
  type NonceManager,
  type ReplayGuard,
} from '@sbc/auth-hook';
import { lookupClientByAccountAndUsername, type AccountWithHook, type Db } from '@sbc/db';
import type { RequestLog } from '../log.js';
import type { RaiseAlert, RegistrarMetrics } from '../metrics.js';
import {
  BadCredentialsError,
  ChallengeAnswer,
  DependencyUnavailableError,
  InvalidCredentialsError,
} from './errors.js';
import type { Registration } from './parse.js';

export interface AuthStepOptions {
  nonces: NonceManager;
  replayGuard: ReplayGuard;
  /** Offered with local credentials (SBC_DIGEST_ALGORITHMS). */
  algorithms: readonly DigestAlgorithm[];
  /** Offered when a hook decides (SBC_HOOK_DIGEST_ALGORITHMS, MD5 by default: see README). */
  hookAlgorithms: readonly DigestAlgorithm[];
  hookTimeoutMs: number;
  /** JAMBONES_HTTP_USER_AGENT_HEADER. */
  httpUserAgent: string | undefined;
  /** ENCRYPTION_SECRET (or JWT_SECRET) and LEGACY_CRYPTO: to decrypt clients.password. */
  encryptionSecret: string | undefined;
  legacyCrypto: boolean;
  retryAfterSeconds: number;
}

/** What the request needs to carry for this step. */
export interface AuthMessage {
  method: string;
  source_address: string;
  source_port: number;
  headers: Readonly<Record<string, string>>;
  get(name: string): string | undefined;
}

export interface Authenticated {
  username: string;
  grant: AuthGrant;
  via: 'hook' | 'client' | 'trunk';
}

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

/**
 * A replay guard whose first claim is already on its way: when the REGISTER carries credentials for
 * our realm with a nonce we issued, their (nonce, nc) claim is sent now, in the same Redis round
 * trip as the cached-binding lookup (the client pipelines commands of one tick), instead of one
 * round trip later. The authentication step then gets that answer; any other claim goes to Redis.
 * A claim spent on a request that ends earlier (cached refresh, unknown realm) only retires a
 * nonce the client was using anyway.
 */
export function prefetchReplayClaim(
  authorization: string | undefined,
  realm: string,
  options: Pick<AuthStepOptions, 'nonces' | 'replayGuard'>,
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

/** Resolves with who the caller is, or throws the `RegisterAnswer` the REGISTER must get. */
export async function authenticate(
  db: Db,
  req: AuthMessage,
  registration: Registration,
  account: AccountWithHook,
  options: AuthStepOptions,
  context: { log: RequestLog; metrics: RegistrarMetrics; alert: RaiseAlert; now: number },
): Promise<Authenticated> {
  const { log, metrics, alert } = context;
  const hook = account.registration_hook;
  const result = await authenticateRequest(
    {
      method: req.method,
      realm: registration.realm,
      authorization: req.get('Authorization'),
      source: { address: req.source_address, port: req.source_port },
      headers: req.headers,
      expires: registration.expires,
    },
    {
      nonces: options.nonces,
      replayGuard: options.replayGuard,
      algorithms: hook ? options.hookAlgorithms : options.algorithms,
      now: context.now,
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
            lookupClient: (username) => {
              if (options.encryptionSecret === undefined) {
                return Promise.reject(new Error('ENCRYPTION_SECRET / JWT_SECRET is not set'));
              }
              return lookupClientByAccountAndUsername(db, account.account_sid, username, {
                encryptionSecret: options.encryptionSecret,
                legacyCrypto: options.legacyCrypto,
              });
            },
          },
    },
  );

  if ('hook' in result && result.hook) observeHook(result.hook, metrics);

  switch (result.kind) {
    case 'challenge': {
      if (result.reason in NONCE_REJECTIONS) {
        const reason = NONCE_REJECTIONS[result.reason as keyof typeof NONCE_REJECTIONS];
        metrics.nonceRejections.inc({ reason });
        const level = reason === 'stale' ? 'debug' : 'warn';
        log[level]({ source: `${req.source_address}:${req.source_port}`, reason }, 'digest nonce refused');
      }
      throw new ChallengeAnswer(result.reason.replaceAll('-', '_'), result.headerValues);
    }
    case 'bad-request':
      log.info({ err: result.error.message }, 'unparseable Authorization header');
      throw new BadCredentialsError();
    case 'forbidden': {
      const { credentials, hook: called } = result;
      if (result.reason === 'hook-garbage' && called?.kind === 'garbage') {
        alert(HOOK_ALERTS.garbage, 'auth hook answered something other than the documented JSON', {
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
      const xReason = result.blacklist
        ? `detected potential spammer from ${req.source_address}:${req.source_port}`
        : 'Invalid credentials';
      throw new InvalidCredentialsError(result.reason.replaceAll('-', '_'), xReason, result.headers);
    }
    case 'unavailable': {
      const called = result.hook;
      if (called && called.kind in HOOK_ALERTS) {
        alert(
          HOOK_ALERTS[called.kind as keyof typeof HOOK_ALERTS],
          `auth hook ${called.kind}: ${result.message}`,
          {
            url: called.url,
            latencyMs: Math.round(called.latencyMs),
          },
        );
      } else {
        log.error({ cause: result.cause, err: result.message }, 'cannot check credentials');
      }
      const reason =
        result.cause === 'hook-unreachable'
          ? 'hook_unreachable'
          : result.cause === 'hook-slow'
            ? 'hook_slow'
            : result.cause === 'hook-http-error'
              ? 'hook_http_error'
              : result.cause === 'replay-guard'
                ? 'redis'
                : 'credentials';
      throw new DependencyUnavailableError(reason, options.retryAfterSeconds, result.message);
    }
    case 'authenticated':
      return { username: result.credentials.username, grant: result.grant, via: result.via };
  }
}

function observeHook(hook: AuthHookResult, metrics: RegistrarMetrics): void {
  metrics.hookDuration.observe({ outcome: hook.kind }, hook.latencyMs / 1000);
}
