import type { Db } from '../db.js';
import type { Account, Capacity } from '../types.js';

/**
 * Product quantities of the account's active subscription (not pending, no end date or an end
 * date in the future): e.g. `[{category: 'voice_call_session', quantity: 10}, {category: 'device', quantity: 2}]`.
 * Several rows of one category are added up.
 */
export async function lookupAccountCapacities(db: Db, accountSid: string): Promise<Capacity[]> {
  const rows = await db.cachedSelect<{ category: Capacity['category']; quantity: number | string }>(
    `SELECT p.category, SUM(ap.quantity) AS quantity
       FROM account_products ap
       JOIN account_subscriptions sub ON ap.account_subscription_sid = sub.account_subscription_sid
       JOIN products p ON ap.product_sid = p.product_sid
      WHERE sub.account_sid = ? AND sub.pending = 0
        AND (sub.effective_end_date IS NULL OR sub.effective_end_date > NOW())
      GROUP BY p.category ORDER BY p.category`,
    [accountSid],
  );
  // SUM() of INTEGER is DECIMAL, which mysql2 hands out as a string.
  return rows.map((r) => ({ category: r.category, quantity: Number(r.quantity) }));
}

/** Simultaneous call (voice_call_session) limits that apply to a call of an account. */
export interface CallLimits {
  /** From the account's active subscription (hosted plans); checked first by jambonz. */
  subscription: number | undefined;
  /** `account_limits`; undefined when there is no row. */
  account: number | undefined;
  /** `service_provider_limits`; undefined when there is no row. */
  service_provider: number | undefined;
}

/**
 * The voice_call_session limits of an account and of its service provider. When a table has
 * several voice_call_session rows for one owner, the smallest quantity applies.
 */
export async function lookupCallLimits(
  db: Db,
  owner: { accountSid: string; serviceProviderSid: string },
): Promise<CallLimits> {
  const [capacities, limits] = await Promise.all([
    lookupAccountCapacities(db, owner.accountSid),
    db.cachedSelect<{ owner: 'account' | 'service_provider'; quantity: number }>(
      `SELECT 'account' AS owner, MIN(quantity) AS quantity FROM account_limits
        WHERE account_sid = ? AND category = 'voice_call_session' HAVING COUNT(*) > 0
       UNION ALL
       SELECT 'service_provider' AS owner, MIN(quantity) AS quantity FROM service_provider_limits
        WHERE service_provider_sid = ? AND category = 'voice_call_session' HAVING COUNT(*) > 0`,
      [owner.accountSid, owner.serviceProviderSid],
    ),
  ]);
  const quantity = (who: 'account' | 'service_provider') => {
    const row = limits.find((l) => l.owner === who);
    return row ? Number(row.quantity) : undefined;
  };
  return {
    subscription: capacities.find((c) => c.category === 'voice_call_session')?.quantity,
    account: quantity('account'),
    service_provider: quantity('service_provider'),
  };
}

/**
 * How many devices may register for an account on a hosted plan (jambonz sbc-sip-sidecar):
 * `voice_call_session quantity × device_to_call_ratio + device quantity`. Undefined when the
 * account has no active subscription (no capacities at all).
 */
export function deviceLimitFromCapacities(
  capacities: readonly Capacity[],
  deviceToCallRatio: number,
): number | undefined {
  if (capacities.length === 0) return undefined;
  const sessions = capacities.find((c) => c.category === 'voice_call_session')?.quantity ?? 0;
  const devices = capacities.find((c) => c.category === 'device')?.quantity ?? 0;
  return sessions * deviceToCallRatio + devices;
}

/** `deviceLimitFromCapacities` for an account, reading its capacities. */
export async function lookupDeviceLimit(
  db: Db,
  account: Pick<Account, 'account_sid' | 'device_to_call_ratio'>,
): Promise<number | undefined> {
  return deviceLimitFromCapacities(
    await lookupAccountCapacities(db, account.account_sid),
    account.device_to_call_ratio,
  );
}
