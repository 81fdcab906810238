/**
 * The few header facts the transaction layer reads, on top of src/sip, so that matching stays a
 * short string key per message.
 */
import {
  tryParseCSeq,
  formatHost,
  BRANCH_MAGIC_COOKIE,
  ownCopy,
  tagOf as tagOfNameAddr,
  topVia as parseTopVia,
  type CSeq,
  type SipHeadersContract as SipHeaders,
} from '@sbc/sip';
import type { LocalEndpoint, SendResult } from '../transport/types.js';

export { newBranch } from '@sbc/sip';

/** RFC 3261 §8.1.1.7 magic cookie. */
export const BRANCH_COOKIE = BRANCH_MAGIC_COOKIE;

/** What matching needs from the top Via (RFC 3261 §17.2.3). */
export interface TopVia {
  /** Upper-case transport token, e.g. `UDP`. */
  transport: string;
  /** sent-by as `host:port` (host lower-cased, IPv6 in brackets, port empty when absent). */
  sentBy: string;
  branch: string | undefined;
}

/** The first Via element, or undefined when there is none or it is malformed. */
export function topVia(headers: SipHeaders): TopVia | undefined {
  const via = parseTopVia(headers);
  if (via === undefined) return undefined;
  return {
    transport: via.transport,
    sentBy: `${formatHost(via.host.toLowerCase())}:${via.port ?? ''}`,
    branch: via.branch,
  };
}

export function cseqOf(headers: SipHeaders): CSeq | undefined {
  const value = headers.get('cseq');
  return value === undefined ? undefined : tryParseCSeq(value);
}

/** The `tag` parameter of a From / To value. */
export function tagOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : tagOfNameAddr(value);
}

/** `SIP/2.0/UDP host:port;rport;branch=…` for a request sent from `endpoint` (RFC 3261 §18.1.1, RFC 3581 §3). */
export function viaFor(endpoint: LocalEndpoint, branch: string): string {
  return `SIP/2.0/${endpoint.protocol.toUpperCase()} ${formatHost(endpoint.advertisedAddress)}:${endpoint.port};rport;branch=${branch}`;
}

/**
 * A send result fit to keep for the life of a transaction: serialised messages are slices of Node's shared
 * 8 KiB buffer pool, and keeping the slice would keep the whole slab.
 */
export function retainable(result: SendResult): SendResult {
  const raw = result.raw;
  return raw.buffer.byteLength > 2 * raw.length ? { ...result, raw: ownCopy(raw) } : result;
}
