-- @sbc/db schema: the jambonz provisioning tables an SBC reads or writes.
--
-- Every table here has the columns (names, order, types, defaults), keys and foreign keys of the
-- same table in jambonz-api-server's db/jambones-sql.sql, so a database created by jambonz works
-- with @sbc/db unchanged and a database created from this file can be used by jambonz for these
-- tables. Tables the SBC never touches (users, lcr, speech credentials, ...) are left out.
--
-- Idempotent: every table is created only if it is missing; nothing is dropped.
-- Foreign keys point both ways between accounts and applications, hence the checks are off while
-- the tables are created.

SET @sbc_saved_fk_checks = @@FOREIGN_KEY_CHECKS;
SET FOREIGN_KEY_CHECKS = 0;

-- HTTP callbacks: registration (auth) hooks, call hooks, call status hooks.
CREATE TABLE IF NOT EXISTS webhooks (
  webhook_sid CHAR(36) NOT NULL UNIQUE,
  url VARCHAR(1024) NOT NULL,
  method ENUM('GET', 'POST') NOT NULL DEFAULT 'POST',
  username VARCHAR(255),
  password VARCHAR(255),
  PRIMARY KEY (webhook_sid),
  KEY webhook_sid_idx (webhook_sid)
) COMMENT = 'An HTTP callback';

CREATE TABLE IF NOT EXISTS service_providers (
  service_provider_sid CHAR(36) NOT NULL UNIQUE,
  name VARCHAR(64) NOT NULL UNIQUE,
  description VARCHAR(255),
  root_domain VARCHAR(128) UNIQUE,
  registration_hook_sid CHAR(36),
  ms_teams_fqdn VARCHAR(255),
  PRIMARY KEY (service_provider_sid),
  KEY service_provider_sid_idx (service_provider_sid),
  KEY name_idx (name),
  KEY root_domain_idx (root_domain),
  CONSTRAINT registration_hook_sid_idxfk FOREIGN KEY (registration_hook_sid) REFERENCES webhooks (webhook_sid)
) COMMENT = 'A partition of the platform used by one service provider';

CREATE TABLE IF NOT EXISTS accounts (
  account_sid CHAR(36) NOT NULL UNIQUE,
  name VARCHAR(64) NOT NULL,
  sip_realm VARCHAR(132) UNIQUE COMMENT 'SIP domain of the devices of this account',
  service_provider_sid CHAR(36) NOT NULL,
  registration_hook_sid CHAR(36) COMMENT 'auth hook called when a device of this account authenticates',
  queue_event_hook_sid CHAR(36),
  device_calling_application_sid CHAR(36) COMMENT 'application for calls placed by devices',
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  plan_type ENUM('trial', 'free', 'paid') NOT NULL DEFAULT 'trial',
  stripe_customer_id VARCHAR(56),
  webhook_secret VARCHAR(36) NOT NULL,
  disable_cdrs BOOLEAN NOT NULL DEFAULT 0,
  trial_end_date DATETIME,
  deactivated_reason VARCHAR(255),
  device_to_call_ratio INTEGER NOT NULL DEFAULT 5,
  subspace_client_id VARCHAR(255),
  subspace_client_secret VARCHAR(255),
  subspace_sip_teleport_id VARCHAR(255),
  subspace_sip_teleport_destinations VARCHAR(255),
  siprec_hook_sid CHAR(36),
  record_all_calls BOOLEAN NOT NULL DEFAULT false,
  record_format VARCHAR(16) NOT NULL DEFAULT 'mp3',
  bucket_credential VARCHAR(8192),
  enable_debug_log BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (account_sid),
  KEY account_sid_idx (account_sid),
  KEY sip_realm_idx (sip_realm),
  KEY service_provider_sid_idx (service_provider_sid),
  CONSTRAINT service_provider_sid_idxfk_10 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid),
  CONSTRAINT registration_hook_sid_idxfk_1 FOREIGN KEY (registration_hook_sid) REFERENCES webhooks (webhook_sid),
  CONSTRAINT queue_event_hook_sid_idxfk FOREIGN KEY (queue_event_hook_sid) REFERENCES webhooks (webhook_sid),
  CONSTRAINT device_calling_application_sid_idxfk FOREIGN KEY (device_calling_application_sid)
    REFERENCES applications (application_sid),
  CONSTRAINT siprec_hook_sid_idxfk FOREIGN KEY (siprec_hook_sid) REFERENCES applications (application_sid)
) COMMENT = 'An enterprise that uses the platform';

