import type { Redis } from 'ioredis';

/** Redis could not be reached in time: down, connection refused, command timeout, reconnecting. */
export class RedisUnavailableError extends Error {
  override readonly name: string = 'RedisUnavailableError';
}

/** Redis refused our credentials (WRONGPASS, NOAUTH): unusable until the configuration is fixed. */
export class RedisAuthError extends RedisUnavailableError {
  override readonly name = 'RedisAuthError';
}

/** Redis answered with an error reply (e.g. WRONGPASS, NOAUTH, WRONGTYPE, a script error). */
export class RedisCommandError extends Error {
  override readonly name = 'RedisCommandError';
}

/** A value stored under a jambonz key does not have the expected format. */
export class RedisDataError extends Error {
  override readonly name = 'RedisDataError';
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}

/** Client options that cannot work (e.g. sentinels without a master name). */
export class RedisConfigError extends Error {
  override readonly name = 'RedisConfigError';
}

/** A store method was called with an argument it cannot turn into a key or value. */
export class RedisArgumentError extends Error {
  override readonly name = 'RedisArgumentError';
}

/** What store methods reject with. */
export type RedisError = RedisUnavailableError | RedisAuthError | RedisCommandError | RedisDataError;

/** Messages and codes ioredis / node use when there is no usable connection. */
const UNAVAILABLE = [
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE/,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /Command timed out/i,
  /max retries per request/i,
  /All sentinels are unreachable/i,
  /^LOADING\b/,
  /^MASTERDOWN\b/,
];

const AUTH_FAILED = /^(WRONGPASS|NOAUTH)\b|called without any password configured|invalid password/i;

/** What createRedisClient knows about a client, used to word errors (never holds a message with a password). */
export interface ClientContext {
  /** Passwords to scrub from any message. */
  readonly secrets: readonly string[];
  /** `host:port` or the sentinel description. */
  readonly target: string;
  /** Last connection error (already scrubbed), cleared when the connection is ready again. */
  lastConnectionError?: string;
}

const contexts = new WeakMap<Redis, ClientContext>();

export function registerClientContext(client: Redis, context: ClientContext): void {
  contexts.set(client, context);
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/**
 * Turns anything ioredis throws into one of our typed errors. The original error is deliberately
 * NOT kept as `cause`: ioredis attaches the failing command and its arguments to reply errors
 * (for AUTH: the password), and loggers serialise `cause` and extra properties.
 */
export function toRedisError(err: unknown, context?: ClientContext): RedisError {
  if (
    err instanceof RedisUnavailableError ||
    err instanceof RedisCommandError ||
    err instanceof RedisDataError
  ) {
    return err;
  }
  const name = err instanceof Error ? err.name : '';
  const rawMessage = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const probe = typeof code === 'string' ? `${rawMessage} ${code}` : rawMessage;
  const message = scrubSecrets(rawMessage, context?.secrets ?? []);
  const where = context ? `redis ${context.target}` : 'redis';
  if (AUTH_FAILED.test(rawMessage)) return new RedisAuthError(`${where} refused the credentials: ${message}`);
  if (name === 'MaxRetriesPerRequestError' || UNAVAILABLE.some((re) => re.test(probe))) {
    const cause = context?.lastConnectionError;
    if (cause !== undefined && AUTH_FAILED.test(cause)) {
      return new RedisAuthError(`${where} refused the credentials: ${cause}`);
    }
    const notConnected = /Stream isn't writeable/i.test(rawMessage) ? 'not connected' : message;
    return new RedisUnavailableError(`${where} unavailable: ${cause ?? notConnected}`);
  }
  return new RedisCommandError(`${where} command failed: ${message}`);
}

/** Runs a Redis operation on `client`, rethrowing failures as typed errors. */
export async function guard<T>(client: Redis, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw toRedisError(err, contexts.get(client));
  }
}

/** Reply `index` of a MULTI/EXEC result; throws the per-command error if that command failed. */
export function execResult(client: Redis, results: [Error | null, unknown][] | null, index: number): unknown {
  if (results === null) throw new RedisCommandError('redis transaction aborted');
  const entry = results[index];
  if (entry === undefined) throw new RedisCommandError(`redis transaction returned no reply #${index}`);
  const [err, value] = entry;
  if (err) throw toRedisError(err, contexts.get(client));
  return value;
}
