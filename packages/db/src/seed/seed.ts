import { randomBytes, randomUUID } from 'node:crypto';
import { encryptPassword, type PasswordCipherOptions } from '../crypto.js';
import type { SqlRunner, SqlValue } from '../db.js';
import type {
  DtmfType,
  GatewayProtocol,
  LimitCategory,
  ProductCategory,
  TrunkType,
  WebhookMethod,
} from '../types.js';

/*
 * Seed helpers for tests and the demo. They insert through the same columns as jambonz's schema,
 * so they work on a database created from schema.sql or from jambonz's own DDL. Every sid can be
 * given (fixed demo data) or is a fresh UUID; every helper returns the sids it created.
 */

type Row = Record<string, SqlValue | undefined>;

async function insertRow(db: SqlRunner, table: string, row: Row): Promise<void> {
  const entries = Object.entries(row).filter((entry): entry is [string, SqlValue] => entry[1] !== undefined);
  await db.execute(
    `INSERT INTO ${table} (${entries.map(([column]) => column).join(', ')}) VALUES (${entries.map(() => '?').join(', ')})`,
    entries.map(([, value]) => value),
  );
}

function shortId(): string {
  return randomBytes(4).toString('hex');
}

export interface WebhookSeed {
  webhook_sid?: string;
  url: string;
  method?: WebhookMethod;
  username?: string | null;
  password?: string | null;
}

/** Inserts a webhook; returns its sid. */
export async function seedWebhook(db: SqlRunner, hook: WebhookSeed): Promise<string> {
  const webhook_sid = hook.webhook_sid ?? randomUUID();
  await insertRow(db, 'webhooks', {
    webhook_sid,
    url: hook.url,
    method: hook.method ?? 'POST',
    username: hook.username ?? null,
    password: hook.password ?? null,
  });
  return webhook_sid;
}

async function optionalWebhook(db: SqlRunner, hook: WebhookSeed | undefined): Promise<string | null> {
  return hook ? seedWebhook(db, hook) : null;
}

export interface ServiceProviderSeed {
  service_provider_sid?: string;
  /** Unique; default `sp-<random>`. */
  name?: string;
  root_domain?: string | null;
  /** Auth hook used for realms under root_domain whose account has none. */
  registration_hook?: WebhookSeed;
  ms_teams_fqdn?: string | null;
}

export interface SeededServiceProvider {
  service_provider_sid: string;
  registration_hook_sid: string | null;
}

export async function seedServiceProvider(
  db: SqlRunner,
  sp: ServiceProviderSeed = {},
): Promise<SeededServiceProvider> {
  const service_provider_sid = sp.service_provider_sid ?? randomUUID();
  const registration_hook_sid = await optionalWebhook(db, sp.registration_hook);
  await insertRow(db, 'service_providers', {
    service_provider_sid,
    name: sp.name ?? `sp-${shortId()}`,
    root_domain: sp.root_domain ?? null,
    registration_hook_sid,
    ms_teams_fqdn: sp.ms_teams_fqdn ?? null,
  });
  return { service_provider_sid, registration_hook_sid };
}

export interface AccountSeed {
  account_sid?: string;
  service_provider_sid: string;
  name?: string;
  sip_realm?: string | null;
  /** The account's auth hook (webhooks row created with it). */
  registration_hook?: WebhookSeed;
  /** Default: random. */
  webhook_secret?: string;
  is_active?: boolean;
  device_to_call_ratio?: number;
  device_calling_application_sid?: string | null;
  siprec_hook_sid?: string | null;
  record_all_calls?: boolean;
  disable_cdrs?: boolean;
  enable_debug_log?: boolean;
  plan_type?: 'trial' | 'free' | 'paid';
}

export interface SeededAccount {
  account_sid: string;
  registration_hook_sid: string | null;
  webhook_secret: string;
}