CREATE TABLE IF NOT EXISTS applications (
  application_sid CHAR(36) NOT NULL UNIQUE,
  name VARCHAR(64) NOT NULL,
  service_provider_sid CHAR(36) COMMENT 'set for a service provider test application',
  account_sid CHAR(36) COMMENT 'owning account (NULL for a service provider test application)',
  call_hook_sid CHAR(36),
  call_status_hook_sid CHAR(36),
  messaging_hook_sid CHAR(36),
  app_json TEXT,
  speech_synthesis_vendor VARCHAR(64) NOT NULL DEFAULT 'google',
  speech_synthesis_language VARCHAR(12) NOT NULL DEFAULT 'en-US',
  speech_synthesis_voice VARCHAR(256) DEFAULT 'en-US-Standard-C',
  speech_synthesis_label VARCHAR(64),
  speech_recognizer_vendor VARCHAR(64) NOT NULL DEFAULT 'google',
  speech_recognizer_language VARCHAR(64) NOT NULL DEFAULT 'en-US',
  speech_recognizer_label VARCHAR(64),
  use_for_fallback_speech BOOLEAN DEFAULT false,
  fallback_speech_synthesis_vendor VARCHAR(64),
  fallback_speech_synthesis_language VARCHAR(12),
  fallback_speech_synthesis_voice VARCHAR(256),
  fallback_speech_synthesis_label VARCHAR(64),
  fallback_speech_recognizer_vendor VARCHAR(64),
  fallback_speech_recognizer_language VARCHAR(64),
  fallback_speech_recognizer_label VARCHAR(64),
  env_vars TEXT,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  record_all_calls BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (application_sid),
  UNIQUE KEY applications_idx_name (account_sid, name),
  KEY application_sid_idx (application_sid),
  KEY service_provider_sid_idx (service_provider_sid),
  KEY account_sid_idx (account_sid),
  CONSTRAINT service_provider_sid_idxfk_9 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid),
  CONSTRAINT account_sid_idxfk_12 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid),
  CONSTRAINT call_hook_sid_idxfk FOREIGN KEY (call_hook_sid) REFERENCES webhooks (webhook_sid),
  CONSTRAINT call_status_hook_sid_idxfk FOREIGN KEY (call_status_hook_sid) REFERENCES webhooks (webhook_sid),
  CONSTRAINT messaging_hook_sid_idxfk FOREIGN KEY (messaging_hook_sid) REFERENCES webhooks (webhook_sid)
) COMMENT = 'What to do with a call: the hooks a feature server runs';

-- Carriers and customer PBXs. account_sid NULL = usable by every account of the service provider.
CREATE TABLE IF NOT EXISTS voip_carriers (
  voip_carrier_sid CHAR(36) NOT NULL UNIQUE,
  name VARCHAR(64) NOT NULL,
  description VARCHAR(255),
  account_sid CHAR(36) COMMENT 'set when the trunk belongs to one account',
  service_provider_sid CHAR(36),
  application_sid CHAR(36) COMMENT 'default application for calls from this carrier',
  e164_leading_plus BOOLEAN NOT NULL DEFAULT false,
  requires_register BOOLEAN NOT NULL DEFAULT false,
  register_username VARCHAR(64),
  register_sip_realm VARCHAR(64),
  register_password VARCHAR(64),
  tech_prefix VARCHAR(16),
  inbound_auth_username VARCHAR(64),
  inbound_auth_password VARCHAR(64),
  diversion VARCHAR(32),
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  smpp_system_id VARCHAR(255),
  smpp_password VARCHAR(64),
  smpp_enquire_link_interval INTEGER DEFAULT 0,
  smpp_inbound_system_id VARCHAR(255),
  smpp_inbound_password VARCHAR(64),
  register_from_user VARCHAR(128),
  register_from_domain VARCHAR(255),
  register_public_ip_in_contact BOOLEAN NOT NULL DEFAULT false,
  register_status VARCHAR(4096) COMMENT 'JSON outcome of the last outbound REGISTER',
  dtmf_type ENUM('rfc2833', 'tones', 'info') NOT NULL DEFAULT 'rfc2833',
  outbound_sip_proxy VARCHAR(255),
  trunk_type ENUM('static_ip', 'auth', 'reg') NOT NULL DEFAULT 'static_ip',
  PRIMARY KEY (voip_carrier_sid),
  KEY voip_carrier_sid_idx (voip_carrier_sid),
  KEY account_sid_idx (account_sid),
  KEY service_provider_sid_idx (service_provider_sid),
  CONSTRAINT account_sid_idxfk_10 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid),
  CONSTRAINT service_provider_sid_idxfk_7 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid),
  CONSTRAINT application_sid_idxfk_2 FOREIGN KEY (application_sid) REFERENCES applications (application_sid)
) COMMENT = 'A carrier or customer PBX that sends or receives calls';

