/**
 * The strict reads apps make of addresses, on top of the one parser in this package: a SIP URI's
 * user / host / port (address of record, Request-URI host) and Contact lists including `*`.
 * drachtio-srf's own parser is lenient (it accepts `sip:john@a.org@a.org`, jambonz gh-83) and throws on
 * `Contact: *`, so the apps read these through here.
 */
import { isIP } from 'node:net';
import { formatHost } from './grammar.js';
import { splitHeaderList } from './headers.js';
import { tryParseNameAddr } from './name-addr.js';
import type { NameAddr } from './types.js';
import { tryParseUri } from './uri.js';

/** A `sip:` / `sips:` URI reduced to what an app routes or keys on. */
export interface SipUriParts {
  scheme: 'sip' | 'sips';
  /** The user part without any password. */
  user: string | undefined;
  /** Host name, IPv4 literal, or IPv6 literal in brackets. */
  host: string;
  port: number | undefined;
}

/** A DNS name as RFC 1035 §2.3.4 limits it (labels of 1–63 characters, 253 in all; `_` seen in the wild). */
const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * A SIP/SIPS URI (RFC 3261 §19.1) whose host is an IP literal or a well-formed DNS name; undefined for
 * anything else (`tel:`, `sip:a@b.org@b.org`, a port above 65535, a malformed parameter).
 */
export function parseSipUri(text: string): SipUriParts | undefined {
  const uri = tryParseUri(text.trim());
  if (!uri || (uri.scheme !== 'sip' && uri.scheme !== 'sips')) return undefined;
  if (isIP(uri.host) === 0 && !DNS_NAME.test(uri.host)) return undefined;
  return {
    scheme: uri.scheme === 'sips' ? 'sips' : 'sip',
    user: uri.user,
    host: formatHost(uri.host),
    port: uri.port,
  };
}

/** True for an IPv4 or IPv6 literal (with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/**
 * Every entry of a Contact header value, `*` included (as a name-addr whose `uri` is `*`); undefined
 * when one of them cannot be parsed.
 */
export function parseContactList(value: string): NameAddr[] | undefined {
  const entries: NameAddr[] = [];
  for (const part of splitHeaderList(value)) {
    // `*`: the wildcard of a REGISTER that removes every binding (RFC 3261 §10.2.2)
    const entry = part === '*' ? { uri: '*', params: new Map(), angle: false } : tryParseNameAddr(part);
    if (!entry) return undefined;
    entries.push(entry);
  }
  return entries.length > 0 ? entries : undefined;
}

/** The Contact header with every `expires=<n>` parameter set to `expires` (jambonz's rewrite). */
export function rewriteContactExpires(contact: string, expires: number): string {
  return contact.replace(/expires=\d+/gi, `expires=${expires}`);
}