export async function seedAccount(db: SqlRunner, account: AccountSeed): Promise<SeededAccount> {
  const account_sid = account.account_sid ?? randomUUID();
  const registration_hook_sid = await optionalWebhook(db, account.registration_hook);
  const webhook_secret = account.webhook_secret ?? `wh_secret_${randomBytes(8).toString('hex')}`;
  await insertRow(db, 'accounts', {
    account_sid,
    name: account.name ?? `account-${shortId()}`,
    sip_realm: account.sip_realm ?? null,
    service_provider_sid: account.service_provider_sid,
    registration_hook_sid,
    device_calling_application_sid: account.device_calling_application_sid ?? null,
    siprec_hook_sid: account.siprec_hook_sid ?? null,
    is_active: account.is_active,
    webhook_secret,
    device_to_call_ratio: account.device_to_call_ratio,
    record_all_calls: account.record_all_calls,
    disable_cdrs: account.disable_cdrs,
    enable_debug_log: account.enable_debug_log,
    plan_type: account.plan_type,
  });
  return { account_sid, registration_hook_sid, webhook_secret };
}

/** Points an account at its device-calling application (created after the account, which it references). */
export async function setDeviceCallingApplication(
  db: SqlRunner,
  accountSid: string,
  applicationSid: string | null,
): Promise<void> {
  await db.execute('UPDATE accounts SET device_calling_application_sid = ? WHERE account_sid = ?', [
    applicationSid,
    accountSid,
  ]);
}

export interface ApplicationSeed {
  application_sid?: string;
  account_sid?: string | null;
  service_provider_sid?: string | null;
  name?: string;
  call_hook?: WebhookSeed;
  call_status_hook?: WebhookSeed;
  record_all_calls?: boolean;
}

export interface SeededApplication {
  application_sid: string;
  call_hook_sid: string | null;
  call_status_hook_sid: string | null;
}

export async function seedApplication(db: SqlRunner, app: ApplicationSeed): Promise<SeededApplication> {
  const application_sid = app.application_sid ?? randomUUID();
  const call_hook_sid = await optionalWebhook(db, app.call_hook);
  const call_status_hook_sid = await optionalWebhook(db, app.call_status_hook);
  await insertRow(db, 'applications', {
    application_sid,
    name: app.name ?? `app-${shortId()}`,
    account_sid: app.account_sid ?? null,
    service_provider_sid: app.service_provider_sid ?? null,
    call_hook_sid,
    call_status_hook_sid,
    record_all_calls: app.record_all_calls,
  });
  return { application_sid, call_hook_sid, call_status_hook_sid };
}

export interface GatewaySeed {
  sip_gateway_sid?: string;
  /** IP address, `a.b.c.d/n`, or DNS name (outbound only). Loopback addresses only in tests. */
  ipv4: string;
  netmask?: number;
  port?: number | null;
  /** Default true. */
  inbound?: boolean;
  /** Default true. */
  outbound?: boolean;
  is_active?: boolean;
  send_options_ping?: boolean;
  use_sips_scheme?: boolean;
  pad_crypto?: boolean;
  protocol?: GatewayProtocol;
  remove_ice?: boolean;
  dtls_off?: boolean;
}

export async function seedGateway(
  db: SqlRunner,
  voipCarrierSid: string,
  gateway: GatewaySeed,
): Promise<string> {
  const sip_gateway_sid = gateway.sip_gateway_sid ?? randomUUID();
  await insertRow(db, 'sip_gateways', {
    sip_gateway_sid,
    voip_carrier_sid: voipCarrierSid,
    ipv4: gateway.ipv4,
    netmask: gateway.netmask,
    port: gateway.port === undefined ? 5060 : gateway.port,
    inbound: gateway.inbound ?? true,
    outbound: gateway.outbound ?? true,
    is_active: gateway.is_active,
    send_options_ping: gateway.send_options_ping,
    use_sips_scheme: gateway.use_sips_scheme,
    pad_crypto: gateway.pad_crypto,
    protocol: gateway.protocol,
    remove_ice: gateway.remove_ice,
    dtls_off: gateway.dtls_off,
  });
  return sip_gateway_sid;
}

