/**
 * The SIP syntax apps need, parsed strictly: Contact lists (including `*`), name-addr headers and
 * SIP URIs (address of record, Request-URI host). drachtio-srf's parser is lenient (it accepts
 * `sip:john@a.org@a.org`) and throws on `Contact: *`, so the apps use these. (The engine has its
 * own full RFC 3261 parser in @sbc/sip-engine.)
 */
import { isIP } from 'node:net';

/** One entry of a Contact / To header: `"name" <uri>;params` or `uri;params`. */
export interface ParsedNameAddr {
  /** The URI without its angle brackets (or `*`). */
  uri: string;
  /** Header parameters (after the URI); a flag parameter has the value ''. Names lower-cased. */
  params: Record<string, string>;
}

/** Splits on commas outside quotes and angle brackets. */
function splitList(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseParams(text: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed === '') return params;
  if (!trimmed.startsWith(';')) return undefined;
  for (const part of trimmed.slice(1).split(';')) {
    const [name = '', ...rest] = part.split('=');
    const key = name.trim().toLowerCase();
    if (key === '') continue;
    params[key] = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return params;
}

/** One name-addr / addr-spec; undefined when it cannot be parsed. */
export function parseNameAddr(text: string): ParsedNameAddr | undefined {
  let rest = text.trim();
  if (rest === '*') return { uri: '*', params: {} };
  if (rest.startsWith('"')) {
    const end = /^"(?:[^"\\]|\\.)*"/.exec(rest);
    if (!end) return undefined;
    rest = rest.slice(end[0].length).trim();
    if (!rest.startsWith('<')) return undefined;
  }
  const open = rest.indexOf('<');
  if (open >= 0) {
    const close = rest.indexOf('>', open);
    if (close < 0) return undefined;
    const uri = rest.slice(open + 1, close).trim();
    const params = parseParams(rest.slice(close + 1));
    return uri && params ? { uri, params } : undefined;
  }
  // addr-spec: everything after the first ';' is a header parameter (RFC 3261 §20).
  const semi = rest.indexOf(';');
  const uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  const params = parseParams(semi < 0 ? '' : rest.slice(semi));
  return uri && !/\s/.test(uri) && params ? { uri, params } : undefined;
}

/** Every entry of a Contact header value; undefined when one of them cannot be parsed. */
export function parseContactList(value: string): ParsedNameAddr[] | undefined {
  const entries = splitList(value).map(parseNameAddr);
  if (entries.length === 0 || entries.some((e) => e === undefined)) return undefined;
  return entries as ParsedNameAddr[];
}

/** A `sip:` / `sips:` URI broken into user, host and port. */
export interface SipUriParts {
  scheme: 'sip' | 'sips';
  user: string | undefined;
  host: string;
  port: number | undefined;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;

/**
 * Parses `sip:user@host:port;params?headers` strictly: one `@` at most, a valid host name or IP
 * literal (IPv6 in brackets), a numeric port. Undefined for anything else (e.g. `sip:a@b.org@b.org`).
 */
export function parseSipUri(text: string): SipUriParts | undefined {
  const match = /^(sips?):(.*)$/i.exec(text.trim());
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase() as 'sip' | 'sips';
  // Parameters and headers end the host part.
  const rest = match[2]!.split(/[;?]/, 1)[0]!;
  const at = rest.lastIndexOf('@');
  let user: string | undefined;
  let hostport = rest;
  if (at >= 0) {
    user = rest.slice(0, at);
    hostport = rest.slice(at + 1);
    // user:password is allowed by the grammar; the user part itself must be one token.
    const userOnly = user.split(':', 1)[0]!;
    if (user.includes('@') || !USER.test(userOnly)) return undefined;
    user = userOnly;
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(hostport);
  if (v6) {
    if (isIP(v6[1]!) !== 6) return undefined;
    host = `[${v6[1]!}]`;
    portText = v6[2];
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    portText = colon < 0 ? undefined : hostport.slice(colon + 1);
    if (isIP(host) !== 4 && !HOSTNAME.test(host)) return undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined;
    port = Number(portText);
  }
  return { scheme, user, host, port };
}

/** A `tel:` URI (RFC 3966): the number as written and its parameters (names lower-cased). */
export interface TelUriParts {
  scheme: 'tel';
  number: string;
  params: Record<string, string>;
}

/** `parseSipUri`, or a `tel:` URI with a number of digits, `+`, visual separators or `*#`. */
export function parseUri(text: string): SipUriParts | TelUriParts | undefined {
  const tel = /^tel:([-+0-9A-Fa-f*#().]+)((?:;[^;]*)*)$/i.exec(text.trim());
  if (!tel) return parseSipUri(text);
  const params = parseParams(tel[2] ?? '');
  return params && { scheme: 'tel', number: tel[1]!, params };
}

/** True for an IPv4 or IPv6 literal (with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** The Contact header with every `expires=<n>` parameter set to `expires` (jambonz's rewrite). */
export function rewriteContactExpires(contact: string, expires: number): string {
  return contact.replace(/expires=\d+/gi, `expires=${expires}`);
}
