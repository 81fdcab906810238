/** Base class of every error @sbc/db rejects with. */
export class DbError extends Error {
  override readonly name: string = 'DbError';
  /** The MySQL / Node error code when there is one (e.g. `ECONNREFUSED`, `ER_NO_SUCH_TABLE`). */
  readonly code: string | undefined;
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/**
 * No usable connection to MySQL: refused, unreachable, timed out, lost, access denied, unknown
 * database, pool closed. A SIP app answers 503 (with Retry-After) for this one.
 */
export class DbUnavailableError extends DbError {
  override readonly name = 'DbUnavailableError';
}

/** MySQL answered a statement with an error (missing table or column, constraint violation, ...). */
export class DbQueryError extends DbError {
  override readonly name = 'DbQueryError';
}

/** A stored value cannot be used as it is: an undecryptable client password, malformed JSON, ... */
export class DbDataError extends DbError {
  override readonly name = 'DbDataError';
}

/** Options that cannot work (e.g. an empty host, a connection limit below 1). */
export class DbConfigError extends DbError {
  override readonly name = 'DbConfigError';
}

/**
 * Several phone_numbers rows match a dialled number exactly (same number on several carriers in
 * scope); jambonz answers 503 in that case rather than guess.
 */
export class AmbiguousPhoneNumberError extends DbError {
  override readonly name = 'AmbiguousPhoneNumberError';
  constructor(
    readonly number: string,
    readonly phoneNumberSids: readonly string[],
  ) {
    super(`${phoneNumberSids.length} phone_numbers rows match ${number} exactly`);
  }
}

/** Error codes (mysql2 / Node / server) meaning there is no working connection. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'HANDSHAKE_SSL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_WRITE_INTERRUPTED',
]);

/** Messages without a code that mean the same thing. */
const UNAVAILABLE_MESSAGES = [
  /pool is closed/i,
  /connection is in closed state/i,
  /can't add new command when connection is in closed/i,
];

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'unknown error';
}

/** True when `err` (from mysql2) means the connection is unusable rather than the statement wrong. */
export function isConnectionFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  if ((err as { fatal?: unknown } | null)?.fatal === true) return true;
  const message = messageOf(err);
  return UNAVAILABLE_MESSAGES.some((re) => re.test(message));
}

/** Wraps a mysql2 failure in the matching typed error (never loses the cause). */
export function toDbError(err: unknown, what: string): DbError {
  if (err instanceof DbError) return err;
  const code = codeOf(err);
  const detail = `${what}: ${code ? `${code} ` : ''}${messageOf(err)}`;
  if (isConnectionFailure(err))
    return new DbUnavailableError(`MySQL unavailable (${detail})`, { cause: err, code });
  return new DbQueryError(detail, { cause: err, code });
}
