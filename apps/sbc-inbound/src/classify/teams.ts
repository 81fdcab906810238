import { BlockList, isIP } from 'node:net';
import { lookupAccountBySid, lookupTeamsTenant } from '@sbc/db';
import { InactiveAccountError, TeamsTenantUnknownError } from '../answers.js';
import { unmapIpv4 } from './gateways.js';
import type { ClassifyDeps, ClassifyInput, NetworkSet, TeamsClassification } from './types.js';

/** Microsoft Teams' SIP proxies, always recognised besides MS_TEAMS_SIP_PROXY_IPS. */
export const MS_TEAMS_NETWORKS: readonly string[] = ['52.112.0.0/14', '52.120.0.0/14'];

/**
 * The Teams proxy set from MS_TEAMS_SIP_PROXY_IPS (addresses or CIDRs, IPv4 or IPv6) plus
 * `MS_TEAMS_NETWORKS`. Throws a TypeError naming an entry that is neither.
 */
export function teamsProxyNetworks(msTeamsSipProxyIps: readonly string[] = []): NetworkSet {
  const list = new BlockList();
  for (const entry of [...msTeamsSipProxyIps, ...MS_TEAMS_NETWORKS]) {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= max))
    ) {
      throw new TypeError(`MS_TEAMS_SIP_PROXY_IPS: "${entry}" is not an IP address or CIDR`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return {
    contains(source: string): boolean {
      const address = unmapIpv4(source);
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/** A call from a Teams SIP proxy: the Request-URI host is the tenant, which names the application. */
export async function teamsCall(deps: ClassifyDeps, input: ClassifyInput): Promise<TeamsClassification> {
  const tenantFqdn = input.requestUri.host;
  const tenant = await lookupTeamsTenant(deps.db, tenantFqdn);
  if (!tenant?.application_sid) throw new TeamsTenantUnknownError();
  const account = await lookupAccountBySid(deps.db, tenant.account_sid);
  if (!account) throw new TeamsTenantUnknownError();
  if (!account.is_active) throw new InactiveAccountError();
  return {
    originator: 'teams',
    tenantFqdn,
    account,
    applicationSid: tenant.application_sid,
    serviceProviderSid: account.service_provider_sid,
  };
}
