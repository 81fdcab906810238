/**
 * The SIP message model shared by every layer of the engine. Parsing and serialisation live in
 * ./parser.ts and ./serializer.ts; header helpers in ./headers.ts, ./uri.ts, ./via.ts, ./name-addr.ts.
 */

/** One header line as it travels: `name` as written on the wire, `value` with folding undone. */
export interface SipHeaderField {
  name: string;
  value: string;
}

/**
 * Ordered multimap of header fields. Lookups are case-insensitive and accept compact forms
 * (RFC 3261 §7.3.3: `v`=Via, `f`=From, `t`=To, `i`=Call-ID, `m`=Contact, `l`=Content-Length,
 * `c`=Content-Type, `e`=Content-Encoding, `k`=Supported, `s`=Subject, `o`=Event, `r`=Refer-To,
 * `b`=Referred-By, `u`=Allow-Events, `x`=Session-Expires, `y`=Identity, `a`=Accept-Contact, `j`=Reject-Contact, `d`=Request-Disposition).
 */
export interface SipHeaders {
  /** Value of the first field with this name, undefined when absent. */
  get(name: string): string | undefined;
  /**
   * Every value of this header, in order. Fields that carry comma-separated lists
   * (Via, Contact, Route, Record-Route, Allow, Supported, Require, …) are split into elements,
   * respecting quoted strings and <…> (RFC 3261 §7.3.1).
   */
  getAll(name: string): string[];
  has(name: string): boolean;
  /** Replaces every field of this name with one field (added at the end when absent). */
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  /** Inserts before the first field of any name (used for the top Via). */
  prepend(name: string, value: string): void;
  remove(name: string): void;
  /** Every field, in order, as they will be serialised. */
  fields(): readonly SipHeaderField[];
  clone(): SipHeaders;
}

export interface SipRequest {
  readonly kind: 'request';
  method: string;
  /** Request-URI as text. */
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** Hard limits against hostile input; a message over any of them is refused. */
export interface ParseLimits {
  /** Whole message in bytes (default 65_535). */
  maxMessageBytes: number;
  /** Number of header fields (default 256). */
  maxHeaders: number;
  /** One header line (after unfolding) or the start line, in bytes (default 8_192). */
  maxLineBytes: number;
}

/**
 * Why a datagram / stream chunk is not a usable SIP message. When `respondable` is set, the
 * request carried enough (Via, From, To, Call-ID, CSeq) for a 400 to be sent back (RFC 3261 §8.2.2 / §16.3).
 */
export interface SipParseFailure {
  readonly ok: false;
  readonly reason: string;
  /** The headers that could be read, when the start line was a request and 400 can be built. */
  readonly respondable?: {
    method: string;
    headers: SipHeaders;
    /** The status to answer with: 400, or 505 for an unsupported SIP version (RFC 3261 §8.2.2.1 / §21.5.6). */
    status?: number;
  };
}

export type SipParseResult = { readonly ok: true; readonly message: SipMessage } | SipParseFailure;

/** A parsed SIP or SIPS URI (RFC 3261 §19.1), IPv6 hosts without brackets. */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel' | (string & {});
  user?: string;
  password?: string;
  host: string;
  port?: number;
  /** `;name=value` parameters in order; a flag parameter has value null. Names lower-cased. */
  params: Map<string, string | null>;
  /** `?name=value` URI headers, raw. */
  headers: Map<string, string>;
}

/** One Via element (RFC 3261 §20.42). */
export interface Via {
  /** e.g. `UDP`, `TCP`, `TLS`, `WS`, `WSS` (upper case). */
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string | null>;
  /** `branch` param, convenience. */
  branch?: string;
}

/** A name-addr / addr-spec with parameters: From, To, Contact, Route, Record-Route values. */
export interface NameAddr {
  displayName?: string;
  /** The URI text inside <…> (or the bare addr-spec). */
  uri: string;
  /** Header parameters after the URI (`;tag=…`, `;expires=…`), names lower-cased. */
  params: Map<string, string | null>;
  /** Whether the URI was written inside <…>; kept when re-serialising. */
  angle: boolean;
}

/** CSeq value (RFC 3261 §20.16). */
export interface CSeq {
  seq: number;
  method: string;
}
