import type { SipDigestRefusal } from '@sbc/auth-hook';
import { headerLines, SipAnswer } from '@sbc/service';
import type { RegisterResult } from '../metrics.js';

/**
 * A REGISTER that ends before a binding is stored, with the SIP answer it gets. Every failure kind is
 * its own class, so the status code of each is decided here, once.
 */
export abstract class RegisterAnswer extends SipAnswer {
  /** The `result` label of `sbc_registrations_total`. */
  abstract readonly result: RegisterResult;
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

const DIGEST_RESULTS = {
  challenge: 'challenged',
  'bad-request': 'rejected',
  forbidden: 'rejected',
  unavailable: 'unavailable',
} as const;

/**
 * The digest step's refusal (@sbc/auth-hook): 401 with fresh challenges, 400 for an unparseable
 * Authorization header, 403 when the hook or the clients table refused, 503 + Retry-After when the
 * hook, Redis or MySQL failed.
 */
export class DigestRefusedAnswer extends RegisterAnswer {
  override readonly name = 'DigestRefusedAnswer';
  readonly status: number;
  readonly result: RegisterResult;
  readonly reason: string;
  override readonly xReason: string | undefined;

  constructor(readonly refusal: SipDigestRefusal) {
    super(refusal.message);
    this.status = refusal.status;
    this.result = DIGEST_RESULTS[refusal.kind];
    this.reason = refusal.reason;
    this.xReason = refusal.xReason;
  }

  override headers(): Record<string, string> {
    const headers = { ...this.refusal.headers };
    const challenges = this.refusal.wwwAuthenticate;
    if (challenges.length > 0) headers['WWW-Authenticate'] = headerLines('WWW-Authenticate', challenges);
    return headers;
  }
}

/** 503 + Retry-After: a dependency (MySQL, Redis, the auth hook) is down, slow or broken. */
export class DependencyUnavailableError extends RegisterAnswer {
  override readonly name = 'DependencyUnavailableError';
  readonly status = 503;
  readonly result = 'unavailable';
  constructor(
    readonly reason: 'redis' | 'mysql',
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
