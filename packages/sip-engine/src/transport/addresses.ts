import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { TransportProtocol } from './types.js';

export type AddressFamily = 4 | 6;

/** IPv6 for IPv6 literals (brackets allowed), else IPv4 (host names resolve to IPv4 here). */
export function familyOf(address: string): AddressFamily {
  return isIP(stripBrackets(address)) === 6 ? 6 : 4;
}

export function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

export function isLoopback(address: string): boolean {
  const a = stripBrackets(address).toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

/** Same address, ignoring case, brackets and the IPv4-mapped IPv6 form. */
export function sameAddress(a: string, b: string): boolean {
  return normalizeAddress(a) === normalizeAddress(b);
}

export function normalizeAddress(address: string): string {
  const a = stripBrackets(address).toLowerCase();
  return a.startsWith('::ffff:') && a.indexOf('.') > 0 ? a.slice(7) : a;
}

/** The map key of a connection to `address:port` over `protocol`. */
export function peerKey(protocol: TransportProtocol, address: string, port: number): string {
  return `${protocol} ${normalizeAddress(address)} ${port}`;
}

/** For a wildcard bind with no external address: the first non-internal interface address of that family. */
export function defaultAdvertisedAddress(bound: string): string {
  if (!isWildcard(bound)) return bound;
  const family = familyOf(bound);
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (!info.internal && (info.family === 'IPv6' ? 6 : 4) === family && !info.address.startsWith('fe80')) {
        return info.address;
      }
    }
  }
  return family === 6 ? '::1' : '127.0.0.1';
}

/** RFC 3261 §18.2.2 / §19.1.2 default ports; RFC 7118 gives none, the HTTP ones are used. */
export function defaultPort(protocol: TransportProtocol): number {
  switch (protocol) {
    case 'tls':
      return 5061;
    case 'ws':
      return 80;
    case 'wss':
      return 443;
    default:
      return 5060;
  }
}

/** Via transport token → our protocol name, undefined for transports we do not speak (SCTP, …). */
export function protocolOfViaTransport(transport: string): TransportProtocol | undefined {
  switch (transport.toUpperCase()) {
    case 'UDP':
      return 'udp';
    case 'TCP':
      return 'tcp';
    case 'TLS':
      return 'tls';
    case 'WS':
      return 'ws';
    case 'WSS':
      return 'wss';
    default:
      return undefined;
  }
}

export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'udp';
}
