import type { Db } from '../db.js';

/**
 * The account_sid of the service provider's only account; undefined when it has none or several.
 * jambonz routes a carrier call with no provisioned number to that account when it is the only one.
 */
export async function lookupSoleAccountOfServiceProvider(
  db: Db,
  serviceProviderSid: string,
): Promise<string | undefined> {
  const rows = await db.cachedSelect<{ account_sid: string }>(
    'SELECT account_sid FROM accounts WHERE service_provider_sid = ? ORDER BY account_sid LIMIT 2',
    [serviceProviderSid],
  );
  return rows.length === 1 ? rows[0]?.account_sid : undefined;
}
