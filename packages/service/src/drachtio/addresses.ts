/**
 * The SBC's own addresses, from what the engine reports when an app connects (`EngineInfo`):
 * the private SIP address (stored on registrations, put in `<cluster>:active-sip`) and the public
 * ones (rows of `sbc_addresses`).
 */
import { ipFamily, parseNetworks, type NetworkSet } from '@sbc/net';
import type { EngineHostport, EngineInfo } from './connection.js';

/** RFC 1918: jambonz publishes every IPv4 address outside these. */
const PRIVATE_RANGES = parseNetworks('10.0.0.0/8,172.16.0.0/12,192.168.0.0/16');

const asNetworks = (networks: NetworkSet | readonly string[]): NetworkSet =>
  'contains' in networks ? networks : parseNetworks(networks);

const hostport = ({ host, port }: EngineHostport): string =>
  ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * jambonz's private SIP addresses (`ip:port`, IPv6 bracketed): every tcp local hostport inside
 * JAMBONES_NETWORK_CIDR; when there is none, every tcp advertised hostport. In order.
 */
export function privateSipAddresses(engine: EngineInfo, networks: NetworkSet | readonly string[]): string[] {
  const network = asNetworks(networks);
  const local = engine.localHostports.filter((hp) => hp.protocol === 'tcp' && network.contains(hp.host));
  const chosen = local.length > 0 ? local : engine.hostports.filter((hp) => hp.protocol === 'tcp');
  return chosen.map(hostport);
}

/** The private SIP address: the last of `privateSipAddresses` ("the last one wins", as jambonz). */
export function privateSipAddress(
  engine: EngineInfo,
  networks: NetworkSet | readonly string[],
): string | undefined {
  return privateSipAddresses(engine, networks).at(-1);
}

/** One `sbc_addresses` row. */
export interface PublicAddress {
  ipv4: string;
  port: number;
  tls_port: number | null;
  wss_port: number | null;
}

/**
 * jambonz's grouping: per IPv4 address of a udp, tls or wss listener outside RFC 1918, the udp port
 * (5060 when that address has no udp listener), the tls port and the wss port.
 */
export function publicAddresses(hostports: readonly EngineHostport[]): PublicAddress[] {
  const byIp = new Map<string, PublicAddress>();
  for (const hp of hostports) {
    if (ipFamily(hp.host) !== 4 || PRIVATE_RANGES.contains(hp.host)) continue;
    if (!['udp', 'tls', 'wss'].includes(hp.protocol)) continue;
    const entry = byIp.get(hp.host) ?? { ipv4: hp.host, port: 5060, tls_port: null, wss_port: null };
    if (hp.protocol === 'udp') entry.port = hp.port;
    if (hp.protocol === 'tls') entry.tls_port = hp.port;
    if (hp.protocol === 'wss') entry.wss_port = hp.port;
    byIp.set(hp.host, entry);
  }
  return [...byIp.values()];
}
