import { unmapIpv4, type NetworkSet, type SrfRequest } from '@sbc/service';

/**
 * Step 1 of an incoming OPTIONS: what kind of ping is it?
 * - `external`: no X-FS-Status / X-RTP-Status (a carrier or a monitor): a plain 200.
 * - `untrusted`: status headers from outside JAMBONES_NETWORK_CIDR: ignored (a plain 200), counted.
 *   jambonz's snapshot accepted them from anyone, letting anybody add feature servers.
 * - `feature_server` / `rtpengine`: a status ping from our private network. X-RTP-Status wins when a
 *   request carries both, as in jambonz.
 */
export type OptionsKind = 'external' | 'untrusted' | 'feature_server' | 'rtpengine';

export interface StatusPing {
  kind: 'feature_server' | 'rtpengine';
  /** `open` (case-insensitive); jambonz treats every other value as `closed`. */
  open: boolean;
  /** The header value as received. */
  status: string;
  /** Source address (an IPv4-mapped IPv6 source as plain IPv4) and port. */
  ip: string;
  port: number;
  /** X-FS-ServiceUrl, feature servers only. */
  serviceUrl?: string;
  /** X-FS-Calls / X-RTP-Calls when numeric (logged; jambonz ignores them too). */
  calls?: number;
}

export type Classified =
  { kind: 'external' } | { kind: 'untrusted'; ip: string; header: string } | StatusPing;

export function classifyOptions(req: SrfRequest, network: NetworkSet): Classified {
  const header = req.has('X-RTP-Status')
    ? 'X-RTP-Status'
    : req.has('X-FS-Status')
      ? 'X-FS-Status'
      : undefined;
  if (header === undefined) return { kind: 'external' };
  const ip = unmapIpv4(req.source_address);
  if (!network.contains(ip)) return { kind: 'untrusted', ip, header };
  const kind = header === 'X-RTP-Status' ? 'rtpengine' : 'feature_server';
  const status = (req.get(header) ?? '').trim();
  const callsHeader = req.get(kind === 'rtpengine' ? 'X-RTP-Calls' : 'X-FS-Calls');
  const calls =
    callsHeader !== undefined && /^\s*\d+\s*$/.test(callsHeader) ? Number(callsHeader) : undefined;
  const serviceUrl = kind === 'feature_server' ? req.get('X-FS-ServiceUrl')?.trim() : undefined;
  return {
    kind,
    open: status.toLowerCase() === 'open',
    status,
    ip,
    port: Number(req.source_port),
    ...(serviceUrl ? { serviceUrl } : {}),
    ...(calls !== undefined ? { calls } : {}),
  };
}
