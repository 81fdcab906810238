import type { Db } from '../db.js';
import type { SystemInformation } from '../types.js';

/** The (first) system_information row; undefined when the table is empty. */
export async function lookupSystemInformation(db: Db): Promise<SystemInformation | undefined> {
  const rows = await db.cachedSelect<SystemInformation>(
    `SELECT domain_name, sip_domain_name, monitoring_domain_name, private_network_cidr, log_level
       FROM system_information LIMIT 1`,
  );
  return rows[0];
}
