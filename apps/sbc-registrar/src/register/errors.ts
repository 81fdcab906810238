import type { RegisterResult } from '../metrics.js';

/**
 * A REGISTER that ends before a binding is stored, with the SIP answer it gets. Every failure kind is
 * its own class, so the status code of each is decided here, once.
 */
export abstract class RegisterAnswer extends Error {
  /**
   * An answer is control flow (every first REGISTER ends in a 401), not a bug: skip the stack
   * trace, whose capture costs more than the rest of the answer.
   */
  constructor(message?: string, options?: ErrorOptions) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
  }

  abstract readonly status: number;
  /** The `result` label of `sbc_registrations_total`. */
  abstract readonly result: RegisterResult;
  /** The `reason` label: short, fixed, snake_case. */
  abstract readonly reason: string;
  /** jambonz's `X-Reason` text, when it sends one. */
  readonly xReason: string | undefined = undefined;
  /** A reason phrase other than the standard one. */
  readonly reasonPhrase: string | undefined = undefined;
  /** More headers for the answer. */
  headers(): Record<string, string> {
    return {};
  }
}

/** 403: the Request-URI has no host, or an IP literal where a SIP realm belongs. */
export class RealmRequiredError extends RegisterAnswer {
  override readonly name = 'RealmRequiredError';
  readonly status = 403;
  readonly result = 'rejected';
  readonly reason = 'realm_required';
  override readonly xReason = 'A SIP realm is required in the Request-URI';
}

/** 400: no Contact header (drachtio-mw-registration-parser's text). */
export class ContactRequiredError extends RegisterAnswer {
  override readonly name = 'ContactRequiredError';
  readonly status = 400;
  readonly result = 'rejected';
  readonly reason = 'contact_required';
  override readonly xReason = 'Contact header is required for REGISTER requests';
}

/** 400: a Contact header we cannot parse, or `*` mixed with other contacts or a non-zero expiry. */
export class InvalidContactError extends RegisterAnswer {
  override readonly name = 'InvalidContactError';
  readonly status = 400;
  readonly result = 'rejected';
  readonly reason = 'invalid_contact';
  constructor(override readonly xReason: string) {
    super(xReason);
  }
}

/** 400: neither a Contact `expires` parameter nor an `Expires` header, or one that is not a number. */
export class ExpiresRequiredError extends RegisterAnswer {
  override readonly name = 'ExpiresRequiredError';
  readonly status = 400;
  readonly result = 'rejected';
  readonly reason = 'expires_required';
  constructor(override readonly xReason: string) {
    super(xReason);
  }
}

/** 403: the To header is not a `sip:user@host` address of record (jambonz gh-83). */
export class InvalidAorError extends RegisterAnswer {
  override readonly name = 'InvalidAorError';
  readonly status = 403;
  readonly result = 'rejected';
  readonly reason = 'invalid_aor';
  override readonly xReason = 'Invalid address of record';
}

/** 403: no account has this SIP realm. */
export class UnknownRealmError extends RegisterAnswer {
  override readonly name = 'UnknownRealmError';
  readonly status = 403;
  readonly result = 'rejected';
  readonly reason = 'unknown_realm';
  override readonly xReason = 'Unknown or invalid realm';
}

/** 403: the account of the realm is deactivated. */
export class AccountDeactivatedError extends RegisterAnswer {
  override readonly name = 'AccountDeactivatedError';
  readonly status = 403;
  readonly result = 'rejected';
  readonly reason = 'account_deactivated';
  override readonly xReason = 'Account has been deactivated';
}

/** 503 "Max Devices Registered": hosted account at its device limit (jambonz's answer). */
export class DeviceLimitError extends RegisterAnswer {
  override readonly name = 'DeviceLimitError';
  readonly status = 503;
  readonly result = 'rejected';
  readonly reason = 'device_limit';
  override readonly reasonPhrase = 'Max Devices Registered';
}

/** 401 with fresh challenges (no credentials, or credentials we do not accept as an answer). */
export class ChallengeAnswer extends RegisterAnswer {
  override readonly name = 'ChallengeAnswer';
  readonly status = 401;
  readonly result = 'challenged';
  constructor(
    readonly reason: string,
    private readonly challenges: readonly string[],
  ) {
    super(`challenge: ${reason}`);
  }
  /** One WWW-Authenticate value per algorithm; see `sendAnswer` for how they are sent. */
  get wwwAuthenticate(): readonly string[] {
    return this.challenges;
  }
}

/** 400: an Authorization header that is not parseable digest credentials. */
export class BadCredentialsError extends RegisterAnswer {
  override readonly name = 'BadCredentialsError';
  readonly status = 400;
  readonly result = 'rejected';
  readonly reason = 'bad_credentials_header';
  override readonly xReason = 'Invalid Authorization header';
}

/** 403: the hook or the clients table refused the credentials (or the hook answered garbage). */
export class InvalidCredentialsError extends RegisterAnswer {
  override readonly name = 'InvalidCredentialsError';
  readonly status = 403;
  readonly result = 'rejected';
  constructor(
    readonly reason: string,
    override readonly xReason: string,
    private readonly extraHeaders: Readonly<Record<string, string>> = {},
  ) {
    super(xReason);
  }
  override headers(): Record<string, string> {
    return { ...this.extraHeaders };
  }
}

/** 503 + Retry-After: a dependency (MySQL, Redis, the auth hook) is down, slow or broken. */
export class DependencyUnavailableError extends RegisterAnswer {
  override readonly name = 'DependencyUnavailableError';
  readonly status = 503;
  readonly result = 'unavailable';
  constructor(
    readonly reason: 'redis' | 'mysql' | 'hook_unreachable' | 'hook_slow' | 'hook_http_error' | 'credentials',
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
  override headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSeconds) };
  }
}

/** 500: something that should not happen (a MySQL statement error, a bug). */
export class RegistrarFaultError extends RegisterAnswer {
  override readonly name = 'RegistrarFaultError';
  readonly status = 500;
  readonly result = 'error';
  readonly reason = 'internal';
}
