import { clip, ViaSyntaxError } from './errors.js';
import {
  formatHost,
  isHostnameText,
  isIpv6Text,
  isTokenChar,
  parseBoundedInt,
  parseParams,
  skipWsp,
} from './grammar.js';
import type { SipHeaders, Via } from './types.js';
import { splitHeaderList } from './headers.js';

function readToken(s: string, pos: number): number {
  while (pos < s.length && isTokenChar(s.charCodeAt(pos))) pos++;
  return pos;
}

/** Expects `c` after optional whitespace; returns the index after it and its trailing whitespace, or -1. */
function expect(s: string, pos: number, c: number): number {
  pos = skipWsp(s, pos);
  if (s.charCodeAt(pos) !== c) return -1;
  return skipWsp(s, pos + 1);
}

/** Whether s[start..end) is `word` (upper case, ASCII) in any case. */
function isWordIgnoringCase(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    const c = s.charCodeAt(start + i);
    if ((c >= 97 && c <= 122 ? c - 32 : c) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** The transports a Via names, as shared strings (no allocation for the usual ones). */
const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'];

function transportOf(s: string, start: number, end: number): string {
  for (const t of TRANSPORTS) if (isWordIgnoringCase(s, start, end, t)) return t;
  return s.slice(start, end).toUpperCase();
}

/**
 * Parses one Via element: `SIP / 2.0 / transport LWS sent-by *( SEMI via-params )` (RFC 3261 §20.42, §25.1,
 * with the LWS the grammar allows around `/`, `:`, `;` and `=`). Returns undefined when it is not valid.
 */
export function tryParseVia(value: string): Via | undefined {
  const s = value;
  let pos = skipWsp(s, 0);
  let end = readToken(s, pos);
  if (!isWordIgnoringCase(s, pos, end, 'SIP')) return undefined;
  pos = expect(s, end, 47 /* / */);
  if (pos < 0) return undefined;
  end = readToken(s, pos);
  if (!isWordIgnoringCase(s, pos, end, '2.0')) return undefined;
  pos = expect(s, end, 47);
  if (pos < 0) return undefined;
  end = readToken(s, pos);
  if (end === pos) return undefined;
  const transport = transportOf(s, pos, end);
  pos = skipWsp(s, end);
  if (pos === end) return undefined; // LWS required before sent-by
  let host: string;
  if (s.charCodeAt(pos) === 91 /* [ */) {
    const close = s.indexOf(']', pos);
    if (close < 0) return undefined;
    host = s.slice(pos + 1, close);
    if (!isIpv6Text(host)) return undefined;
    pos = close + 1;
  } else {
    const hostStart = pos;
    while (pos < s.length) {
      const c = s.charCodeAt(pos);
      if (c === 58 || c === 59 || c === 32 || c === 9) break;
      pos++;
    }
    host = s.slice(hostStart, pos);
    if (!isHostnameText(host)) return undefined;
  }
  const via: Via = { transport, host, params: new Map() };
  pos = skipWsp(s, pos);
  if (s.charCodeAt(pos) === 58 /* : */) {
    pos = skipWsp(s, pos + 1);
    const portStart = pos;
    let port = 0;
    while (pos < s.length) {
      const c = s.charCodeAt(pos);
      if (c < 48 || c > 57) break;
      port = Math.min(port * 10 + (c - 48), 65536); // 1*DIGIT, leading zeros allowed
      pos++;
    }
    if (pos === portStart || port > 65535) return undefined;
    via.port = port;
  }
  pos = parseParams(s, pos, via.params);
  if (pos < 0 || skipWsp(s, pos) !== s.length) return undefined;
  const branch = via.params.get('branch');
  if (branch === null) return undefined; // branch needs a value
  if (branch !== undefined) via.branch = branch;
  const rport = via.params.get('rport');
  if (rport !== undefined && rport !== null && parseBoundedInt(rport, 65535) < 0) return undefined;
  return via;
}

/** Like `tryParseVia`, throwing `ViaSyntaxError`. */
export function parseVia(value: string): Via {
  const via = tryParseVia(value);
  if (!via) throw new ViaSyntaxError(`invalid Via: ${clip(value)}`, clip(value));
  return via;
}

/** Writes one Via element; `branch` wins over a `branch` entry of `params`. */
export function formatVia(via: Via): string {
  let out = `SIP/2.0/${via.transport.toUpperCase()} ${formatHost(via.host)}`;
  if (via.port !== undefined) out += `:${via.port}`;
  let branchWritten = false;
  for (const [name, value] of via.params) {
    if (name === 'branch') {
      if (via.branch === undefined && value === null) continue;
      out += `;branch=${via.branch ?? value ?? ''}`;
      branchWritten = true;
    } else {
      out += value === null ? `;${name}` : `;${name}=${value}`;
    }
  }
  if (!branchWritten && via.branch !== undefined) out += `;branch=${via.branch}`;
  return out;
}

/** The topmost Via of a message, parsed; undefined when absent or malformed. */
export function topVia(headers: SipHeaders): Via | undefined {
  const first = headers.get('via');
  if (first === undefined) return undefined;
  const element = first.indexOf(',') >= 0 ? splitHeaderList(first)[0] : first;
  return element === undefined ? undefined : tryParseVia(element);
}
