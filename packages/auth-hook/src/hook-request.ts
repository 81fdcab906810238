import { createHmac } from 'node:crypto';
import type { DigestCredentials } from './digest-credentials.js';

/** What the SBC knows about the request being authenticated (reference §2.4 "Data sent to the hook"). */
export interface AuthHookRequestInput {
  /** Where the SIP request came from. */
  source_address: string;
  source_port: number;
  /** The SIP method (REGISTER, INVITE, …). */
  method: string;
  /** All SIP request headers; sent only to POST hooks. */
  headers: Readonly<Record<string, string>>;
  /** The requested REGISTER expiry in seconds; null for other methods. */
  expires: number | null;
  credentials: DigestCredentials;
}

/** The JSON the hook receives. Field names and order are the jambonz contract. */
export type AuthHookPayload = Record<string, string | number | null | Readonly<Record<string, string>>>;

/**
 * The hook body, field for field and in the order jambonz sends it:
 * source_address, source_port, method, headers (POST only), expires, scheme ('digest'), username,
 * realm, nonce, uri, algorithm, response, then qop, nc, cnonce and opaque when the client sent them.
 * As in jambonz, when the client sent no algorithm, `algorithm: "MD5"` comes last.
 */
export function buildAuthHookPayload(
  input: AuthHookRequestInput,
  options: { includeHeaders: boolean },
): AuthHookPayload {
  const c = input.credentials;
  const payload: AuthHookPayload = {
    source_address: input.source_address,
    source_port: input.source_port,
    method: input.method,
  };
  if (options.includeHeaders) payload.headers = input.headers;
  payload.expires = input.expires;
  payload.scheme = 'digest';
  payload.username = c.username;
  payload.realm = c.realm;
  payload.nonce = c.nonce;
  payload.uri = c.uri;
  if (c.algorithm !== undefined) payload.algorithm = c.algorithm;
  payload.response = c.response;
  if (c.qop !== undefined) payload.qop = c.qop;
  if (c.nc !== undefined) payload.nc = c.nc;
  if (c.cnonce !== undefined) payload.cnonce = c.cnonce;
  if (c.opaque !== undefined) payload.opaque = c.opaque;
  if (c.algorithm === undefined) payload.algorithm = 'MD5';
  return payload;
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded as UTF-8 (what `qs` does).
const encodeComponent = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The query string a GET hook receives (`qs.stringify` semantics for flat data: null becomes an
 * empty value, undefined is left out). Nested objects are not expected: GET hooks get no headers.
 */
export function toQueryString(payload: AuthHookPayload): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    if (value !== null && typeof value === 'object') {
      for (const [inner, innerValue] of Object.entries(value)) {
        pairs.push(`${encodeComponent(`${key}[${inner}]`)}=${encodeComponent(innerValue)}`);
      }
      continue;
    }
    pairs.push(`${encodeComponent(key)}=${value === null ? '' : encodeComponent(String(value))}`);
  }
  return pairs.join('&');
}

/**
 * The `Jambonz-Signature` header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 * where body is the exact JSON text sent, or `null` when there is no body (GET).
 */
export function jambonzSignature(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}
