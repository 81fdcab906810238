/**
 * Every Redis key name the SBC shares with jambonz (feature servers, api-server, other SBCs).
 * The spellings are jambonz's, including the odd ones (`incalls:sp:<sid>:`, `incalls:app<sid>:`).
 */

/** jambonz uses `JAMBONES_CLUSTER_ID || 'default'` as the cluster prefix. */
export const DEFAULT_CLUSTER_ID = 'default';

/** `<cluster>:<name>`; an unset or empty cluster id means `default`, as in jambonz. */
export function clusterKey(clusterId: string | undefined, name: string): string {
  return `${clusterId || DEFAULT_CLUSTER_ID}:${name}`;
}

/** Sorted set of registration keys, score = expiryTime in ms. */
export const ACTIVE_USER_KEY = 'active-user';

/** `user:<user>@<realm>`: the registration record of one address of record. */
export function registrationKey(aor: string): string {
  return `user:${aor}`;
}

/** `<cluster>:regbot-token`: which SBC sends the outbound carrier REGISTERs. */
export function regbotTokenKey(clusterId?: string): string {
  return clusterKey(clusterId, 'regbot-token');
}

/** `eph-gw-ip:<ip>`: hash carrierSid → unix expiry (s) of registration-trunk gateway addresses. */
export function ephemeralGatewayKey(ip: string): string {
  return `eph-gw-ip:${ip}`;
}

/** `blacklist-sip-gateway:<sip_gateway_sid>`: '1' while the gateway fails OPTIONS pings. */
export function gatewayBlacklistKey(sipGatewaySid: string): string {
  return `blacklist-sip-gateway:${sipGatewaySid}`;
}

export type CallCounterScope = 'account' | 'sp' | 'app';

/** Calls-in-progress counters, with jambonz's exact (inconsistent) spellings. */
export function callCounterKey(scope: CallCounterScope, sid: string): string {
  switch (scope) {
    case 'account':
      return `incalls:account:${sid}`;
    case 'sp':
      return `incalls:sp:${sid}:`;
    case 'app':
      return `incalls:app${sid}:`;
  }
}

/**
 * The Redis set of banned source IPs that the SIP engines read (drachtio-server's
 * `--blacklist-redis-key`; ours takes the same option). The apps write it; the engines drop traffic
 * from its members.
 */
export const DEFAULT_SOURCE_BLACKLIST_KEY = 'blacklist-sip-ips';

/** `auth-failures:<ip>`: authentication failures from one source IP in the current window. */
export function authFailureKey(ip: string): string {
  return `auth-failures:${ip}`;
}
