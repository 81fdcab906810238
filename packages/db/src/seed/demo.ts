import type { PasswordCipherOptions } from '../crypto.js';
import type { Db, SqlRunner } from '../db.js';
import {
  seedAccount,
  seedAccountLimit,
  seedApplication,
  seedCarrier,
  seedClient,
  seedPhoneNumber,
  seedServiceProvider,
  seedServiceProviderLimit,
  seedSystemInformation,
  setDeviceCallingApplication,
} from './seed.js';

export interface DemoOptions extends PasswordCipherOptions {
  /**
   * Auth hook of the demo account. Without one, devices authenticate against the demo clients
   * (the `clients` table), so the demo needs no hook server.
   */
  registrationHookUrl?: string;
}

/** What `seedDemo` created; the sids are fixed so a demo can be scripted. */
export interface DemoData {
  service_provider_sid: string;
  account_sid: string;
  /** SIP realm of the demo account; phones register as `<user>@<sip_realm>`. */
  sip_realm: string;
  application_sid: string;
  /** Carrier sending from 127.0.0.2:5060 (and the range 127.0.2.0/24). */
  voip_carrier_sid: string;
  sip_gateway_sids: string[];
  /** DIDs routed to the demo application. */
  phone_numbers: { exact: string; wildcard: string };
  /** SIP users with their plain-text passwords. */
  clients: { username: string; password: string }[];
  /** Feature servers' network (system_information.private_network_cidr). */
  private_network_cidr: string;
  /** False when the demo data was already there (seedDemo is idempotent). */
  created: boolean;
}

const SIDS = {
  serviceProvider: 'd0000000-0000-4000-8000-000000000001',
  account: 'd0000000-0000-4000-8000-000000000002',
  application: 'd0000000-0000-4000-8000-000000000003',
  carrier: 'd0000000-0000-4000-8000-000000000004',
  gatewayHost: 'd0000000-0000-4000-8000-000000000005',
  gatewayRange: 'd0000000-0000-4000-8000-000000000006',
} as const;

const CLIENTS = [
  { username: 'alice', password: 'alice-secret-1' },
  { username: 'bob', password: 'bob-secret-2' },
];

/**
 * A small coherent data set for the local demo, on loopback addresses only: one service provider
 * (root domain `sbc.test`), one account (realm `demo.sbc.test`, 10 simultaneous calls) with two SIP
 * clients, a device-calling application, a carrier at 127.0.0.2 (and 127.0.2.0/24) whose numbers
 * 15085550100 and 1508555* route to the application, and system information whose private network
 * is the feature servers' 127.0.1.0/24. Running it again changes nothing.
 */
export async function seedDemo(db: Db, options: DemoOptions): Promise<DemoData> {
  const data: DemoData = {
    service_provider_sid: SIDS.serviceProvider,
    account_sid: SIDS.account,
    sip_realm: 'demo.sbc.test',
    application_sid: SIDS.application,
    voip_carrier_sid: SIDS.carrier,
    sip_gateway_sids: [SIDS.gatewayHost, SIDS.gatewayRange],
    phone_numbers: { exact: '15085550100', wildcard: '1508555*' },
    clients: CLIENTS.map((c) => ({ ...c })),
    private_network_cidr: '127.0.1.0/24',
    created: false,
  };
  return db.transaction(async (tx) => {
    const existing = await tx.select(
      'SELECT 1 FROM service_providers WHERE service_provider_sid = ? FOR UPDATE',
      [SIDS.serviceProvider],
    );
    if (existing.length > 0) return data;
    await insertDemo(tx, data, options);
    return { ...data, created: true };
  });
}

async function insertDemo(db: SqlRunner, data: DemoData, options: DemoOptions): Promise<void> {
  await seedServiceProvider(db, {
    service_provider_sid: SIDS.serviceProvider,
    name: 'Demo SP',
    root_domain: 'sbc.test',
  });
  await seedServiceProviderLimit(db, {
    service_provider_sid: SIDS.serviceProvider,
    category: 'voice_call_session',
    quantity: 100,
  });
  await seedAccount(db, {
    account_sid: SIDS.account,
    service_provider_sid: SIDS.serviceProvider,
    name: 'Demo account',
    sip_realm: data.sip_realm,
    webhook_secret: 'wh_secret_demo',
    ...(options.registrationHookUrl ? { registration_hook: { url: options.registrationHookUrl } } : {}),
  });
  await seedAccountLimit(db, { account_sid: SIDS.account, category: 'voice_call_session', quantity: 10 });
  await seedApplication(db, {
    application_sid: SIDS.application,
    account_sid: SIDS.account,
    name: 'Demo application',
    call_hook: { url: 'http://127.0.0.1:3000/demo/call' },
    call_status_hook: { url: 'http://127.0.0.1:3000/demo/status' },
  });
  await setDeviceCallingApplication(db, SIDS.account, SIDS.application);
  await seedCarrier(db, {
    voip_carrier_sid: SIDS.carrier,
    name: 'Demo carrier',
    service_provider_sid: SIDS.serviceProvider,
    account_sid: SIDS.account,
    application_sid: SIDS.application,
    gateways: [
      { sip_gateway_sid: SIDS.gatewayHost, ipv4: '127.0.0.2', port: 5060 },
      { sip_gateway_sid: SIDS.gatewayRange, ipv4: '127.0.2.0', netmask: 24, port: null, outbound: false },
    ],
  });
  for (const number of Object.values(data.phone_numbers)) {
    await seedPhoneNumber(db, {
      number,
      voip_carrier_sid: SIDS.carrier,
      account_sid: SIDS.account,
      application_sid: SIDS.application,
    });
  }
  for (const client of CLIENTS) await seedClient(db, { account_sid: SIDS.account, ...client }, options);
  await seedSystemInformation(db, {
    domain_name: 'sbc.test',
    sip_domain_name: 'sip.sbc.test',
    private_network_cidr: data.private_network_cidr,
    log_level: 'info',
  });
}
