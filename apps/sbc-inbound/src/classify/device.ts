import { lookupAuthTrunks, type AccountWithHook } from '@sbc/db';
import { InactiveAccountError, UnknownRealmError } from '../answers.js';
import type { ClassifyDeps, ClassifyInput, UserClassification } from './types.js';

/**
 * A call from a SIP device (digest authentication comes next). `account` is the account of the
 * Request-URI host, or of its parent domain (jambonz's super-domain fallback).
 */
export async function deviceCall(
  deps: ClassifyDeps,
  input: ClassifyInput,
  account: AccountWithHook | undefined,
): Promise<UserClassification> {
  const realm = input.requestUri.host;
  if (!account) throw new UnknownRealmError(realm);
  // A dedicated SBC (SBC_ACCOUNT_SID, static IP) takes device calls for its own account only.
  if (deps.sbcAccountSid && account.account_sid !== deps.sbcAccountSid) {
    deps.logger?.info(
      { realm, account_sid: account.account_sid, sbc_account_sid: deps.sbcAccountSid },
      'device call for another account than SBC_ACCOUNT_SID',
    );
    throw new UnknownRealmError(realm);
  }
  if (!account.is_active) throw new InactiveAccountError();
  const authTrunks = await lookupAuthTrunks(deps.db, {
    accountSid: account.account_sid,
    serviceProviderSid: account.service_provider_sid,
  });
  return {
    originator: 'user',
    account,
    realm,
    applicationSid: account.device_calling_application_sid ?? undefined,
    serviceProviderSid: account.service_provider_sid,
    authTrunks,
  };
}
