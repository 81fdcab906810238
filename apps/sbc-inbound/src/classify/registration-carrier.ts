import {
  lookupAccountBySid,
  lookupCarriersByRegistration,
  lookupSipGatewaysByCarrier,
  rankGatewayMatches,
  type CarrierGateway,
} from '@sbc/db';
import { AmbiguousRouteError } from '../answers.js';
import { bestNumber, matchDid } from './did.js';
import { carrierSummary, carriersOf } from './gateways.js';
import { routeTo } from './route.js';
import type { CarrierRoute, ClassifyDeps, ClassifyInput } from './types.js';

/** The carrier was recognised but has no account: jambonz then treats the call as a device call. */
export const NOT_A_CARRIER_CALL = 'not-a-carrier-call';

/**
 * §2.3 A.2: no account owns the Request-URI host. A carrier we register to sends INVITEs to
 * `sip:<register_username>@<register_sip_realm>` (feature-server #179); it is recognised when one
 * of its gateways covers the source, whatever the gateway's direction (registration gateways are
 * usually outbound only). Undefined when none matches: the source-address lookup comes next.
 */
export async function registrationCarrierRoute(
  deps: ClassifyDeps,
  input: ClassifyInput,
): Promise<CarrierRoute | typeof NOT_A_CARRIER_CALL | undefined> {
  const { user, host } = input.requestUri;
  if (!user) return undefined;
  const carriers = await lookupCarriersByRegistration(deps.db, { sipRealm: host, username: user });
  if (carriers.length === 0) return undefined;

  const gateways: CarrierGateway[] = [];
  for (const carrier of carriers) {
    const summary = carrierSummary(carrier);
    for (const gateway of await lookupSipGatewaysByCarrier(deps.db, carrier.voip_carrier_sid)) {
      if (gateway.is_active) gateways.push({ ...gateway, carrier: summary });
    }
  }
  const matched = carriersOf(rankGatewayMatches(gateways, input.source.address), 'registration');
  if (matched.length > 1) throw new AmbiguousRouteError('registration_carriers');
  const [only] = matched;
  if (!only) return undefined;

  // jambonz assumes an account-level carrier here; an SP-wide one ends the carrier lookup.
  const accountSid = only.carrier.account_sid;
  const account = accountSid ? await lookupAccountBySid(deps.db, accountSid) : undefined;
  if (!accountSid || !account) {
    deps.logger?.info(
      { voip_carrier_sid: only.carrier.voip_carrier_sid },
      'registration carrier without an account: not classified as a carrier call',
    );
    return NOT_A_CARRIER_CALL;
  }
  const number = bestNumber(await matchDid(deps, input.did, [only.carrier.voip_carrier_sid], accountSid));
  return { ...routeTo(only, accountSid, number), account };
}
