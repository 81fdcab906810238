import { ipFamily, networkContains, normalizeIp, parseNetwork } from '@sbc/net';
import type { Db, SqlValue } from '../db.js';
import { DbConfigError } from '../errors.js';
import { columns } from '../sql.js';
import type { CarrierGateway, CarrierSummary, SipGateway } from '../types.js';

export const SIP_GATEWAY_COLUMNS = [
  'sip_gateway_sid',
  'voip_carrier_sid',
  'ipv4',
  'netmask',
  'port',
  'inbound',
  'outbound',
  'is_active',
  'send_options_ping',
  'use_sips_scheme',
  'pad_crypto',
  'protocol',
  'remove_ice',
  'dtls_off',
] as const satisfies readonly (keyof SipGateway)[];

const CARRIER_SUMMARY_COLUMNS = [
  'voip_carrier_sid',
  'name',
  'account_sid',
  'service_provider_sid',
  'application_sid',
  'is_active',
  'trunk_type',
  'requires_register',
  'register_username',
  'register_password',
  'dtmf_type',
] as const satisfies readonly (keyof CarrierSummary)[];

const CARRIER_PREFIX = 'vc__';

const SELECT_CARRIER_GATEWAY = `SELECT ${columns<SipGateway>('sg', SIP_GATEWAY_COLUMNS)},
    ${columns('vc', CARRIER_SUMMARY_COLUMNS, CARRIER_PREFIX)}
  FROM sip_gateways sg JOIN voip_carriers vc ON sg.voip_carrier_sid = vc.voip_carrier_sid`;

function toCarrierGateway(row: Record<string, unknown>): CarrierGateway {
  const gateway: Record<string, unknown> = {};
  const carrier: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(CARRIER_PREFIX)) carrier[key.slice(CARRIER_PREFIX.length)] = value;
    else gateway[key] = value;
  }
  return { ...(gateway as unknown as SipGateway), carrier: carrier as unknown as CarrierSummary };
}

/** Every gateway of a carrier (any direction, active or not). */
export async function lookupSipGatewaysByCarrier(db: Db, voipCarrierSid: string): Promise<SipGateway[]> {
  return db.cachedSelect<SipGateway>(
    `SELECT ${columns<SipGateway>('sg', SIP_GATEWAY_COLUMNS)} FROM sip_gateways sg
      WHERE sg.voip_carrier_sid = ? ORDER BY sg.ipv4, sg.port, sg.sip_gateway_sid`,
    [voipCarrierSid],
  );
}

/**
 * How well a gateway row matches an address (`ip`: its normalized spelling, undefined for a name):
 * lower is better; undefined = no match. jambonz's rule: netmask 32 is one address, a smaller one
 * a range; here also `a/n` written in `ipv4`, and IPv6 (netmask 32 or 128 is one address, as the
 * portal stores 32 by default; any other netmask a range).
 */
function matchRank(
  gateway: SipGateway,
  address: string,
  ip: string | undefined,
  port: number | undefined,
): number | undefined {
  const cidrInText = gateway.ipv4.includes('/');
  const family = cidrInText ? 0 : ipFamily(gateway.ipv4);
  const single = !cidrInText && (gateway.netmask === 32 || (family === 6 && gateway.netmask === 128));
  if (single) {
    const same = gateway.ipv4 === address || (ip !== undefined && normalizeIp(gateway.ipv4) === ip);
    if (!same) return undefined;
    // Exact address: the same port, then no port, then another port.
    if (port === undefined) return 0;
    if (gateway.port === port) return 0;
    return gateway.port === null ? 1 : 2;
  }
  if (ip === undefined) return undefined;
  const network = parseNetwork(gateway.ipv4, cidrInText ? undefined : gateway.netmask);
  if (!network || !networkContains(network, ip)) return undefined;
  // After every exact match; a longer prefix (more specific) first.
  return 3 + ((network.family === 4 ? 32 : 128) - network.prefixLength);
}

/**
 * Keeps the gateways whose address covers `address` and sorts them: exact address matches first
 * (same port, no port, other port), then CIDR ranges from the most specific (longest prefix) to
 * the least; on a tie, gateways of account-level carriers before service-provider-wide ones.
 * IPv4 and IPv6 alike (an IPv4-mapped IPv6 source is IPv4); addresses compare however spelled.
 */
export function rankGatewayMatches<G extends CarrierGateway>(
  gateways: readonly G[],
  address: string,
  port?: number,
): G[] {
  const ip = normalizeIp(address);
  const ranked: { gateway: G; rank: number }[] = [];
  for (const gateway of gateways) {
    const rank = matchRank(gateway, address, ip, port);
    if (rank !== undefined) ranked.push({ gateway, rank });
  }
  ranked.sort(
    (a, b) =>
      a.rank - b.rank ||
      Number(b.gateway.carrier.account_sid !== null) - Number(a.gateway.carrier.account_sid !== null) ||
      a.gateway.sip_gateway_sid.localeCompare(b.gateway.sip_gateway_sid),
  );
  return ranked.map((r) => r.gateway);
}

