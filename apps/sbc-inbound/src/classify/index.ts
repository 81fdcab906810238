import { isIP } from 'node:net';
import { lookupAccountBySipRealm, type AccountWithHook } from '@sbc/db';
import { NumberNotProvisionedError } from '../answers.js';
import { asAnswer } from './dependencies.js';
import { deviceCall } from './device.js';
import { realmAccountCarrierRoute } from './realm-account.js';
import { NOT_A_CARRIER_CALL, registrationCarrierRoute } from './registration-carrier.js';
import { NOT_PROVISIONED, sourceAddressCarrierRoute } from './source-address.js';
import { teamsCall } from './teams.js';
import { carrierCall } from './trunk.js';
import type { Classification, ClassifyDeps, ClassifyInput } from './types.js';

export { classifyAuthTrunkCall } from './auth-trunk.js';
export { DEFAULT_RETRY_AFTER_SECONDS } from './dependencies.js';
export { MS_TEAMS_NETWORKS, teamsProxyNetworks } from './teams.js';
export type * from './types.js';

/** jambonz's test for an IP Request-URI (dotted decimal), plus IPv6 literals. */
function isIpHost(host: string): boolean {
  return /^(?:\d{1,3}\.){3}\d{1,3}$/.test(host) || isIP(host.replace(/^\[(.*)\]$/, '$1')) === 6;
}

/**
 * Who sent an INVITE (jambonz's wasOriginatedFromCarrier + identifyAccount, reference §2.3):
 * a carrier (by its source address, its registration, or an ephemeral gateway), Microsoft Teams,
 * or a SIP device of an account. Rejects with the InboundAnswer to send: 404 Number Not
 * Provisioned / unknown realm / Teams tenant without application / SIPREC without application,
 * 503 ambiguous route / inactive account / MySQL or Redis down (DependencyUnavailableError),
 * 482 loop.
 */
export async function classifyInvite(deps: ClassifyDeps, input: ClassifyInput): Promise<Classification> {
  try {
    return await classify(deps, input);
  } catch (err) {
    throw asAnswer(deps, err);
  }
}

async function classify(deps: ClassifyDeps, input: ClassifyInput): Promise<Classification> {
  const { host } = input.requestUri;
  // One lookup serves the carrier step (exact realm, active account only, as jambonz's query)
  // and the device step (super-domain fallback, inactive accounts answered 503).
  let realmLookup: Promise<AccountWithHook | undefined> | undefined;
  const accountOfRealm = () => (realmLookup ??= lookupAccountBySipRealm(deps.db, host));
  const teamsOrDevice = async (): Promise<Classification> =>
    deps.teamsProxyIps.contains(input.source.address)
      ? teamsCall(deps, input)
      : deviceCall(deps, input, await accountOfRealm());

  if (!isIpHost(host)) {
    const account = await accountOfRealm();
    const ownsRealm = account?.is_active && account.sip_realm?.toLowerCase() === host.toLowerCase();
    if (account && ownsRealm) {
      const route = await realmAccountCarrierRoute(deps, input, account);
      return route ? carrierCall(deps, input, route) : teamsOrDevice();
    }
    const registration = await registrationCarrierRoute(deps, input);
    if (registration === NOT_A_CARRIER_CALL) return teamsOrDevice();
    if (registration) return carrierCall(deps, input, registration);
  }

  const route = await sourceAddressCarrierRoute(deps, input);
  if (route === NOT_PROVISIONED) throw new NumberNotProvisionedError();
  return route ? carrierCall(deps, input, route) : teamsOrDevice();
}
