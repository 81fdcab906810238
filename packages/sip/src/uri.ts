import { clip, SipUriError } from './errors.js';
import { CharClass, formatHost, isEscapedRun, isHostnameRange, isIpv6Text } from './grammar.js';
import type { SipUri } from './types.js';

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1) */
function isScheme(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (i === 0 ? !alpha : !(alpha || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return false;
  }
  return true;
}

/** Characters an opaque (non-SIP) absoluteURI may not contain: whitespace, controls, `<`, `>`, `"`. */
function isOpaqueText(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 34) return false;
  }
  return true;
}

/**
 * Reads a SIP/SIPS URI after its `scheme:` (RFC 3261 §25.1), filling `uri` when one is given (validation
 * alone allocates nothing). Returns NOT_URI, or URI_OK / URI_WITH_HEADERS.
 */
function scanSipUri(s: string, start: number, uri: SipUri | undefined): number {
  const n = s.length;
  let withHeaders = false;
  let pos = start;
  // user and password cannot contain an unescaped '@', so the first one ends the userinfo
  const at = s.indexOf('@', start);
  if (at >= 0) {
    const colon = s.indexOf(':', start);
    const userEnd = colon >= 0 && colon < at ? colon : at;
    if (userEnd === start || !isEscapedRun(s, start, userEnd, CharClass.USER)) return NOT_URI;
    if (uri) uri.user = s.slice(start, userEnd);
    if (userEnd < at) {
      if (!isEscapedRun(s, userEnd + 1, at, CharClass.PASSWORD)) return NOT_URI;
      if (uri) uri.password = s.slice(userEnd + 1, at);
    }
    pos = at + 1;
  }
  if (s.charCodeAt(pos) === 91 /* [ */) {
    const close = s.indexOf(']', pos);
    if (close < 0) return NOT_URI;
    const host = s.slice(pos + 1, close);
    if (!isIpv6Text(host)) return NOT_URI;
    if (uri) uri.host = host;
    pos = close + 1;
  } else {
    const hostStart = pos;
    while (pos < n) {
      const c = s.charCodeAt(pos);
      if (c === 58 || c === 59 || c === 63) break;
      pos++;
    }
    if (!isHostnameRange(s, hostStart, pos)) return NOT_URI;
    if (uri) uri.host = s.slice(hostStart, pos);
  }
  if (pos < n && s.charCodeAt(pos) === 58 /* : */) {
    const portStart = ++pos;
    let port = 0;
    while (pos < n) {
      const c = s.charCodeAt(pos);
      if (c < 48 || c > 57) break;
      port = Math.min(port * 10 + (c - 48), 65536); // 1*DIGIT, leading zeros allowed
      pos++;
    }
    if (pos === portStart || port > 65535) return NOT_URI;
    if (uri) uri.port = port;
  }
  while (pos < n && s.charCodeAt(pos) === 59 /* ; */) {
    const nameStart = ++pos;
    let eq = -1;
    while (pos < n) {
      const c = s.charCodeAt(pos);
      if (c === 59 || c === 63) break;
      if (c === 61 && eq < 0) eq = pos;
      pos++;
    }
    const nameEnd = eq < 0 ? pos : eq;
    if (nameEnd === nameStart || !isEscapedRun(s, nameStart, nameEnd, CharClass.PARAM)) return NOT_URI;
    if (eq >= 0 && (eq + 1 === pos || !isEscapedRun(s, eq + 1, pos, CharClass.PARAM))) return NOT_URI;
    if (uri) uri.params.set(s.slice(nameStart, nameEnd).toLowerCase(), eq < 0 ? null : s.slice(eq + 1, pos));
  }
  if (pos < n && s.charCodeAt(pos) === 63 /* ? */) {
    withHeaders = true;
    pos++;
    for (;;) {
      let end = s.indexOf('&', pos);
      if (end < 0) end = n;
      const eq = s.indexOf('=', pos);
      if (eq < 0 || eq > end || eq === pos) return NOT_URI;
      if (!isEscapedRun(s, pos, eq, CharClass.HEADER) || !isEscapedRun(s, eq + 1, end, CharClass.HEADER)) {
        return NOT_URI;
      }
      if (uri) uri.headers.set(s.slice(pos, eq), s.slice(eq + 1, end));
      if (end === n) break;
      pos = end + 1;
    }
    pos = n;
  }
  if (pos !== n) return NOT_URI;
  return withHeaders ? URI_WITH_HEADERS : URI_OK;
}