/**
 * Rows that may cover `address`: the exact address (as given and normalized), any range (netmask
 * other than 32, or `a/n` in ipv4), and for an IPv6 source every IPv6 row (spellings differ).
 */
function candidateFilter(address: string): { where: string; params: SqlValue[] } {
  const ip = normalizeIp(address);
  const v6 = ip !== undefined && ipFamily(ip) === 6 ? ` OR sg.ipv4 LIKE '%:%'` : '';
  return {
    where: `(sg.ipv4 IN (?) OR sg.netmask <> 32 OR sg.ipv4 LIKE '%/%'${v6})`,
    params: [[...new Set([address, ip ?? address])]],
  };
}

/** Which carriers' gateways an inbound lookup considers. */
export type InboundGatewayScope =
  /** The carriers of an account plus the service provider's carriers for all accounts (account_sid NULL). */
  | { accountSid: string; serviceProviderSid: string }
  /** Exactly these carriers. */
  | { voipCarrierSids: readonly string[] };

/**
 * Gateways that accept calls from `sourceAddress` (inbound, active, of an active carrier), best
 * match first (see `rankGatewayMatches`). Without a scope, the carriers of every service provider;
 * with one, the carriers of an account (and the SP-wide ones) or a list of carriers.
 */
export async function lookupInboundGateways(
  db: Db,
  sourceAddress: string,
  scope?: InboundGatewayScope,
): Promise<CarrierGateway[]> {
  const { where, params } = candidateFilter(sourceAddress);
  let scopeSql = 'vc.service_provider_sid IS NOT NULL';
  const scopeParams: SqlValue[] = [];
  if (scope && 'voipCarrierSids' in scope) {
    if (scope.voipCarrierSids.length === 0) return [];
    scopeSql = 'vc.voip_carrier_sid IN (?)';
    scopeParams.push([...scope.voipCarrierSids]);
  } else if (scope) {
    scopeSql = '(vc.account_sid = ? OR (vc.service_provider_sid = ? AND vc.account_sid IS NULL))';
    scopeParams.push(scope.accountSid, scope.serviceProviderSid);
  }
  const rows = await db.cachedSelect<Record<string, unknown>>(
    `${SELECT_CARRIER_GATEWAY}
      WHERE sg.inbound = 1 AND sg.is_active = 1 AND vc.is_active = 1 AND ${scopeSql} AND ${where}`,
    [...scopeParams, ...params],
  );
  return rankGatewayMatches(rows.map(toCarrierGateway), sourceAddress);
}

/**
 * The gateway a signalling address belongs to, whatever its flags: exact address (same port
 * first) before CIDR ranges, most specific range first. Undefined when no gateway covers it.
 */
export async function lookupSipGatewayBySignalingAddress(
  db: Db,
  address: string,
  port?: number,
): Promise<CarrierGateway | undefined> {
  const { where, params } = candidateFilter(address);
  const rows = await db.cachedSelect<Record<string, unknown>>(
    `${SELECT_CARRIER_GATEWAY} WHERE ${where}`,
    params,
  );
  return rankGatewayMatches(rows.map(toCarrierGateway), address, port)[0];
}

/** Gateways to send OPTIONS pings to: `send_options_ping`, outbound and active (jambonz selects on these only). */
export async function lookupGatewaysForOptionsPing(db: Db): Promise<CarrierGateway[]> {
  const rows = await db.cachedSelect<Record<string, unknown>>(
    `${SELECT_CARRIER_GATEWAY}
      WHERE sg.send_options_ping = 1 AND sg.outbound = 1 AND sg.is_active = 1
      ORDER BY sg.ipv4, sg.port, sg.sip_gateway_sid`,
  );
  return rows.map(toCarrierGateway);
}

/** Gateway columns an SBC may change. */
export type SipGatewayUpdate = Partial<
  Pick<SipGateway, 'send_options_ping' | 'is_active' | 'inbound' | 'outbound'>
>;

const UPDATABLE_GATEWAY_COLUMNS = ['send_options_ping', 'is_active', 'inbound', 'outbound'] as const;

/** Changes a gateway (e.g. `{send_options_ping: false}` after OPTIONS_RESPONSE_REMOVE); false when no such gateway. */
export async function updateSipGateway(
  db: Db,
  sipGatewaySid: string,
  update: SipGatewayUpdate,
): Promise<boolean> {
  const set = UPDATABLE_GATEWAY_COLUMNS.filter((c) => update[c] !== undefined);
  if (set.length === 0) throw new DbConfigError('updateSipGateway: nothing to update');
  const result = await db.execute(
    `UPDATE sip_gateways SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE sip_gateway_sid = ?`,
    [...set.map((c) => update[c] as boolean), sipGatewaySid],
  );
  return result.affectedRows > 0;
}
