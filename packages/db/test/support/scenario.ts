import type { Db, PasswordCipherOptions } from '../../src/index.js';
import {
  seedAccount,
  seedAccountLimit,
  seedApplication,
  seedCarrier,
  seedClient,
  seedPhoneNumber,
  seedServiceProvider,
  seedServiceProviderLimit,
  seedSubscription,
  seedSystemInformation,
  seedTeamsTenant,
} from '../../src/index.js';

export const CIPHER: PasswordCipherOptions = { encryptionSecret: 'test-encryption-secret' };
export const LEGACY_CIPHER: PasswordCipherOptions = {
  encryptionSecret: 'test-encryption-secret',
  legacyCrypto: true,
};

const HOOK = { url: 'http://127.0.0.1:4000/auth', method: 'POST', username: 'foo', password: 'bar' } as const;
const SP_HOOK = { url: 'http://127.0.0.1:4000/sp-auth', method: 'GET' } as const;

/**
 * The data the query tests read, modelled on jambonz's own sbc-inbound test data, on loopback
 * addresses: a carrier at 127.0.0.2, CIDR carriers in 127.0.0.0/16, a registration carrier, …
 */
export async function seedScenario(db: Db) {
  const spA = await seedServiceProvider(db, {
    name: 'SP A',
    root_domain: 'sbc.test',
    registration_hook: SP_HOOK,
  });
  const spB = await seedServiceProvider(db, { name: 'SP B', root_domain: 'other.test' });
  const sp = spA.service_provider_sid;

  const acctA = await seedAccount(db, {
    service_provider_sid: sp,
    name: 'account A',
    sip_realm: 'a.sbc.test',
    registration_hook: HOOK,
    webhook_secret: 'secretA',
  });
  const appA = await seedApplication(db, {
    account_sid: acctA.account_sid,
    name: 'app A',
    call_hook: { url: 'http://127.0.0.1:3000/call' },
    call_status_hook: { url: 'http://127.0.0.1:3000/status', method: 'GET' },
    record_all_calls: true,
  });
  const appDefault = await seedApplication(db, { account_sid: acctA.account_sid, name: 'default route' });
  const appRegex = await seedApplication(db, { account_sid: acctA.account_sid, name: 'regex route' });
  const acctSuper = await seedAccount(db, {
    service_provider_sid: sp,
    sip_realm: 'sip.super.test',
    registration_hook: HOOK,
  });
  const acctNoHook = await seedAccount(db, { service_provider_sid: sp, sip_realm: 'nohook.sbc.test' });
  const acctInactive = await seedAccount(db, {
    service_provider_sid: sp,
    sip_realm: 'inactive.sbc.test',
    is_active: false,
  });
  const acctHosted = await seedAccount(db, {
    service_provider_sid: sp,
    sip_realm: 'hosted.sbc.test',
    device_to_call_ratio: 0,
  });
  const acctOther = await seedAccount(db, {
    service_provider_sid: spB.service_provider_sid,
    sip_realm: 'b.other.test',
  });

  const carrierA = await seedCarrier(db, {
    name: 'carrier A',
    service_provider_sid: sp,
    account_sid: acctA.account_sid,
    application_sid: appDefault.application_sid,
    gateways: [
      { ipv4: '127.0.0.2', port: 5060, send_options_ping: true },
      { ipv4: '127.0.0.20', port: 5060, inbound: false },
      { ipv4: 'gw.carrier.test', port: null, inbound: false },
      { ipv4: '127.0.0.21', inbound: false, send_options_ping: true, is_active: false },
      { ipv4: '127.0.0.22', outbound: false, send_options_ping: true },
    ],
  });
  const carrierSpWide = await seedCarrier(db, {
    name: 'SP-wide carrier',
    service_provider_sid: sp,
    gateways: [
      { ipv4: '127.0.0.2', port: null },
      { ipv4: '127.0.3.0', netmask: 24, port: null },
    ],
  });
  const carrierCidr16 = await seedCarrier(db, {
    name: 'wide range',
    service_provider_sid: sp,
    gateways: [{ ipv4: '127.0.0.0', netmask: 16, port: null }],
  });
  const carrierCidrText = await seedCarrier(db, {
    name: 'range written in ipv4',
    service_provider_sid: sp,
    gateways: [{ ipv4: '127.0.3.128/25', port: null }],
  });
  const carrierInactive = await seedCarrier(db, {
    name: 'inactive carrier',
    service_provider_sid: sp,
    is_active: false,
    gateways: [{ ipv4: '127.0.0.5' }],
  });
  const carrierGatewayInactive = await seedCarrier(db, {
    name: 'inactive gateway',
    service_provider_sid: sp,
    gateways: [{ ipv4: '127.0.0.6', is_active: false }],
  });
  const carrierB = await seedCarrier(db, {
    name: 'carrier B',
    service_provider_sid: spB.service_provider_sid,
    gateways: [{ ipv4: '127.0.0.7' }],
  });
  const carrierReg = await seedCarrier(db, {
    name: 'registration trunk',
    service_provider_sid: sp,
    account_sid: acctA.account_sid,
    trunk_type: 'reg',
    requires_register: true,
    register_username: 'reguser',
    register_sip_realm: 'reg.carrier.test',
    register_password: 'regpass',
    register_from_user: 'fromuser',
    register_from_domain: 'from.carrier.test',
    gateways: [
      { ipv4: '127.0.0.8', port: 5060, protocol: 'udp' },
      { ipv4: '127.0.0.9', is_active: false },
      { ipv4: '127.0.0.10', outbound: false },
    ],
  });
  const carrierRegSp = await seedCarrier(db, {
    name: 'SP registration',
    service_provider_sid: sp,
    requires_register: true,
    register_username: 'spuser',
    register_sip_realm: 'sp.carrier.test',
    register_password: 'sppass',
    gateways: [{ ipv4: '127.0.0.12', protocol: 'tcp', inbound: false }],
  });
  const carrierRegNoGateway = await seedCarrier(db, {
    name: 'registration without outbound gateway',
    service_provider_sid: sp,
    requires_register: true,
    register_username: 'nogw',
    register_sip_realm: 'nogw.carrier.test',
    register_password: 'x',
    gateways: [{ ipv4: '127.0.0.13', outbound: false }],
  });
  const carrierRegInactiveAccount = await seedCarrier(db, {
    name: 'registration of inactive account',
    service_provider_sid: sp,
    account_sid: acctInactive.account_sid,
    requires_register: true,
    register_username: 'gone',
    register_sip_realm: 'gone.carrier.test',
    register_password: 'x',
    gateways: [{ ipv4: '127.0.0.11' }],
  });
  const authTrunkA = await seedCarrier(db, {
    name: 'PBX of A',
    service_provider_sid: sp,
    account_sid: acctA.account_sid,
    trunk_type: 'auth',
    inbound_auth_username: 'pbx',
    inbound_auth_password: 'pbxpass',
  });
  const authTrunkSp = await seedCarrier(db, {
    name: 'SP auth trunk',
    service_provider_sid: sp,
    trunk_type: 'auth',
    inbound_auth_username: 'sptrunk',
  });
  const authTrunkInactive = await seedCarrier(db, {
    name: 'inactive auth trunk',
    service_provider_sid: sp,
    account_sid: acctA.account_sid,
    trunk_type: 'auth',
    is_active: false,
  });
  const authTrunkOther = await seedCarrier(db, {
    name: 'auth trunk of another account',
    service_provider_sid: spB.service_provider_sid,
    account_sid: acctOther.account_sid,
    trunk_type: 'auth',
  });

  const number = (
    n: string,
    carrier: { voip_carrier_sid: string },
    application_sid: string | null = appA.application_sid,
  ) =>
    seedPhoneNumber(db, {
      number: n,
      voip_carrier_sid: carrier.voip_carrier_sid,
      account_sid: acctA.account_sid,
      application_sid,
    });
  const numbers = {
    exact: await number('16173333456', carrierA),
    exact1508: await number('15081234567', carrierA),
    wild1508222: await number('1508222*', carrierA),
    wild1508: await number('1508*', carrierA),
    wild150822233: await number('150822233*', carrierA),
    regexLong: await number('^1508[0-9]{7}$', carrierA, appRegex.application_sid),
    regex100: await number('^100', carrierA, appRegex.application_sid),
    regex10012: await number('^10012', carrierA, appRegex.application_sid),
    invalidRegex: await number('\\dkjfhmdf\\', carrierA),
    sharedOnA: await number('12125551212', carrierA),
    sharedOnSp: await seedPhoneNumber(db, {
      number: '12125551212',
      voip_carrier_sid: carrierSpWide.voip_carrier_sid,
      account_sid: acctNoHook.account_sid,
    }),
    otherAccount: await seedPhoneNumber(db, {
      number: '19998887777',
      voip_carrier_sid: carrierSpWide.voip_carrier_sid,
      account_sid: acctNoHook.account_sid,
    }),
  };

  const clients = {
    john: await seedClient(
      db,
      { account_sid: acctA.account_sid, username: 'john', password: '1234' },
      CIPHER,
    ),
    jane: await seedClient(
      db,
      {
        account_sid: acctA.account_sid,
        username: 'jane',
        password: '5678',
        is_active: false,
        allow_direct_user_calling: false,
      },
      CIPHER,
    ),
    nopass: await seedClient(
      db,
      { account_sid: acctA.account_sid, username: 'nopass', password: null },
      CIPHER,
    ),
    legacy: await seedClient(
      db,
      { account_sid: acctSuper.account_sid, username: 'old', password: 'legacy-pw' },
      LEGACY_CIPHER,
    ),
  };

  const tenant = await seedTeamsTenant(db, {
    service_provider_sid: sp,
    account_sid: acctA.account_sid,
    application_sid: appA.application_sid,
    tenant_fqdn: 'contoso.teams.test',
  });

  // Limits: A has a hosted plan (10 sessions, 2 devices) plus an expired and a pending subscription.
  await seedSubscription(db, {
    account_sid: acctA.account_sid,
    products: [
      { category: 'voice_call_session', quantity: 10 },
      { category: 'device', quantity: 2 },
    ],
  });
  await seedSubscription(db, {
    account_sid: acctA.account_sid,
    products: [{ category: 'voice_call_session', quantity: 1000 }],
    effective_end_date: new Date(Date.now() - 86_400_000),
  });
  await seedSubscription(db, {
    account_sid: acctA.account_sid,
    products: [{ category: 'device', quantity: 1000 }],
    pending: true,
  });
  await seedSubscription(db, {
    account_sid: acctHosted.account_sid,
    products: [
      { category: 'voice_call_session', quantity: 20 },
      { category: 'device', quantity: 2 },
    ],
  });
  await seedAccountLimit(db, { account_sid: acctA.account_sid, category: 'voice_call_session', quantity: 5 });
  await seedAccountLimit(db, { account_sid: acctA.account_sid, category: 'voice_call_session', quantity: 3 });
  await seedAccountLimit(db, { account_sid: acctA.account_sid, category: 'api_rate', quantity: 1 });
  await seedServiceProviderLimit(db, {
    service_provider_sid: sp,
    category: 'voice_call_session',
    quantity: 50,
  });

  await seedSystemInformation(db, {
    domain_name: 'sbc.test',
    sip_domain_name: 'sip.sbc.test',
    private_network_cidr: '127.0.1.0/24,127.0.4.0/24',
    log_level: 'debug',
  });

  return {
    spA,
    spB,
    acctA,
    acctSuper,
    acctNoHook,
    acctInactive,
    acctHosted,
    acctOther,
    appA,
    appDefault,
    appRegex,
    carrierA,
    carrierSpWide,
    carrierCidr16,
    carrierCidrText,
    carrierInactive,
    carrierGatewayInactive,
    carrierB,
    carrierReg,
    carrierRegSp,
    carrierRegNoGateway,
    carrierRegInactiveAccount,
    authTrunkA,
    authTrunkSp,
    authTrunkInactive,
    authTrunkOther,
    numbers,
    clients,
    tenant,
  };
}

export type Scenario = Awaited<ReturnType<typeof seedScenario>>;
