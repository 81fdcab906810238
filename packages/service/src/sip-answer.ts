/**
 * A request that ends with a deliberate SIP answer, thrown from any step of an app's pipeline and
 * sent once by its handler. Every failure kind is its own subclass, so each status code is decided
 * in one place.
 */
export abstract class SipAnswer extends Error {
  /**
   * An answer is control flow (every first REGISTER or INVITE from a device ends in a 401), not a
   * bug: skip the stack trace, whose capture costs more than the rest of the answer.
   */
  constructor(message?: string, options?: ErrorOptions) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
  }

  abstract readonly status: number;
  /** The `reason` label of the app's metrics: short, fixed, snake_case. */
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

/**
 * Several values of one header, as separate header lines: RFC 3261 allows one challenge per
 * WWW-Authenticate header, and drachtio-srf writes one line per header name, so the values are
 * joined with CRLF + the header name (the engine, like drachtio-server, parses the lines apart).
 */
export function headerLines(name: string, values: readonly string[]): string {
  return values.join(`\r\n${name}: `);
}
