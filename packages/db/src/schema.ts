import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of this package's schema.sql (the same file as the `@sbc/db/schema.sql` export). */
export const schemaPath: string = fileURLToPath(new URL('../schema.sql', import.meta.url));

/** The tables schema.sql creates: the jambonz tables an SBC reads or writes. */
export const SCHEMA_TABLES = [
  'webhooks',
  'service_providers',
  'accounts',
  'applications',
  'voip_carriers',
  'sip_gateways',
  'phone_numbers',
  'clients',
  'sbc_addresses',
  'ms_teams_tenants',
  'system_information',
  'account_limits',
  'service_provider_limits',
  'products',
  'account_subscriptions',
  'account_products',
] as const;

export type SchemaTable = (typeof SCHEMA_TABLES)[number];

/**
 * The DDL of schema.sql (several statements; run it with `multipleStatements` or split it):
 * `CREATE TABLE IF NOT EXISTS` for each table in SCHEMA_TABLES, compatible with jambonz's schema.
 */
export function schemaSql(): string {
  return readFileSync(schemaPath, 'utf8');
}