export interface CarrierSeed {
  voip_carrier_sid?: string;
  name?: string;
  description?: string | null;
  service_provider_sid: string;
  /** Set for an account-level trunk; null/absent = every account of the service provider. */
  account_sid?: string | null;
  application_sid?: string | null;
  is_active?: boolean;
  trunk_type?: TrunkType;
  e164_leading_plus?: boolean;
  requires_register?: boolean;
  register_username?: string | null;
  register_sip_realm?: string | null;
  register_password?: string | null;
  register_from_user?: string | null;
  register_from_domain?: string | null;
  register_public_ip_in_contact?: boolean;
  register_status?: string | null;
  inbound_auth_username?: string | null;
  inbound_auth_password?: string | null;
  tech_prefix?: string | null;
  diversion?: string | null;
  dtmf_type?: DtmfType;
  outbound_sip_proxy?: string | null;
  gateways?: readonly GatewaySeed[];
}

export interface SeededCarrier {
  voip_carrier_sid: string;
  sip_gateway_sids: string[];
}

/** Inserts a carrier and its gateways. */
export async function seedCarrier(db: SqlRunner, carrier: CarrierSeed): Promise<SeededCarrier> {
  const voip_carrier_sid = carrier.voip_carrier_sid ?? randomUUID();
  const { gateways = [], voip_carrier_sid: _sid, name, ...columns } = carrier;
  await insertRow(db, 'voip_carriers', {
    voip_carrier_sid,
    name: name ?? `carrier-${shortId()}`,
    ...columns,
  });
  const sip_gateway_sids: string[] = [];
  for (const gateway of gateways) sip_gateway_sids.push(await seedGateway(db, voip_carrier_sid, gateway));
  return { voip_carrier_sid, sip_gateway_sids };
}

export interface PhoneNumberSeed {
  phone_number_sid?: string;
  /** Digits, `<digits>*`, or a regular expression. */
  number: string;
  voip_carrier_sid?: string | null;
  account_sid?: string | null;
  application_sid?: string | null;
  service_provider_sid?: string | null;
}

export async function seedPhoneNumber(db: SqlRunner, number: PhoneNumberSeed): Promise<string> {
  const phone_number_sid = number.phone_number_sid ?? randomUUID();
  await insertRow(db, 'phone_numbers', {
    phone_number_sid,
    number: number.number,
    voip_carrier_sid: number.voip_carrier_sid ?? null,
    account_sid: number.account_sid ?? null,
    application_sid: number.application_sid ?? null,
    service_provider_sid: number.service_provider_sid ?? null,
  });
  return phone_number_sid;
}

export interface ClientSeed {
  client_sid?: string;
  account_sid: string;
  username: string;
  /** Plain text; stored encrypted the jambonz way with the cipher options. */
  password: string | null;
  is_active?: boolean;
  allow_direct_app_calling?: boolean;
  allow_direct_queue_calling?: boolean;
  allow_direct_user_calling?: boolean;
}

/** Inserts a SIP client whose password is encrypted as jambonz's api-server does. */
export async function seedClient(
  db: SqlRunner,
  client: ClientSeed,
  cipher: PasswordCipherOptions,
): Promise<string> {
  const client_sid = client.client_sid ?? randomUUID();
  await insertRow(db, 'clients', {
    client_sid,
    account_sid: client.account_sid,
    username: client.username,
    password: client.password === null ? null : encryptPassword(client.password, cipher),
    is_active: client.is_active,
    allow_direct_app_calling: client.allow_direct_app_calling,
    allow_direct_queue_calling: client.allow_direct_queue_calling,
    allow_direct_user_calling: client.allow_direct_user_calling,
  });
  return client_sid;
}

/**
 * Inserts many SIP clients of one account (benchmarks: thousands of users), 1,000 rows per INSERT;
 * passwords encrypted as `seedClient` does.
 */
