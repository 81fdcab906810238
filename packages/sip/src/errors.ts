/** Base class of every SIP syntax failure thrown by the header helpers (parseMessage itself never throws). */
export class SipSyntaxError extends Error {
  constructor(
    message: string,
    /** The text that could not be parsed (cut to 200 characters). */
    readonly input: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A URI that is not a valid SIP/SIPS URI (RFC 3261 §19.1) or absoluteURI. */
export class SipUriError extends SipSyntaxError {}

/** A Via header value that is not RFC 3261 §20.42 `via-parm`. */
export class ViaSyntaxError extends SipSyntaxError {}

/** A From/To/Contact/Route value that is not a name-addr or addr-spec with parameters (RFC 3261 §20.10). */
export class NameAddrSyntaxError extends SipSyntaxError {}

/** A CSeq value that is not `1*DIGIT LWS Method` with a number below 2^31 (RFC 3261 §8.1.1.5). */
export class CSeqSyntaxError extends SipSyntaxError {}

export function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
