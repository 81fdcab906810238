import type { Db } from '../db.js';
import { columns, WEBHOOK_COLUMNS, webhookReader } from '../sql.js';
import type { Account, AccountWithHook } from '../types.js';

export const ACCOUNT_COLUMNS = [
  'account_sid',
  'name',
  'sip_realm',
  'service_provider_sid',
  'registration_hook_sid',
  'device_calling_application_sid',
  'siprec_hook_sid',
  'is_active',
  'webhook_secret',
  'disable_cdrs',
  'device_to_call_ratio',
  'record_all_calls',
  'record_format',
  'enable_debug_log',
  'plan_type',
] as const satisfies readonly (keyof Account)[];

const HOOK_PREFIX = 'rh__';

const SELECT_ACCOUNT = `SELECT ${columns<Account>('acc', ACCOUNT_COLUMNS)}, ${columns('rh', WEBHOOK_COLUMNS, HOOK_PREFIX)}
  FROM accounts acc LEFT JOIN webhooks rh ON acc.registration_hook_sid = rh.webhook_sid`;
// Built once: the read cache looks the SQL text up on every call, and a string built per call is
// hashed again each time.
const SELECT_ACCOUNT_BY_REALM = `${SELECT_ACCOUNT} WHERE acc.sip_realm = ?`;
const SELECT_ACCOUNT_BY_SID = `${SELECT_ACCOUNT} WHERE acc.account_sid = ?`;

const registrationHook = webhookReader(HOOK_PREFIX);

/** A row of SELECT_ACCOUNT: the account's columns and the hook's `rh__…` ones. */
type AccountRow = Account & Record<string, unknown>;

/**
 * Spelled out rather than copied column by column: an object literal is many times faster to build
 * (and to read later) than one filled key by key. The type keeps it in step with ACCOUNT_COLUMNS.
 */
function toAccount(row: AccountRow): AccountWithHook {
  return {
    account_sid: row.account_sid,
    name: row.name,
    sip_realm: row.sip_realm,
    service_provider_sid: row.service_provider_sid,
    registration_hook_sid: row.registration_hook_sid,
    device_calling_application_sid: row.device_calling_application_sid,
    siprec_hook_sid: row.siprec_hook_sid,
    is_active: row.is_active,
    webhook_secret: row.webhook_secret,
    disable_cdrs: row.disable_cdrs,
    device_to_call_ratio: row.device_to_call_ratio,
    record_all_calls: row.record_all_calls,
    record_format: row.record_format,
    enable_debug_log: row.enable_debug_log,
    plan_type: row.plan_type,
    registration_hook: registrationHook(row),
  };
}

/**
 * The parent domain used when no account has the realm itself: `a.b.c` → `b.c`; undefined for a
 * realm of two labels or fewer (jambonz's "super-domain" fallback).
 */
export function superDomainOf(realm: string): string | undefined {
  const labels = realm.split('.');
  return labels.length > 2 ? labels.slice(1).join('.') : undefined;
}

/**
 * The account whose `sip_realm` is `realm`, else the one whose realm is the super-domain of
 * `realm` (first label stripped, only when `realm` has more than two labels). Inactive accounts
 * are returned too (check `is_active`), with their registration hook when it has a URL.
 */
export async function lookupAccountBySipRealm(db: Db, realm: string): Promise<AccountWithHook | undefined> {
  const lookup = async (r: string) => {
    const rows = await db.cachedSelect<AccountRow>(SELECT_ACCOUNT_BY_REALM, [r]);
    return rows[0] ? toAccount(rows[0]) : undefined;
  };
  const exact = await lookup(realm);
  if (exact) return exact;
  const parent = superDomainOf(realm);
  return parent ? lookup(parent) : undefined;
}

/** The account with this sid, with its registration hook. */
export async function lookupAccountBySid(db: Db, accountSid: string): Promise<AccountWithHook | undefined> {
  const rows = await db.cachedSelect<AccountRow>(SELECT_ACCOUNT_BY_SID, [accountSid]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}
