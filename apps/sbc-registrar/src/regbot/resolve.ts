/**
 * The IP addresses a registration trunk's gateway may send INVITEs from (jambonz: stored as
 * `eph-gw-ip:<ip>` so sbc-inbound accepts them as that carrier).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { RegbotTransport } from './spec.js';

/** The DNS lookups used (node's resolver by default). */
export interface Resolver {
  resolve4(host: string): Promise<string[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number }[]>;
}

const SRV_PREFIX: Record<RegbotTransport, string> = {
  udp: '_sip._udp',
  tcp: '_sip._tcp',
  tls: '_sips._tcp',
};

/**
 * An IP literal as it is; a name with a port: its A records; a name without a port: the A records of
 * its SRV targets for the transport, falling back to its own A records. Empty when nothing resolves.
 */
export async function resolveGatewayAddresses(
  gateway: { host: string; port: number | null; transport: RegbotTransport },
  resolver: Resolver = dns,
): Promise<string[]> {
  if (isIP(gateway.host) !== 0) return [gateway.host];
  const a = (host: string) => resolver.resolve4(host).catch(() => [] as string[]);
  if (gateway.port) return a(gateway.host);
  const targets = await resolver
    .resolveSrv(`${SRV_PREFIX[gateway.transport]}.${gateway.host}`)
    .catch(() => [] as { name: string; port: number }[]);
  const fromSrv = (await Promise.all(targets.map((t) => a(t.name)))).flat();
  const addresses = fromSrv.length > 0 ? fromSrv : await a(gateway.host);
  return [...new Set(addresses)];
}
