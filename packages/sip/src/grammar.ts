/**
 * Character classes and small scanners of the RFC 3261 §25.1 grammar, shared by the header parsers.
 * Tables are built once; every check is a table lookup (no per-call regular expressions).
 */

const ALNUM = 1;
const TOKEN = 2; // token chars: alphanum - . ! % * _ + ` ' ~
const UNRESERVED = 4; // alphanum - _ . ! ~ * ' ( )
const USER_EXTRA = 8; // user-unreserved: & = + $ , ; ? /
const PASSWORD_EXTRA = 16; // & = + $ ,
const PARAM_EXTRA = 32; // param-unreserved: [ ] / : & + $
const HEADER_EXTRA = 64; // hnv-unreserved: [ ] / ? : + $
const HOST = 128; // hostname / IPv4 characters (plus `_`, seen in the wild)

const table = new Uint8Array(128);
function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)]! |= flag;
}
const ALPHANUM_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
mark(ALPHANUM_CHARS, ALNUM | TOKEN | UNRESERVED | HOST);
mark("-.!%*_+`'~", TOKEN);
mark("-_.!~*'()", UNRESERVED);
mark('&=+$,;?/', USER_EXTRA);
mark('&=+$,', PASSWORD_EXTRA);
mark('[]/:&+$', PARAM_EXTRA);
mark('[]/?:+$', HEADER_EXTRA);
mark('-._', HOST);

export const CharClass = {
  TOKEN,
  UNRESERVED,
  USER: UNRESERVED | USER_EXTRA,
  PASSWORD: UNRESERVED | PASSWORD_EXTRA,
  PARAM: UNRESERVED | PARAM_EXTRA,
  HEADER: UNRESERVED | HEADER_EXTRA,
  HOST,
} as const;

export function isTokenChar(code: number): boolean {
  return code < 128 && (table[code]! & TOKEN) !== 0;
}

export function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (table[c]! & TOKEN) === 0) return false;
  }
  return true;
}

/** Whether s[start..end) consists of characters of `cls` or `%HH` escapes. */
export function isEscapedRun(s: string, start: number, end: number, cls: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= end) return false;
      if (!isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (c >= 128 || (table[c]! & cls) === 0) return false;
  }
  return true;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A non-negative integer written with 1*DIGIT (leading zeros allowed), or -1 when not digits or above `max`. */
export function parseBoundedInt(s: string, max: number): number {
  if (!isDigits(s)) return -1;
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  if (s.length - i > 15) return -1;
  const n = Number(s.slice(i));
  return n > max ? -1 : n;
}

export function isWsp(code: number): boolean {
  return code === 32 || code === 9;
}

export function skipWsp(s: string, pos: number): number {
  while (pos < s.length && isWsp(s.charCodeAt(pos))) pos++;
  return pos;
}

/**
 * Reads a quoted-string starting at s[pos] === '"'. Returns the index after the closing quote, or -1 when
 * unterminated or when it contains CR/LF (RFC 3261 §25.1 quoted-pair excludes them).
 */
export function scanQuoted(s: string, pos: number): number {
  for (let i = pos + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      const next = s.charCodeAt(i + 1);
      if (i + 1 >= s.length || next === 10 || next === 13) return -1;
      i++;
    } else if (c === 34 /* " */) {
      return i + 1;
    } else if (c === 10 || c === 13) {
      return -1;
    }
  }
  return -1;
}

/** The content of a quoted-string (without the quotes) with quoted-pairs undone. */
export function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === '\\' && i + 1 < inner.length) {
      out += inner[i + 1]!;
      i++;
    } else out += ch;
  }
  return out;
}

/** Writes `text` as a quoted-string, escaping `"`, `\` and control characters; CR and LF are dropped. */
export function quote(text: string): string {
  let needs = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 92 || c < 32 || c === 127) {
      needs = true;
      break;
    }
  }
  if (!needs) return `"${text}"`;
  const parts: string[] = ['"'];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) continue;
    if (c === 34 || c === 92 || c < 32 || c === 127) parts.push('\\');
    parts.push(text[i]!);
  }
  parts.push('"');
  return parts.join('');
}

/**
 * Parses `*( SEMI generic-param )` from s[pos..] into `params` (names lower-cased, values as written,
 * quoted values kept with their quotes). Stops at the end or at a character that cannot continue the
 * parameter list; returns the stop index, or -1 on a syntax error (empty parameter, bad name or value).
 */
export function parseParams(s: string, pos: number, params: Map<string, string | null>): number {
  const n = s.length;
  for (;;) {
    pos = skipWsp(s, pos);
    if (pos >= n || s.charCodeAt(pos) !== 59 /* ; */) return pos;
    pos = skipWsp(s, pos + 1);
    const nameStart = pos;
    while (pos < n && isTokenChar(s.charCodeAt(pos))) pos++;
    if (pos === nameStart) return -1;
    const name = s.slice(nameStart, pos).toLowerCase();
    pos = skipWsp(s, pos);
    if (pos < n && s.charCodeAt(pos) === 61 /* = */) {
      pos = skipWsp(s, pos + 1);
      if (pos < n && s.charCodeAt(pos) === 34) {
        const end = scanQuoted(s, pos);
        if (end < 0) return -1;
        params.set(name, s.slice(pos, end));
        pos = end;
      } else {
        const valueStart = pos;
        while (pos < n) {
          const c = s.charCodeAt(pos);
          // gen-value = token / host / quoted-string: token chars plus IPv6 reference characters
          if (isTokenChar(c) || c === 58 || c === 91 || c === 93) pos++;
          else break;
        }
        if (pos === valueStart) return -1;
        params.set(name, s.slice(valueStart, pos));
      }
    } else {
      params.set(name, null);
    }
  }
}

/** `;name=value` text for a parameter map. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/** IPv6 address text (no brackets): hex digits, `:` and `.` (embedded IPv4), at least one `:`. */
export function isIpv6Text(s: string): boolean {
  if (s.length < 2 || s.indexOf(':') < 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isHexDigit(c) || c === 58 || c === 46)) return false;
  }
  return true;
}

/** hostname / IPv4address characters. */
export function isHostnameText(s: string): boolean {
  return isHostnameRange(s, 0, s.length);
}

/** hostname / IPv4address characters in s[start..end), non-empty. */
export function isHostnameRange(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (table[c]! & HOST) === 0) return false;
  }
  return true;
}

/** Host as written in a URI or Via: IPv6 hosts get their brackets back. */
export function formatHost(host: string): string {
  return host.indexOf(':') >= 0 ? `[${host}]` : host;
}

/** Trims SP and HTAB only (String#trim would also eat U+FEFF, NBSP and other Unicode spaces). */
export function trimWsp(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