const NOT_URI = 0;
const URI_OK = 1;
const URI_WITH_HEADERS = 2;

function parseSipUri(scheme: 'sip' | 'sips', s: string, start: number): SipUri | undefined {
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  return scanSipUri(s, start, uri) === NOT_URI ? undefined : uri;
}

function parseTelUri(s: string, start: number): SipUri | undefined {
  let end = s.indexOf(';', start);
  if (end < 0) end = s.length;
  const number = s.slice(start, end);
  if (!isOpaqueText(number)) return undefined;
  const uri: SipUri = { scheme: 'tel', user: number, host: '', params: new Map(), headers: new Map() };
  let pos = end;
  while (pos < s.length) {
    const nameStart = pos + 1;
    let next = s.indexOf(';', nameStart);
    if (next < 0) next = s.length;
    const part = s.slice(nameStart, next);
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    if (name === '' || !isOpaqueText(part)) return undefined;
    uri.params.set(name, eq < 0 ? null : part.slice(eq + 1));
    pos = next;
  }
  return uri;
}

/**
 * Parses a SIP/SIPS URI (RFC 3261 §19.1, §25.1), a tel URI (RFC 3966: the number goes to `user`, `host` is
 * empty) or any other absoluteURI (kept opaque in `host`). Returns undefined when the text is not a URI.
 */
export function tryParseUri(text: string): SipUri | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = text.slice(0, colon);
  if (!isScheme(scheme)) return undefined;
  const lower = scheme.toLowerCase();
  if (lower === 'sip' || lower === 'sips') return parseSipUri(lower, text, colon + 1);
  if (lower === 'tel') return parseTelUri(text, colon + 1);
  const rest = text.slice(colon + 1);
  if (!isOpaqueText(rest)) return undefined;
  return { scheme, host: rest, params: new Map(), headers: new Map() };
}

/**
 * What `tryParseUri` would make of `text`, without building it: 0 not a URI, 1 a URI, 2 a SIP/SIPS URI
 * with `?headers` (not allowed in a Request-URI, RFC 3261 §19.1.1). For validation on the hot path.
 */
export function uriShape(text: string): 0 | 1 | 2 {
  const colon = text.indexOf(':');
  if (colon <= 0) return NOT_URI;
  if (colon === 3 || colon === 4) {
    const c0 = text.charCodeAt(0) | 0x20;
    const c1 = text.charCodeAt(1) | 0x20;
    const c2 = text.charCodeAt(2) | 0x20;
    if (c0 === 115 /* s */ && c1 === 105 /* i */ && c2 === 112 /* p */) {
      if (colon === 4 && (text.charCodeAt(3) | 0x20) !== 115) return tryParseUri(text) ? URI_OK : NOT_URI;
      return scanSipUri(text, colon + 1, undefined) as 0 | 1 | 2;
    }
  }
  return tryParseUri(text) ? URI_OK : NOT_URI;
}

/** Like `tryParseUri`, throwing `SipUriError` when the text is not a URI. */
export function parseUri(text: string): SipUri {
  const uri = tryParseUri(text);
  if (!uri) throw new SipUriError(`not a valid URI: ${clip(text)}`, clip(text));
  return uri;
}

/** Writes a URI back as text (IPv6 hosts in brackets, parameters and headers in order). */
export function formatUri(uri: SipUri): string {
  const scheme = uri.scheme;
  if (scheme === 'sip' || scheme === 'sips') {
    let out = `${scheme}:`;
    if (uri.user !== undefined) {
      out += uri.user;
      if (uri.password !== undefined) out += `:${uri.password}`;
      out += '@';
    }
    out += formatHost(uri.host);
    if (uri.port !== undefined) out += `:${uri.port}`;
    for (const [name, value] of uri.params) out += value === null ? `;${name}` : `;${name}=${value}`;
    let sep = '?';
    for (const [name, value] of uri.headers) {
      out += `${sep}${name}=${value}`;
      sep = '&';
    }
    return out;
  }
  if (scheme === 'tel') {
    let out = `tel:${uri.user ?? uri.host}`;
    for (const [name, value] of uri.params) out += value === null ? `;${name}` : `;${name}=${value}`;
    return out;
  }
  return `${scheme}:${uri.host}`;
}
