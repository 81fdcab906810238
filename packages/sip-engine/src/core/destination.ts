import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { tryParseNameAddr, tryParseUri } from '@sbc/sip';
import type { Peer, TransportProtocol } from '../transport/types.js';

const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/**
 * The next hop for a URI (RFC 3263 simplified: A/AAAA lookup, no NAPTR/SRV): host, port (5060, or
 * 5061 for sips), transport from `;transport=` (sips → tls). Undefined when the URI is unusable.
 */
export async function destinationOf(uriOrNameAddr: string): Promise<Peer | undefined> {
  const text = uriOrNameAddr.trim().startsWith('<')
    ? (tryParseNameAddr(uriOrNameAddr)?.uri ?? '')
    : uriOrNameAddr;
  const uri = tryParseUri(text.trim());
  if (!uri || (uri.scheme !== 'sip' && uri.scheme !== 'sips') || !uri.host) return undefined;
  const maddr = uri.params.get('maddr');
  const transportParam = (uri.params.get('transport') ?? '').toLowerCase();
  const secure = uri.scheme === 'sips';
  const protocol: TransportProtocol = PROTOCOLS.includes(transportParam as TransportProtocol)
    ? (transportParam as TransportProtocol)
    : secure
      ? 'tls'
      : 'udp';
  const host = maddr ?? uri.host;
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host)).address;
    } catch {
      return undefined;
    }
  }
  const port = uri.port ?? (protocol === 'tls' || protocol === 'wss' ? 5061 : 5060);
  return { protocol, address, port };
}