-- Signalling addresses of a carrier. ipv4 is an IP address or a DNS name; netmask < 32 makes it a CIDR.
CREATE TABLE IF NOT EXISTS sip_gateways (
  sip_gateway_sid CHAR(36),
  ipv4 VARCHAR(128) NOT NULL COMMENT 'IP address or DNS name; inbound gateways need an IP address',
  netmask INTEGER NOT NULL DEFAULT 32,
  port INTEGER COMMENT 'SIP port',
  inbound BOOLEAN NOT NULL COMMENT 'accept calls from this address',
  outbound BOOLEAN NOT NULL COMMENT 'send calls to this address',
  voip_carrier_sid CHAR(36) NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT 1,
  send_options_ping BOOLEAN NOT NULL DEFAULT 0,
  use_sips_scheme BOOLEAN NOT NULL DEFAULT 0,
  pad_crypto BOOLEAN NOT NULL DEFAULT 0,
  protocol ENUM('udp', 'tcp', 'tls', 'tls/srtp') DEFAULT 'udp' COMMENT 'transport for outbound requests',
  remove_ice BOOLEAN NOT NULL DEFAULT 0,
  dtls_off BOOLEAN NOT NULL DEFAULT 0,
  PRIMARY KEY (sip_gateway_sid),
  KEY sip_gateway_idx_hostport (ipv4, port),
  KEY idx_sip_gateways_inbound_carrier (inbound, voip_carrier_sid),
  KEY idx_sip_gateways_inbound_lookup (inbound, netmask, ipv4),
  KEY idx_sip_gateways_inbound_netmask (inbound, netmask),
  KEY voip_carrier_sid_idx (voip_carrier_sid),
  CONSTRAINT voip_carrier_sid_idxfk_2 FOREIGN KEY (voip_carrier_sid) REFERENCES voip_carriers (voip_carrier_sid)
) COMMENT = 'A signalling address of a carrier';

-- number: digits (exact), digits followed by * (prefix wildcard) or a regular expression.
CREATE TABLE IF NOT EXISTS phone_numbers (
  phone_number_sid CHAR(36) UNIQUE,
  number VARCHAR(132) NOT NULL,
  voip_carrier_sid CHAR(36),
  account_sid CHAR(36),
  application_sid CHAR(36),
  service_provider_sid CHAR(36) COMMENT 'set for a test number of the service provider',
  PRIMARY KEY (phone_number_sid),
  UNIQUE KEY phone_numbers_unique_idx_voip_carrier_number (number, voip_carrier_sid),
  KEY phone_number_sid_idx (phone_number_sid),
  KEY number_idx (number),
  KEY voip_carrier_sid_idx (voip_carrier_sid),
  KEY service_provider_sid_idx (service_provider_sid),
  CONSTRAINT voip_carrier_sid_idxfk_1 FOREIGN KEY (voip_carrier_sid) REFERENCES voip_carriers (voip_carrier_sid),
  CONSTRAINT account_sid_idxfk_11 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid),
  CONSTRAINT application_sid_idxfk_3 FOREIGN KEY (application_sid) REFERENCES applications (application_sid),
  CONSTRAINT service_provider_sid_idxfk_8 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid)
) COMMENT = 'A phone number routed to an account';

-- SIP users of an account; password is encrypted ({"iv": hex, "content": hex}).
CREATE TABLE IF NOT EXISTS clients (
  client_sid CHAR(36) NOT NULL UNIQUE,
  account_sid CHAR(36) NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT 1,
  username VARCHAR(64),
  password VARCHAR(1024),
  allow_direct_app_calling BOOLEAN NOT NULL DEFAULT 1,
  allow_direct_queue_calling BOOLEAN NOT NULL DEFAULT 1,
  allow_direct_user_calling BOOLEAN NOT NULL DEFAULT 1,
  PRIMARY KEY (client_sid),
  KEY client_sid_idx (client_sid),
  CONSTRAINT account_sid_idxfk_13 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid)
);

-- Public addresses of the SBCs, refreshed by each SBC (last_updated) and purged when stale.
CREATE TABLE IF NOT EXISTS sbc_addresses (
  sbc_address_sid CHAR(36) NOT NULL UNIQUE,
  ipv4 VARCHAR(255) NOT NULL,
  port INTEGER NOT NULL DEFAULT 5060,
  tls_port INTEGER,
  wss_port INTEGER,
  service_provider_sid CHAR(36),
  last_updated DATETIME,
  PRIMARY KEY (sbc_address_sid),
  -- a plain index in jambonz, not a unique key: upserts must not rely on ON DUPLICATE KEY
  KEY sbc_addresses_idx_host_port (ipv4, port),
  KEY sbc_address_sid_idx (sbc_address_sid),
  KEY service_provider_sid_idx (service_provider_sid),
  CONSTRAINT service_provider_sid_idxfk_1 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid)
);

