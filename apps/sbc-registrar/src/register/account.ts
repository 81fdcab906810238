/**
 * Step 3: jambonz's checkAccountLimits. The account whose sip_realm is the AOR host (or its
 * super-domain), active, and on a hosted platform (JAMBONES_HOSTING) with room for one more device.
 */
import { lookupAccountBySipRealm, lookupDeviceLimit, type AccountWithHook, type Db } from '@sbc/db';
import type { RegistrationStore } from '@sbc/redis';
import { AccountDeactivatedError, DeviceLimitError, UnknownRealmError } from './errors.js';
import { mysqlDown, redisDown } from './failures.js';
import type { Registration } from './parse.js';
import type { AlertSink } from '@sbc/service';

export interface AccountStepOptions {
  /** JAMBONES_HOSTING: enforce the device limit of the account's subscription. */
  hosting: boolean;
  retryAfterSeconds: number;
}

export async function findAccount(
  db: Db,
  store: RegistrationStore,
  registration: Registration,
  options: AccountStepOptions,
  alerts: AlertSink,
): Promise<AccountWithHook> {
  let account: AccountWithHook | undefined;
  try {
    account = await lookupAccountBySipRealm(db, registration.realm);
  } catch (err) {
    throw mysqlDown(err, options.retryAfterSeconds);
  }
  if (!account) throw new UnknownRealmError();
  if (!account.is_active) throw new AccountDeactivatedError();
  if (options.hosting && registration.type === 'register') {
    await checkDeviceLimit(db, store, registration, account, options, alerts);
  }
  return account;
}

/**
 * Limit = voice_call_session × device_to_call_ratio + device (the subscription's products). An
 * account without an active subscription has no limit. A limit of 0 refuses every device and raises
 * `account-device-limit`, as jambonz does. Otherwise a refresh of a registered AOR always passes and a
 * new AOR is refused once the realm holds `limit` registrations (jambonz compares count > limit + 1,
 * letting two devices too many in; we count exactly).
 */
async function checkDeviceLimit(
  db: Db,
  store: RegistrationStore,
  registration: Registration,
  account: AccountWithHook,
  options: AccountStepOptions,
  alerts: AlertSink,
): Promise<void> {
  let limit: number | undefined;
  try {
    limit = await lookupDeviceLimit(db, account);
  } catch (err) {
    throw mysqlDown(err, options.retryAfterSeconds);
  }
  if (limit === undefined) return;
  if (limit === 0) {
    alerts.alert({
      alert_type: 'account-device-limit',
      message: 'account has no device registrations in its plan',
      account_sid: account.account_sid,
      detail: { realm: registration.realm },
    });
    throw new DeviceLimitError();
  }
  try {
    if (await store.get(registration.aor)) return;
    const count = await store.count(registration.realm);
    if (count >= limit) throw new DeviceLimitError();
  } catch (err) {
    if (err instanceof DeviceLimitError) throw err;
    throw redisDown(err, options.retryAfterSeconds);
  }
}
