import type { Db } from '../db.js';
import { columns, WEBHOOK_COLUMNS, webhookReader } from '../sql.js';
import type { AccountWithHook, Webhook } from '../types.js';
import { lookupAccountBySipRealm } from './accounts.js';

/** Where the auth hook of a realm comes from. */
export interface AuthHook {
  source: 'account' | 'service_provider';
  hook: Webhook;
  service_provider_sid: string;
  /** The account of the realm (exact or super-domain) when there is one, also for an SP hook. */
  account: AccountWithHook | undefined;
}

/** The last two labels of a realm (`a.b.example.com` → `example.com`): a service provider's root_domain. */
export function rootDomainOf(realm: string): string {
  return realm.split('.').slice(-2).join('.');
}

const HOOK_PREFIX = 'wh__';
const serviceProviderHook = webhookReader(HOOK_PREFIX);

/**
 * The auth (registration) hook for a SIP realm, in jambonz's order: the hook of the account with
 * that realm, else of the account of its super-domain, else the hook of the service provider whose
 * `root_domain` is the realm's last two labels. Undefined when none of them has a hook.
 */
export async function lookupAuthHook(db: Db, realm: string): Promise<AuthHook | undefined> {
  const account = await lookupAccountBySipRealm(db, realm);
  if (account?.registration_hook) {
    return {
      source: 'account',
      hook: account.registration_hook,
      service_provider_sid: account.service_provider_sid,
      account,
    };
  }
  const rows = await db.cachedSelect<Record<string, unknown>>(
    `SELECT sp.service_provider_sid, ${columns('wh', WEBHOOK_COLUMNS, HOOK_PREFIX)}
       FROM service_providers sp JOIN webhooks wh ON sp.registration_hook_sid = wh.webhook_sid
      WHERE sp.root_domain = ?`,
    [rootDomainOf(realm)],
  );
  const row = rows[0];
  const hook = row ? serviceProviderHook(row) : undefined;
  if (!row || !hook) return undefined;
  return {
    source: 'service_provider',
    hook,
    service_provider_sid: row.service_provider_sid as string,
    account,
  };
}
