import type { Db } from '../db.js';
import { columns, pick, WEBHOOK_COLUMNS, webhookReader } from '../sql.js';
import type { Application, TeamsTenant } from '../types.js';

const APPLICATION_COLUMNS = [
  'application_sid',
  'name',
  'account_sid',
  'service_provider_sid',
  'call_hook_sid',
  'call_status_hook_sid',
  'messaging_hook_sid',
  'record_all_calls',
] as const satisfies readonly (keyof Application)[];

const CALL_HOOK = 'ch__';
const STATUS_HOOK = 'sh__';
const callHook = webhookReader(CALL_HOOK);
const callStatusHook = webhookReader(STATUS_HOOK);

/** The application with this sid, with its call hook and call status hook. */
export async function lookupAppBySid(db: Db, applicationSid: string): Promise<Application | undefined> {
  const rows = await db.cachedSelect<Record<string, unknown>>(
    `SELECT ${columns<Application>('app', APPLICATION_COLUMNS)},
        ${columns('ch', WEBHOOK_COLUMNS, CALL_HOOK)}, ${columns('sh', WEBHOOK_COLUMNS, STATUS_HOOK)}
       FROM applications app
       LEFT JOIN webhooks ch ON app.call_hook_sid = ch.webhook_sid
       LEFT JOIN webhooks sh ON app.call_status_hook_sid = sh.webhook_sid
      WHERE app.application_sid = ?`,
    [applicationSid],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    ...pick<Omit<Application, 'call_hook' | 'call_status_hook'>>(row, APPLICATION_COLUMNS),
    call_hook: callHook(row),
    call_status_hook: callStatusHook(row),
  };
}

/** The Microsoft Teams tenant with this FQDN (the Request-URI host of a call from Teams). */
export async function lookupTeamsTenant(db: Db, tenantFqdn: string): Promise<TeamsTenant | undefined> {
  const rows = await db.cachedSelect<TeamsTenant>(
    `SELECT ms_teams_tenant_sid, service_provider_sid, account_sid, application_sid, tenant_fqdn
       FROM ms_teams_tenants WHERE tenant_fqdn = ?`,
    [tenantFqdn],
  );
  return rows[0];
}
