import type { AccountWithHook } from '@sbc/db';
import { AmbiguousRouteError } from '../answers.js';
import { matchDid } from './did.js';
import { carriersAt } from './gateways.js';
import { carrierOfNumber, routeTo } from './route.js';
import type { CarrierRoute, ClassifyDeps, ClassifyInput } from './types.js';

/**
 * §2.3 A.1: the Request-URI host is the realm of an active account. A carrier of that account, or
 * one of its service provider's carriers for all accounts, sending from the source makes it a
 * carrier call; undefined otherwise (a device or Teams call to that realm).
 *
 * Both kinds of carriers are considered together: jambonz once skipped the SP-wide ones when the
 * account had a carrier of its own, so their calls were challenged as device calls (#218).
 */
export async function realmAccountCarrierRoute(
  deps: ClassifyDeps,
  input: ClassifyInput,
  realmAccount: AccountWithHook,
): Promise<CarrierRoute | undefined> {
  const carriers = await carriersAt(deps, input.source.address, {
    accountSid: realmAccount.account_sid,
    serviceProviderSid: realmAccount.service_provider_sid,
  });
  const [first] = carriers;
  if (!first) return undefined;

  const numbers = await matchDid(
    deps,
    input.did,
    carriers.map((c) => c.carrier.voip_carrier_sid),
  );
  // The number itself must belong to the realm's account; several carriers sharing the gateway
  // may route it, which is only ambiguous when more than one does (#134).
  const exact = numbers.exact.filter((n) => n.account_sid === realmAccount.account_sid);
  if (exact.length > 1) throw new AmbiguousRouteError('realm_carriers');
  const own = exact[0] && carrierOfNumber(carriers, exact[0]);
  if (own && exact[0]) return { ...routeTo(own, realmAccount.account_sid, exact[0]), account: realmAccount };

  // Wildcards and regexes of any account on these carriers: a carrier for all accounts routes to
  // the number's account (jambonz), an account's carrier to its account.
  for (const pattern of numbers.patterns) {
    const matched = carrierOfNumber(carriers, pattern);
    if (!matched) continue;
    const accountSid = matched.carrier.account_sid ?? pattern.account_sid ?? realmAccount.account_sid;
    const route = routeTo(matched, accountSid, pattern);
    return accountSid === realmAccount.account_sid ? { ...route, account: realmAccount } : route;
  }

  // No number: the best matching carrier, with its default application if it has one.
  return { ...routeTo(first, realmAccount.account_sid), account: realmAccount };
}
