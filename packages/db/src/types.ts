/*
 * Rows of the jambonz tables as @sbc/db hands them out: column names unchanged (snake_case, as in
 * jambonz's schema and its docs), BOOLEAN columns as `boolean`, nullable columns as `| null`.
 * Only the columns an SBC uses are selected.
 */

export type WebhookMethod = 'GET' | 'POST';

/** `webhooks`: an HTTP callback (auth hook, call hook, call status hook). */
export interface Webhook {
  webhook_sid: string;
  url: string;
  method: WebhookMethod;
  username: string | null;
  password: string | null;
}

/** `service_providers`. */
export interface ServiceProvider {
  service_provider_sid: string;
  name: string;
  root_domain: string | null;
  registration_hook_sid: string | null;
  ms_teams_fqdn: string | null;
}

/** `accounts`. */
export interface Account {
  account_sid: string;
  name: string;
  sip_realm: string | null;
  service_provider_sid: string;
  registration_hook_sid: string | null;
  device_calling_application_sid: string | null;
  siprec_hook_sid: string | null;
  is_active: boolean;
  webhook_secret: string;
  disable_cdrs: boolean;
  device_to_call_ratio: number;
  record_all_calls: boolean;
  record_format: string;
  enable_debug_log: boolean;
  plan_type: 'trial' | 'free' | 'paid';
}

/** An account with its registration (auth) hook, when it has one with a URL. */
export interface AccountWithHook extends Account {
  registration_hook: Webhook | undefined;
}

export type TrunkType = 'static_ip' | 'auth' | 'reg';
export type DtmfType = 'rfc2833' | 'tones' | 'info';

/** `voip_carriers`: a carrier or customer PBX. `account_sid` null = every account of the SP. */
export interface VoipCarrier {
  voip_carrier_sid: string;
  name: string;
  description: string | null;
  account_sid: string | null;
  service_provider_sid: string | null;
  application_sid: string | null;
  e164_leading_plus: boolean;
  requires_register: boolean;
  register_username: string | null;
  register_sip_realm: string | null;
  register_password: string | null;
  register_from_user: string | null;
  register_from_domain: string | null;
  register_public_ip_in_contact: boolean;
  register_status: string | null;
  tech_prefix: string | null;
  inbound_auth_username: string | null;
  inbound_auth_password: string | null;
  diversion: string | null;
  is_active: boolean;
  dtmf_type: DtmfType;
  outbound_sip_proxy: string | null;
  trunk_type: TrunkType;
}

export type GatewayProtocol = 'udp' | 'tcp' | 'tls' | 'tls/srtp';

/** `sip_gateways`: a signalling address of a carrier (IP or DNS name; netmask < 32 = CIDR). */
export interface SipGateway {
  sip_gateway_sid: string;
  voip_carrier_sid: string;
  ipv4: string;
  netmask: number;
  port: number | null;
  inbound: boolean;
  outbound: boolean;
  is_active: boolean;
  send_options_ping: boolean;
  use_sips_scheme: boolean;
  pad_crypto: boolean;
  protocol: GatewayProtocol | null;
  remove_ice: boolean;
  dtls_off: boolean;
}

/** The carrier columns carried along with a gateway match. */
export type CarrierSummary = Pick<
  VoipCarrier,
  | 'voip_carrier_sid'
  | 'name'
  | 'account_sid'
  | 'service_provider_sid'
  | 'application_sid'
  | 'is_active'
  | 'trunk_type'
  | 'requires_register'
  | 'register_username'
  | 'register_password'
  | 'dtmf_type'
>;

/** A gateway with its carrier. */
export interface CarrierGateway extends SipGateway {
  carrier: CarrierSummary;
}

/** `phone_numbers`. `number` is digits, `<digits>*` or a regular expression. */
export interface PhoneNumber {
  phone_number_sid: string;
  number: string;
  voip_carrier_sid: string | null;
  account_sid: string | null;
  application_sid: string | null;
  service_provider_sid: string | null;
}

/** `applications` (the columns an SBC uses), with its call hooks when set. */
export interface Application {
  application_sid: string;
  name: string;
  account_sid: string | null;
  service_provider_sid: string | null;
  call_hook_sid: string | null;
  call_status_hook_sid: string | null;
  messaging_hook_sid: string | null;
  record_all_calls: boolean;
  call_hook: Webhook | undefined;
  call_status_hook: Webhook | undefined;
}

/** `clients` with the password already decrypted (null when the row has none). */
export interface Client {
  client_sid: string;
  account_sid: string;
  username: string | null;
  password: string | null;
  is_active: boolean;
  allow_direct_app_calling: boolean;
  allow_direct_queue_calling: boolean;
  allow_direct_user_calling: boolean;
}

/** `sbc_addresses`. */
export interface SbcAddress {
  sbc_address_sid: string;
  ipv4: string;
  port: number;
  tls_port: number | null;
  wss_port: number | null;
  service_provider_sid: string | null;
  last_updated: Date | null;
}

/** `system_information` (one row). */
export interface SystemInformation {
  domain_name: string | null;
  sip_domain_name: string | null;
  monitoring_domain_name: string | null;
  /** Comma separated CIDRs. */
  private_network_cidr: string | null;
  log_level: 'info' | 'debug';
}

/** `ms_teams_tenants`. */
export interface TeamsTenant {
  ms_teams_tenant_sid: string;
  service_provider_sid: string;
  account_sid: string;
  application_sid: string | null;
  tenant_fqdn: string;
}

export type LimitCategory =
  | 'api_rate'
  | 'voice_call_session'
  | 'device'
  | 'voice_call_minutes'
  | 'voice_call_session_license'
  | 'voice_call_minutes_license';

export type ProductCategory = 'api_rate' | 'voice_call_session' | 'device';

/** One product quantity of an account's active subscription. */
export interface Capacity {
  category: ProductCategory;
  quantity: number;
}