CREATE TABLE IF NOT EXISTS ms_teams_tenants (
  ms_teams_tenant_sid CHAR(36) NOT NULL UNIQUE,
  service_provider_sid CHAR(36) NOT NULL,
  account_sid CHAR(36) NOT NULL,
  application_sid CHAR(36),
  tenant_fqdn VARCHAR(255) NOT NULL UNIQUE,
  PRIMARY KEY (ms_teams_tenant_sid),
  KEY ms_teams_tenant_sid_idx (ms_teams_tenant_sid),
  KEY tenant_fqdn_idx (tenant_fqdn),
  CONSTRAINT service_provider_sid_idxfk_2 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid),
  CONSTRAINT account_sid_idxfk_7 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid),
  CONSTRAINT application_sid_idxfk_1 FOREIGN KEY (application_sid) REFERENCES applications (application_sid)
) COMMENT = 'A Microsoft Teams customer tenant';

-- One row: platform-wide settings.
CREATE TABLE IF NOT EXISTS system_information (
  domain_name VARCHAR(255),
  sip_domain_name VARCHAR(255),
  monitoring_domain_name VARCHAR(255),
  private_network_cidr VARCHAR(8192) COMMENT 'comma separated list of CIDRs',
  log_level ENUM('info', 'debug') NOT NULL DEFAULT 'info'
);

-- Limits set by an operator, per account and per service provider.
CREATE TABLE IF NOT EXISTS account_limits (
  account_limits_sid CHAR(36) NOT NULL UNIQUE,
  account_sid CHAR(36) NOT NULL,
  category ENUM('api_rate', 'voice_call_session', 'device', 'voice_call_minutes', 'voice_call_session_license',
    'voice_call_minutes_license') NOT NULL,
  quantity INTEGER NOT NULL,
  PRIMARY KEY (account_limits_sid),
  KEY account_sid_idx (account_sid),
  CONSTRAINT account_sid_idxfk_1 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS service_provider_limits (
  service_provider_limits_sid CHAR(36) NOT NULL UNIQUE,
  service_provider_sid CHAR(36) NOT NULL,
  category ENUM('api_rate', 'voice_call_session', 'device', 'voice_call_minutes', 'voice_call_session_license',
    'voice_call_minutes_license') NOT NULL,
  quantity INTEGER NOT NULL,
  PRIMARY KEY (service_provider_limits_sid),
  KEY service_provider_sid_idx (service_provider_sid),
  CONSTRAINT service_provider_sid_idxfk_3 FOREIGN KEY (service_provider_sid)
    REFERENCES service_providers (service_provider_sid) ON DELETE CASCADE
);

-- Hosted plans: what an account bought (products x quantities of its active subscription).
CREATE TABLE IF NOT EXISTS products (
  product_sid CHAR(36) NOT NULL UNIQUE,
  name VARCHAR(32) NOT NULL,
  category ENUM('api_rate', 'voice_call_session', 'device') NOT NULL,
  PRIMARY KEY (product_sid),
  KEY product_sid_idx (product_sid)
);

CREATE TABLE IF NOT EXISTS account_subscriptions (
  account_subscription_sid CHAR(36) NOT NULL UNIQUE,
  account_sid CHAR(36) NOT NULL,
  pending BOOLEAN NOT NULL DEFAULT false,
  effective_start_date DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  effective_end_date DATETIME,
  change_reason VARCHAR(255),
  stripe_subscription_id VARCHAR(56),
  stripe_payment_method_id VARCHAR(56),
  stripe_statement_descriptor VARCHAR(255),
  last4 VARCHAR(512),
  exp_month INTEGER,
  exp_year INTEGER,
  card_type VARCHAR(16),
  pending_reason VARBINARY(52),
  PRIMARY KEY (account_subscription_sid),
  KEY account_subscription_sid_idx (account_subscription_sid),
  KEY account_sid_idx (account_sid),
  CONSTRAINT account_sid_idxfk_2 FOREIGN KEY (account_sid) REFERENCES accounts (account_sid)
);

CREATE TABLE IF NOT EXISTS account_products (
  account_product_sid CHAR(36) NOT NULL UNIQUE,
  account_subscription_sid CHAR(36) NOT NULL,
  product_sid CHAR(36) NOT NULL,
  quantity INTEGER NOT NULL,
  PRIMARY KEY (account_product_sid),
  KEY account_product_sid_idx (account_product_sid),
  KEY account_subscription_sid_idx (account_subscription_sid),
  CONSTRAINT account_subscription_sid_idxfk FOREIGN KEY (account_subscription_sid)
    REFERENCES account_subscriptions (account_subscription_sid),
  CONSTRAINT product_sid_idxfk FOREIGN KEY (product_sid) REFERENCES products (product_sid)
);

SET FOREIGN_KEY_CHECKS = @sbc_saved_fk_checks;
