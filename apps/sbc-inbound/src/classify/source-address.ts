import { lookupSoleAccountOfServiceProvider } from '@sbc/db';
import { AmbiguousRouteError } from '../answers.js';
import { matchDid } from './did.js';
import { carriersAt } from './gateways.js';
import { carrierOfNumber, routeTo } from './route.js';
import type { CarrierRoute, ClassifyDeps, ClassifyInput } from './types.js';

/** A known carrier sent a number nobody routes: 404 Number Not Provisioned. */
export const NOT_PROVISIONED = 'not-provisioned';

/**
 * §2.3 B: an IP Request-URI (or no realm / registration match). Every carrier with an inbound
 * gateway covering the source is a candidate (exact address first, then the most specific range);
 * the DID decides between them, in jambonz's order:
 * exact number → wildcard/regex → the one carrier an account routes by default → the service
 * provider's only account → 404. Undefined when no carrier matches the source.
 */
export async function sourceAddressCarrierRoute(
  deps: ClassifyDeps,
  input: ClassifyInput,
): Promise<CarrierRoute | typeof NOT_PROVISIONED | undefined> {
  const carriers = await carriersAt(deps, input.source.address);
  const [first] = carriers;
  if (!first) return undefined;

  const numbers = await matchDid(
    deps,
    input.did,
    carriers.map((c) => c.carrier.voip_carrier_sid),
  );
  if (numbers.exact.length > 1) throw new AmbiguousRouteError('same_number');
  for (const number of [...numbers.exact, ...numbers.patterns]) {
    const matched = carrierOfNumber(carriers, number);
    if (!matched) continue;
    // A number of a carrier for all accounts names its account; an account's carrier is its own.
    const accountSid = number.account_sid ?? matched.carrier.account_sid;
    return accountSid ? routeTo(matched, accountSid, number) : NOT_PROVISIONED;
  }

  // Default routing: an account that added this carrier with an application.
  const defaults = carriers.filter((c) => c.carrier.account_sid && c.carrier.application_sid);
  if (defaults.length > 1) throw new AmbiguousRouteError('default_route');
  const [byDefault] = defaults;
  if (byDefault?.carrier.account_sid) return routeTo(byDefault, byDefault.carrier.account_sid);

  // A service provider with a single account: nobody else the call could be for.
  const sp = first.carrier.service_provider_sid;
  const sole = sp ? await lookupSoleAccountOfServiceProvider(deps.db, sp) : undefined;
  if (sole) return routeTo(first, sole);

  deps.logger?.info(
    { did: input.did, carriers: carriers.map((c) => c.carrier.voip_carrier_sid) },
    'carrier call for a number that is not provisioned',
  );
  return NOT_PROVISIONED;
}
