import type { Db } from '../db.js';
import { columns, WEBHOOK_COLUMNS, webhookFrom, withoutPrefixed } from '../sql.js';
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

function toAccount(row: Record<string, unknown>): AccountWithHook {
  return {
    ...withoutPrefixed<Account>(row, [HOOK_PREFIX]),
    registration_hook: webhookFrom(row, HOOK_PREFIX),
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
    const rows = await db.cachedSelect<Record<string, unknown>>(`${SELECT_ACCOUNT} WHERE acc.sip_realm = ?`, [
      r,
    ]);
    return rows[0] ? toAccount(rows[0]) : undefined;
  };
  const exact = await lookup(realm);
  if (exact) return exact;
  const parent = superDomainOf(realm);
  return parent ? lookup(parent) : undefined;
}

/** The account with this sid, with its registration hook. */
export async function lookupAccountBySid(db: Db, accountSid: string): Promise<AccountWithHook | undefined> {
  const rows = await db.cachedSelect<Record<string, unknown>>(`${SELECT_ACCOUNT} WHERE acc.account_sid = ?`, [
    accountSid,
  ]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}