export async function seedClients(
  db: SqlRunner,
  account_sid: string,
  clients: readonly { username: string; password: string }[],
  cipher: PasswordCipherOptions,
): Promise<void> {
  for (let i = 0; i < clients.length; i += 1000) {
    const rows = clients
      .slice(i, i + 1000)
      .map((c) => [randomUUID(), account_sid, c.username, encryptPassword(c.password, cipher)]);
    await db.execute(
      `INSERT INTO clients (client_sid, account_sid, username, password) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
      rows.flat(),
    );
  }
}

export async function seedAccountLimit(
  db: SqlRunner,
  limit: { account_sid: string; category: LimitCategory; quantity: number },
): Promise<string> {
  const account_limits_sid = randomUUID();
  await insertRow(db, 'account_limits', { account_limits_sid, ...limit });
  return account_limits_sid;
}

export async function seedServiceProviderLimit(
  db: SqlRunner,
  limit: { service_provider_sid: string; category: LimitCategory; quantity: number },
): Promise<string> {
  const service_provider_limits_sid = randomUUID();
  await insertRow(db, 'service_provider_limits', { service_provider_limits_sid, ...limit });
  return service_provider_limits_sid;
}

/** The products row of a category, created (named after the category) when there is none. */
export async function seedProduct(db: SqlRunner, category: ProductCategory): Promise<string> {
  const existing = await db.select<{ product_sid: string }>(
    'SELECT product_sid FROM products WHERE category = ? ORDER BY product_sid LIMIT 1',
    [category],
  );
  if (existing[0]) return existing[0].product_sid;
  const product_sid = randomUUID();
  await insertRow(db, 'products', { product_sid, name: category, category });
  return product_sid;
}

export interface SubscriptionSeed {
  account_sid: string;
  products: readonly { category: ProductCategory; quantity: number }[];
  pending?: boolean;
  effective_end_date?: Date | null;
}

/** An account subscription with its product quantities (what hosted plans' limits come from). */
export async function seedSubscription(db: SqlRunner, subscription: SubscriptionSeed): Promise<string> {
  const account_subscription_sid = randomUUID();
  await insertRow(db, 'account_subscriptions', {
    account_subscription_sid,
    account_sid: subscription.account_sid,
    pending: subscription.pending ?? false,
    effective_end_date: subscription.effective_end_date ?? null,
  });
  for (const product of subscription.products) {
    await insertRow(db, 'account_products', {
      account_product_sid: randomUUID(),
      account_subscription_sid,
      product_sid: await seedProduct(db, product.category),
      quantity: product.quantity,
    });
  }
  return account_subscription_sid;
}

export interface SystemInformationSeed {
  domain_name?: string | null;
  sip_domain_name?: string | null;
  monitoring_domain_name?: string | null;
  private_network_cidr?: string | null;
  log_level?: 'info' | 'debug';
}

/** Replaces the single system_information row. */
export async function seedSystemInformation(db: SqlRunner, info: SystemInformationSeed): Promise<void> {
  await db.execute('DELETE FROM system_information');
  await insertRow(db, 'system_information', { ...info });
}

export interface TeamsTenantSeed {
  ms_teams_tenant_sid?: string;
  service_provider_sid: string;
  account_sid: string;
  application_sid?: string | null;
  tenant_fqdn: string;
}

export async function seedTeamsTenant(db: SqlRunner, tenant: TeamsTenantSeed): Promise<string> {
  const ms_teams_tenant_sid = tenant.ms_teams_tenant_sid ?? randomUUID();
  await insertRow(db, 'ms_teams_tenants', { ...tenant, ms_teams_tenant_sid });
  return ms_teams_tenant_sid;
}

/** An sbc_addresses row with a chosen last_updated (e.g. a stale one); apps use addSbcAddress. */
export async function seedSbcAddress(
  db: SqlRunner,
  address: {
    ipv4: string;
    port?: number;
    tls_port?: number | null;
    wss_port?: number | null;
    last_updated: Date | null;
  },
): Promise<string> {
  const sbc_address_sid = randomUUID();
  await insertRow(db, 'sbc_addresses', { sbc_address_sid, ...address });
  return sbc_address_sid;
}
