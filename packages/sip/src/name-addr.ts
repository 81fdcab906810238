import { clip, NameAddrSyntaxError } from './errors.js';
import {
  formatParams,
  isTokenChar,
  isWsp,
  parseParams,
  quote,
  scanQuoted,
  skipWsp,
  trimWsp,
  unquote,
} from './grammar.js';
import type { NameAddr } from './types.js';
import { uriShape } from './uri.js';

/**
 * Parses `[display-name] <URI> *(;param)` or a bare `addr-spec *(;param)` (RFC 3261 §20.10, §25.1).
 * Display names may be a quoted-string (escapes undone) or a run of tokens. Without angle brackets every
 * `;param` belongs to the header, and the URI may not contain `,`, `?` or `;`. Returns undefined when invalid.
 */
export function tryParseNameAddr(value: string): NameAddr | undefined {
  const s = value;
  const n = s.length;
  let pos = skipWsp(s, 0);
  let displayName: string | undefined;
  let angleAt = -1;
  if (s.charCodeAt(pos) === 34 /* " */) {
    const end = scanQuoted(s, pos);
    if (end < 0) return undefined;
    displayName = unquote(s.slice(pos, end));
    pos = skipWsp(s, end);
    if (s.charCodeAt(pos) !== 60 /* < */) return undefined;
    angleAt = pos;
  } else {
    // *(token LWS) before '<' is a display name; anything else means a bare addr-spec
    let j = pos;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (isTokenChar(c) || isWsp(c)) j++;
      else break;
    }
    if (s.charCodeAt(j) === 60) {
      const text = trimWsp(s.slice(pos, j));
      if (text) displayName = text.replace(/[ \t]+/g, ' ');
      angleAt = j;
    }
  }
  const result: NameAddr = { uri: '', params: new Map(), angle: angleAt >= 0 };
  if (displayName !== undefined) result.displayName = displayName;
  if (angleAt >= 0) {
    const close = s.indexOf('>', angleAt + 1);
    if (close < 0) return undefined;
    const uri = s.slice(angleAt + 1, close);
    if (uriShape(uri) === 0) return undefined;
    result.uri = uri;
    pos = close + 1;
  } else {
    let end = pos;
    while (end < n) {
      const c = s.charCodeAt(end);
      if (c === 59 /* ; */ || isWsp(c)) break;
      end++;
    }
    const uri = s.slice(pos, end);
    if (uri.indexOf('?') >= 0 || uri.indexOf(',') >= 0 || uriShape(uri) === 0) return undefined;
    result.uri = uri;
    pos = end;
  }
  pos = parseParams(s, pos, result.params);
  if (pos < 0 || skipWsp(s, pos) !== n) return undefined;
  return result;
}

/** Like `tryParseNameAddr`, throwing `NameAddrSyntaxError`. */
export function parseNameAddr(value: string): NameAddr {
  const na = tryParseNameAddr(value);
  if (!na) throw new NameAddrSyntaxError(`invalid name-addr: ${clip(value)}`, clip(value));
  return na;
}

/**
 * Writes a name-addr: the display name always quoted, the URI in `<…>` when `angle` is set or when it must
 * be (a display name, or `,` `;` `?` in the URI), then the header parameters.
 */
export function formatNameAddr(na: NameAddr): string {
  const needsAngle =
    na.angle ||
    na.displayName !== undefined ||
    na.uri.indexOf(';') >= 0 ||
    na.uri.indexOf(',') >= 0 ||
    na.uri.indexOf('?') >= 0;
  let out = '';
  if (na.displayName !== undefined && na.displayName !== '') out = `${quote(na.displayName)} `;
  out += needsAngle ? `<${na.uri}>` : na.uri;
  return out + formatParams(na.params);
}

/** The `tag` parameter of a From/To value; undefined when absent, empty or when the value is malformed. */
export function tagOf(nameAddrValue: string): string | undefined {
  // fast path: no quotes means ';tag=' can only be a header parameter or inside <…>
  if (nameAddrValue.indexOf('"') < 0) {
    const close = nameAddrValue.lastIndexOf('>');
    const at = nameAddrValue.toLowerCase().indexOf(';tag=', close < 0 ? 0 : close);
    if (at < 0 && nameAddrValue.indexOf(' ') < 0 && nameAddrValue.indexOf('\t') < 0) return undefined;
  }
  const tag = tryParseNameAddr(nameAddrValue)?.params.get('tag');
  return tag ? tag : undefined;
}

/** A From/To value without its `tag` parameter (the dialog's local or remote URI, RFC 3261 §12.1). */
export function stripTag(nameAddrValue: string): string {
  return nameAddrValue.replace(/;\s*tag=[^;>]*/i, '');
}
