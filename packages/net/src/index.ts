/**
 * IP addresses and networks, IPv4 and IPv6, on ipaddr.js. The one matcher of the repository:
 * gateway ranking in @sbc/db, JAMBONES_NETWORK_CIDR and private addresses in @sbc/service.
 */
import ipaddr from 'ipaddr.js';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * An address as ipaddr.js parses it, or undefined: IPv4 only as four decimal octets without
 * leading zeros (no `127.1`, `010.0.0.1`, `0x7f.0.0.1`), IPv6 with or without brackets. An
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address it carries.
 */
function parseAddress(text: string): Ip | undefined {
  const address = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    if (!/^(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}$/.test(address)) return undefined;
    return ipaddr.IPv4.parse(address);
  }
  if (!address.includes(':') || !ipaddr.IPv6.isValid(address)) return undefined;
  const v6 = ipaddr.IPv6.parse(address);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** 4 or 6 for an IP address (IPv4-mapped IPv6 counts as 4), 0 for anything else (host names). */
export function ipFamily(text: string): 0 | 4 | 6 {
  const ip = parseAddress(text);
  return ip === undefined ? 0 : ip.kind() === 'ipv4' ? 4 : 6;
}

/**
 * One spelling per address (`2001:DB8:0::1` → `2001:db8::1`, `::ffff:127.0.0.1` → `127.0.0.1`,
 * brackets removed); undefined when `text` is not an IP address.
 */
export function normalizeIp(text: string): string | undefined {
  const ip = parseAddress(text);
  return ip === undefined
    ? undefined
    : ip.kind() === 'ipv6'
      ? (ip as ipaddr.IPv6).toRFC5952String()
      : ip.toString();
}

/** An IPv4-mapped IPv6 source (`::ffff:127.0.1.5`) as the IPv4 address it is; anything else unchanged. */
export function unmapIpv4(text: string): string {
  const ip = parseAddress(text);
  return ip?.kind() === 'ipv4' ? ip.toString() : text;
}

/** True when both are IP addresses and the same one, however spelled. */
export function sameAddress(a: string, b: string): boolean {
  const x = normalizeIp(a);
  return x !== undefined && x === normalizeIp(b);
}

/** An IPv4 or IPv6 network. */
export interface Network {
  family: 4 | 6;
  /** The network address (host bits cleared), normalized. */
  address: string;
  prefixLength: number;
  /** `address/prefixLength`. */
  cidr: string;
}

interface ParsedNetwork extends Network {
  ip: Ip;
}

function parseNetworkParts(text: string, prefixLength?: number): ParsedNetwork | undefined {
  const [addressText = '', suffix, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = parseAddress(addressText);
  if (ip === undefined) return undefined;
  const bits = ip.kind() === 'ipv4' ? 32 : 128;
  // An IPv4-mapped network (`::ffff:10.0.0.0/104`) is the IPv4 network it names.
  const mappedOffset = ip.kind() === 'ipv4' && addressText.includes(':') ? 96 : 0;
  let length: number;
  if (suffix === undefined) length = prefixLength ?? bits;
  else if (/^\d{1,3}$/.test(suffix)) length = Number(suffix) - mappedOffset;
  else return undefined;
  if (!Number.isInteger(length) || length < 0 || length > bits) return undefined;
  const network = ipaddr.parse(
    ip.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${length}`).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${length}`).toString(),
  );
  const address = network.kind() === 'ipv6' ? (network as ipaddr.IPv6).toRFC5952String() : network.toString();
  return {
    family: network.kind() === 'ipv4' ? 4 : 6,
    address,
    prefixLength: length,
    cidr: `${address}/${length}`,
    ip: network,
  };
}

/**
 * `a.b.c.d/n`, `v6/n`, or an address alone (with `prefixLength` given apart, as sip_gateways'
 * `netmask` column, else /32 or /128). Undefined when either part is invalid.
 */
export function parseNetwork(text: string, prefixLength?: number): Network | undefined {
  const parsed = parseNetworkParts(text, prefixLength);
  if (!parsed) return undefined;
  const { ip: _ip, ...network } = parsed;
  return network;
}

function contains(network: ParsedNetwork, address: string): boolean {
  const ip = parseAddress(address);
  if (ip === undefined || ip.kind() !== network.ip.kind()) return false;
  return ip.match(network.ip, network.prefixLength);
}

/** True when `address` is inside `cidr` (an IPv4-mapped IPv6 address counts as IPv4). */
export function networkContains(cidr: string | Network, address: string): boolean {
  const network = typeof cidr === 'string' ? parseNetworkParts(cidr) : parseNetworkParts(cidr.cidr);
  return network !== undefined && contains(network, address);
}

/** A list of networks (e.g. JAMBONES_NETWORK_CIDR). */
export interface NetworkSet {
  readonly networks: readonly Network[];
  /** Entries that are not networks (skipped). */
  readonly invalid: readonly string[];
  /** True when `address` is inside any of the networks. */
  contains(address: string): boolean;
}

/**
 * A set of networks from a list or a comma-separated string (`10.0.0.0/8, fd00::/8`); entries that
 * are not networks are skipped and listed in `invalid`.
 */
export function parseNetworks(list: string | readonly string[]): NetworkSet {
  const entries = (typeof list === 'string' ? list.split(',') : list).map((s) => s.trim()).filter(Boolean);
  const parsed: ParsedNetwork[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const network = parseNetworkParts(entry);
    if (network) parsed.push(network);
    else invalid.push(entry);
  }
  return {
    networks: parsed.map(({ ip: _ip, ...network }) => network),
    invalid,
    contains: (address) => parsed.some((network) => contains(network, address)),
  };
}
