import type { AccountWithHook, VoipCarrier } from '@sbc/db';
import { bestNumber, matchDid } from './did.js';
import { asAnswer } from './dependencies.js';
import { carrierSummary } from './gateways.js';
import type { ClassifyDeps, TrunkClassification } from './types.js';

/**
 * §2.2 step 6: a device call whose digest credentials were an auth trunk's
 * (`trunk_type = 'auth'`) is a carrier call from that trunk. The application is the DID's on that
 * trunk (scoped to the account the call was authenticated for), else the trunk's default route.
 */
export async function classifyAuthTrunkCall(
  deps: ClassifyDeps,
  trunk: VoipCarrier,
  did: string,
  account: AccountWithHook,
): Promise<TrunkClassification> {
  try {
    const number = bestNumber(await matchDid(deps, did, [trunk.voip_carrier_sid], account.account_sid));
    return {
      originator: 'trunk',
      carrier: carrierSummary(trunk),
      gateway: undefined,
      match: 'auth',
      account,
      applicationSid: number?.application_sid ?? trunk.application_sid ?? undefined,
      serviceProviderSid: account.service_provider_sid,
      ...(number ? { number } : {}),
    };
  } catch (err) {
    throw asAnswer(deps, err);
  }
}
