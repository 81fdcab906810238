/** IPv4 addresses and CIDR ranges as 32-bit numbers (gateway matching, private network checks). */

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * A dotted-quad IPv4 address (four decimal octets, no leading zeros) as an unsigned 32-bit number;
 * an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) counts as its IPv4 address. Undefined otherwise
 * (DNS names, IPv6, `127.1`, `010.0.0.1`).
 */
export function parseIpv4(text: string): number | undefined {
  const address = text.trim().replace(/^::ffff:/i, '');
  if (!DOTTED_QUAD.test(address)) return undefined;
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export interface Ipv4Cidr {
  /** Network address with the host bits cleared. */
  network: number;
  prefixLength: number;
}

function maskOf(prefixLength: number): number {
  // (2^32 - 2^(32-n)) without 32-bit shift overflow at n = 0.
  return prefixLength === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefixLength);
}

/** `a.b.c.d/n` (or an address with `prefixLength` given apart) as a range; undefined if either part is invalid. */
export function parseIpv4Cidr(text: string, prefixLength?: number): Ipv4Cidr | undefined {
  const [address, suffix, extra] = text.trim().split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const base = parseIpv4(address);
  const length =
    suffix !== undefined ? (/^\d{1,2}$/.test(suffix) ? Number(suffix) : NaN) : (prefixLength ?? 32);
  if (base === undefined || !Number.isInteger(length) || length < 0 || length > 32) return undefined;
  const mask = maskOf(length);
  return { network: unsignedAnd(base, mask), prefixLength: length };
}

/** True when `address` (dotted quad) is inside `cidr`. */
export function ipv4InCidr(address: string | number, cidr: Ipv4Cidr): boolean {
  const ip = typeof address === 'number' ? address : parseIpv4(address);
  if (ip === undefined) return false;
  return unsignedAnd(ip, maskOf(cidr.prefixLength)) === cidr.network;
}

/** True when `address` is inside any of the comma separated CIDRs (e.g. system_information.private_network_cidr). */
export function ipv4InAnyCidr(address: string, cidrList: string): boolean {
  return cidrList
    .split(',')
    .map((part) => parseIpv4Cidr(part))
    .some((cidr) => cidr !== undefined && ipv4InCidr(address, cidr));
}

function unsignedAnd(a: number, b: number): number {
  return (a & b) >>> 0;
}
