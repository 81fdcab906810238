import { lookupAccountBySid } from '@sbc/db';
import {
  InactiveAccountError,
  LoopDetectedError,
  NoSiprecApplicationError,
  NumberNotProvisionedError,
} from '../answers.js';
import type { CarrierRoute, ClassifyDeps, ClassifyInput, TrunkClassification } from './types.js';

/**
 * The checks jambonz's identifyAccount makes on a carrier call, in its order: loop guard (482),
 * SIPREC application (404), then the account's is_active (503).
 */
export async function carrierCall(
  deps: ClassifyDeps,
  input: ClassifyInput,
  route: CarrierRoute,
): Promise<TrunkClassification> {
  const account = route.account ?? (await lookupAccountBySid(deps.db, route.accountSid));
  if (!account) {
    deps.logger?.warn(
      { account_sid: route.accountSid },
      'carrier call routed to an account that does not exist',
    );
    throw new NumberNotProvisionedError();
  }
  // The call came back from our own platform with the application it would be routed to.
  if (input.incomingApplicationSid && input.incomingApplicationSid === route.applicationSid) {
    throw new LoopDetectedError();
  }
  let applicationSid = route.applicationSid;
  if (input.siprec) {
    if (!account.siprec_hook_sid) throw new NoSiprecApplicationError();
    applicationSid = account.siprec_hook_sid;
  }
  if (!account.is_active) throw new InactiveAccountError();
  return {
    originator: 'trunk',
    carrier: route.carrier,
    gateway: route.gateway,
    match: route.match,
    account,
    applicationSid,
    serviceProviderSid: account.service_provider_sid,
    ...(route.number ? { number: route.number } : {}),
  };
}
