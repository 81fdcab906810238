import type { PhoneNumberMatch } from '@sbc/db';
import type { CarrierRoute, MatchedCarrier } from './types.js';

/**
 * A carrier call to `accountSid`. The application is the number's, else the carrier's default
 * route (a number overrides the carrier's default application: sbc-inbound #127).
 */
export function routeTo(
  matched: MatchedCarrier,
  accountSid: string,
  number?: PhoneNumberMatch,
): CarrierRoute {
  return {
    ...matched,
    accountSid,
    applicationSid: number?.application_sid ?? matched.carrier.application_sid ?? undefined,
    ...(number ? { number } : {}),
  };
}

/** The matched carrier a phone_numbers row belongs to. */
export function carrierOfNumber(
  carriers: readonly MatchedCarrier[],
  number: PhoneNumberMatch,
): MatchedCarrier | undefined {
  return carriers.find((c) => c.carrier.voip_carrier_sid === number.voip_carrier_sid);
}
