import { isIP } from 'node:net';

/**
 * Addresses as the server sets store them (the JAMBONES_NETWORK_CIDR check is @sbc/service's
 * `parseNetworks`). Kept free of other dependencies: the CLI binary imports it too.
 */

/**
 * `ip:port` as jambonz writes `<cluster>:active-fs` members. An IPv6 address is bracketed
 * (`[::1]:5060`): jambonz's unbracketed form cannot be split back into address and port.
 */
export function hostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The address part of `ip:port`, `[v6]:port` or a bare address. */
export function hostOfMember(member: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(member);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const colon = member.lastIndexOf(':');
  if (colon > 0 && member.indexOf(':') === colon) return member.slice(0, colon);
  return member;
}

/** A feature server as an operator names it on the CLI: a bare address, or address and port. */
export interface ServerName {
  /** The address (IPv6 without brackets). */
  ip: string;
  port?: number;
  /** How it is stored in `<cluster>:drained-fs`: the bare address, or `hostPort(ip, port)`. */
  canonical: string;
}

/**
 * Parses `127.0.1.5`, `127.0.1.5:5060`, `::1` or `[::1]:5060`; undefined when it is not an IP address
 * (host names are refused: drain state is matched against the source address of pings).
 */
export function parseServerName(input: string): ServerName | undefined {
  const text = input.trim();
  if (isIP(text) !== 0) return { ip: text.toLowerCase(), canonical: text.toLowerCase() };
  const match = /^(?:\[([^\]]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const ip = (match[1] ?? match[2] ?? '').toLowerCase();
  const port = Number(match[3]);
  if (isIP(ip) === 0 || port < 1 || port > 65535) return undefined;
  if (match[1] !== undefined && isIP(ip) !== 6) return undefined;
  return { ip, port, canonical: hostPort(ip, port) };
}

/** True when `member` (an `active-fs` entry) is named by a drained entry, by address or by `ip:port`. */
export function isDrainedMember(member: string, drained: ReadonlySet<string>): boolean {
  return drained.has(member) || drained.has(hostOfMember(member));
}
