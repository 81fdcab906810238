/** Why an `Authorization` / `Proxy-Authorization` value could not be read as digest credentials. */
export type DigestParseFailure =
  /** The scheme is not `Digest` (e.g. `Basic`, which RFC 3261 §22.4 forbids for SIP). */
  | 'not-digest'
  /** The value does not follow the auth-param grammar (RFC 7616 §3.4, RFC 3261 §25.1). */
  | 'syntax'
  /** A parameter appears twice (RFC 7616 §3.4: each one at most once). */
  | 'duplicate-parameter'
  /** A mandatory parameter is absent. */
  | 'missing-parameter'
  /** A parameter has a value outside its grammar (e.g. `nc` not hex). */
  | 'invalid-parameter';

/** An `Authorization` / `Proxy-Authorization` header value that is not usable digest credentials. */
export class DigestParseError extends Error {
  override readonly name = 'DigestParseError';
  constructor(
    readonly failure: DigestParseFailure,
    message: string,
    /** The parameter concerned, for the parameter failures. */
    readonly parameter?: string,
  ) {
    super(message);
  }
}

/** An option passed to this library that cannot work (e.g. a nonce secret that is too short). */
export class AuthOptionError extends Error {
  override readonly name = 'AuthOptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}
