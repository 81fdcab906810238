import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDb, type VoipCarrier } from '@sbc/db';
import { createRedisClient, EphemeralGateways } from '@sbc/redis';
import {
  AmbiguousRouteError,
  DependencyUnavailableError,
  InactiveAccountError,
  LoopDetectedError,
  NoSiprecApplicationError,
  NumberNotProvisionedError,
  TeamsTenantUnknownError,
  UnknownRealmError,
  type InboundAnswer,
} from '../src/answers.js';
import {
  classifyAuthTrunkCall,
  classifyInvite,
  teamsProxyNetworks,
  type Classification,
  type ClassifyInput,
  type TeamsClassification,
  type TrunkClassification,
  type UserClassification,
} from '../src/classify/index.js';
import { invite, useClassifyFixture } from './support/classify-fixture.js';
import { JAMBONZ, SCENARIOS, seedJambonzInbound, seedScenarios } from './support/classify-seed.js';

const fixture = useClassifyFixture(async (db) => {
  await seedJambonzInbound(db);
  await seedScenarios(db);
});

const { accounts: acct, carriers: vc, apps, numbers: pn, ip } = JAMBONZ;
const s = SCENARIOS.ip;

async function classify(input: ClassifyInput, overrides = {}): Promise<Classification> {
  return classifyInvite(fixture().deps(overrides), input);
}

async function trunk(input: ClassifyInput, overrides = {}): Promise<TrunkClassification> {
  const result = await classify(input, overrides);
  if (result.originator !== 'trunk') throw new Error(`expected a trunk call, got ${result.originator}`);
  return result;
}

async function user(input: ClassifyInput, overrides = {}): Promise<UserClassification> {
  const result = await classify(input, overrides);
  if (result.originator !== 'user') throw new Error(`expected a device call, got ${result.originator}`);
  return result;
}

async function answer(input: ClassifyInput, overrides = {}): Promise<InboundAnswer> {
  const error = await classify(input, overrides).then(
    (result) => new Error(`expected a rejection, got ${result.originator}`),
    (err: unknown) => err,
  );
  if (!(error instanceof Error) || !('status' in error)) throw error;
  return error as InboundAnswer;
}

/** The fields a trunk classification is judged by. */
function route(result: TrunkClassification) {
  return {
    carrier: result.carrier.voip_carrier_sid,
    account: result.account.account_sid,
    app: result.applicationSid,
    match: result.match,
    number: result.number?.phone_number_sid,
  };
}

describe('jambonz sbc-inbound seed scenarios (§7.2)', () => {
  it('uac-pcap-carrier-success / late media: westco to its account realm routes the DID', async () => {
    const result = await trunk(invite(ip.westco, '+16173333456@jambonz.org'));
    expect(route(result)).toEqual({
      carrier: vc.westcoMain,
      account: acct.main,
      app: undefined,
      match: 'exact',
      number: pn.main,
    });
    expect(result.carrier.name).toBe('westco');
    expect(result.gateway?.ipv4).toBe(ip.westco);
    expect(result.gateway?.pad_crypto).toBe(false);
    expect(result.serviceProviderSid).toBe(JAMBONZ.sp);
  });

  it('uac-did-applicationsid-loop: X-Application-Sid equal to the routed application → 482', async () => {
    const input = invite(ip.westco, '+12125551212@jambonz.org', { incomingApplicationSid: apps.test });
    const err = await answer(input);
    expect(err).toBeInstanceOf(LoopDetectedError);
    expect(err.status).toBe(482);
    expect(err.reasonPhrase).toBe('Loop Detected on x-application-sid');
    // Another application sid is no loop.
    const ok = await trunk({ ...input, incomingApplicationSid: apps.echo2 });
    expect(route(ok)).toMatchObject({ app: apps.test, number: pn.loop12125551212 });
  });

  it('uac-pcap-ephemeral-gateway-success: a registration trunk calling from its ephemeral gateway', async () => {
    await fixture().ephemeralGateways.create(ip.ephemeral, vc.regTrunk, 3600);
    const result = await trunk(invite(ip.ephemeral, '+16175551000@jambonz.org'));
    expect(route(result)).toEqual({
      carrier: vc.regTrunk,
      account: acct.main,
      app: apps.test,
      match: 'ephemeral',
      number: pn.regTrunk16175551000,
    });
    expect(result.carrier.register_username).toBe('testuser');
    expect(result.carrier.register_password).toBe('testpass');
    expect(result.gateway?.ipv4).toBe(ip.outboundOnly);
  });

  it('uac-pcap-pbx-success: account-level PBX on an IP Request-URI is default-routed to its application', async () => {
    const result = await trunk(invite(ip.pbx, 'sipp@127.0.0.1:5060', { incomingApplicationSid: 'APP_ID_1' }));
    expect(route(result)).toEqual({
      carrier: vc.pbx,
      account: acct.delta,
      app: apps.test,
      match: 'exact',
      number: undefined,
    });
  });

  it('uac-did-regex-match: the longest wildcard wins (150822233* over 1508222* and 1508*)', async () => {
    const result = await trunk(invite(ip.westco, '+15082223333@jambonz.org'));
    expect(route(result)).toMatchObject({ carrier: vc.westcoMain, account: acct.main });
    expect(result.number?.phone_number_sid).toBe(pn.wildcard150822233);
    expect(result.number?.number).toBe('150822233*');
  });

  it('uac-pcap-device-success: a device calling the account realm', async () => {
    const result = await user(invite(ip.device, 'service@jambonz.org'));
    expect(result.account.account_sid).toBe(acct.main);
    expect(result.realm).toBe('jambonz.org');
    expect(result.account.registration_hook?.url).toBe('http://127.0.0.1:4000/auth');
    expect(result.account.registration_hook?.username).toBe('foo');
    expect(result.applicationSid).toBeUndefined();
  });

  it('uac-device-unknown-realm: baddomain.org → 404 without a challenge', async () => {
    const err = await answer(invite(ip.device, 'service@baddomain.org'));
    expect(err).toBeInstanceOf(UnknownRealmError);
    expect(err.status).toBe(404);
  });

  it('uac-pcap-carrier-max-call-limit: westco to echo realm uses that account’s westco', async () => {
    const result = await trunk(invite(ip.westco, '+15083871234@echo.sip.jambonz.org'));
    // The number is on the other westco: no number of this account, so its carrier's default (none).
    expect(route(result)).toEqual({
      carrier: vc.westcoEcho,
      account: acct.echo,
      app: undefined,
      match: 'exact',
      number: undefined,
    });
  });

  it('uac-did-regex-match-vc-all-accts: SP-wide carriers behind a realm without carriers, regex ^100', async () => {
    const result = await trunk(invite(ip.voip100And101, '+100678@ram.sip.jambonz.org'));
    // Carriers for all accounts: the number's account is routed to, not the realm's.
    expect(route(result)).toEqual({
      carrier: vc.voip101,
      account: acct.delta,
      app: apps.app100,
      match: 'exact',
      number: pn.phone100,
    });
  });

  it('the longest matching regex across the carriers wins (^10012 over ^100)', async () => {
    const result = await trunk(invite(ip.voip100And101, '+100123@ram.sip.jambonz.org'));
    expect(route(result)).toMatchObject({ carrier: vc.voip100, app: apps.app101, number: pn.phone101 });
  });

  it('uac-did-regex-match-vc-all-accts-nosiprealm from .51: only voip101, regex ^100', async () => {
    const result = await trunk(invite(ip.voip101, '100678@127.0.0.1:5060'));
    expect(route(result)).toMatchObject({ carrier: vc.voip101, account: acct.delta, app: apps.app100 });
  });

  it('uac-did-regex-match-vc-all-accts-nosiprealm from .50: the invalid regex row is skipped (#201)', async () => {
    // '\\dkjfhmdf\\' is the longest pattern on voip100 and no regular expression: skipped and
    // logged (a warning the first time in a process, a debug line after that).
    const warnings: Record<string, unknown>[] = [];
    const note = (obj: Record<string, unknown>) => void warnings.push(obj);
    const logger = { debug: note, info: () => undefined, warn: note };
    const result = await trunk(invite(ip.voip100And101, '100678@127.0.0.1:5060'), { logger });
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings)
      expect(warning).toEqual({ phoneNumberSid: 'phone102', number: '\\dkjfhmdf\\' });
    expect(route(result)).toMatchObject({ carrier: vc.voip101, app: apps.app100, number: pn.phone100 });
    const longer = await trunk(invite(ip.voip100And101, '100123@127.0.0.1:5060'));
    expect(route(longer)).toMatchObject({ carrier: vc.voip100, app: apps.app101, number: pn.phone101 });
  });

  it('uac-pcap-carrier-fail-ambiguous: two accounts default-route the same carrier address → 503', async () => {
    const err = await answer(invite(ip.twilio, '+15083871234@127.0.0.1'));
    expect(err).toBeInstanceOf(AmbiguousRouteError);
    expect(err.status).toBe(503);
    expect(err.xReason).toBe('Multiple accounts are attempting to default route this carrier');
  });

  it('an IPv4-mapped IPv6 source is its IPv4 address', async () => {
    const result = await trunk(invite(`::ffff:${ip.westco}`, '+16173333456@jambonz.org'));
    expect(route(result)).toMatchObject({ carrier: vc.westcoMain, number: pn.main });
  });
});

describe('gateway matching', () => {
  it('an exact address before ranges, the most specific range first (realm Request-URI)', async () => {
    const exact = await trunk(invite(s.rangeExact, '15550000000@ranges.test'));
    expect(route(exact)).toMatchObject({ carrier: 'vc-exact', match: 'exact' });
    const in24 = await trunk(invite(s.rangeIn24, '15550000000@ranges.test'));
    expect(route(in24)).toMatchObject({ carrier: 'vc-24', match: 'cidr' });
    expect(in24.gateway).toMatchObject({ ipv4: '127.1.1.0', netmask: 24 });
    const in16 = await trunk(invite(s.rangeIn16, '15550000000@ranges.test'));
    expect(route(in16)).toMatchObject({ carrier: 'vc-16', match: 'cidr' });
  });

  it('an IP Request-URI: the most specific range, routed to the service provider’s only account', async () => {
    const result = await trunk(invite(s.rangeIn24, '15550000000@127.0.0.1'));
    expect(route(result)).toEqual({
      carrier: 'vc-24',
      account: 'acct-ranges',
      app: undefined,
      match: 'cidr',
      number: undefined,
    });
  });

  it('the number decides between carriers covering the source (a less specific range owns it)', async () => {
    const result = await trunk(invite(s.rangeIn24, '15550160000@127.0.0.1'));
    expect(route(result)).toMatchObject({ carrier: 'vc-16', account: 'acct-ranges', match: 'cidr' });
  });

  it('#218: an SP-wide carrier is recognised for an account that has carriers of its own', async () => {
    const result = await trunk(invite(s.all218, '15552180000@a218.test'));
    expect(route(result)).toMatchObject({ carrier: 'vc-218-all', account: 'acct-218', app: 'app-218-num' });
    const own = await trunk(invite(s.own218, '15559999999@a218.test'));
    expect(route(own)).toMatchObject({ carrier: 'vc-218-own', app: 'app-218-own' });
  });

  it('#218: on the same address the account’s own carrier comes before the SP-wide one', async () => {
    const result = await trunk(invite(s.both218, '15559999999@a218.test'));
    expect(route(result)).toMatchObject({ carrier: 'vc-218-own', account: 'acct-218', app: 'app-218-own' });
    // The SP-wide carrier still routes its number.
    const numbered = await trunk(invite(s.both218, '15552180000@a218.test'));
    expect(route(numbered)).toMatchObject({ carrier: 'vc-218-all', app: 'app-218-num' });
  });

  it('#134: several carriers behind one gateway, the number is on the second', async () => {
    const result = await trunk(invite(s.shared134, '+15551340002@127.0.0.1'));
    expect(route(result)).toMatchObject({ carrier: 'vc-134-2', account: 'acct-134b', app: 'app-134b' });
  });

  it('an inactive carrier is not recognised (the call is a device call to an unknown realm)', async () => {
    const err = await answer(invite(s.inactiveCarrier, '15550000000@127.0.0.1'));
    expect(err).toBeInstanceOf(UnknownRealmError);
  });

  it('IPv6: a gateway for ::1 (exact)', async () => {
    const result = await trunk(invite('::1', '15550000000@v6a.test'));
    expect(route(result)).toMatchObject({ carrier: 'vc-v6-exact', account: 'acct-v6a', match: 'exact' });
  });

  it('IPv6: a gateway range ::/120 covers ::1 (needs IPv6 ranges in @sbc/db gateway ranking)', async () => {
    const result = await trunk(invite('::1', '15550000000@v6b.test'));
    expect(route(result)).toMatchObject({ carrier: 'vc-v6-range', account: 'acct-v6b', match: 'cidr' });
  });
});

describe('numbers and applications', () => {
  it('#127: the number’s application overrides the carrier’s default application', async () => {
    const result = await trunk(invite(s.carrier127, '+15551270001@127.0.0.1'));
    expect(route(result)).toMatchObject({ carrier: 'vc-127', app: 'app-127-number', number: 'pn-127-app' });
  });

  it('#127: a number without an application uses the carrier’s default', async () => {
    const result = await trunk(invite(s.carrier127, '+15551270002@127.0.0.1'));
    expect(route(result)).toMatchObject({ app: 'app-127-default', number: 'pn-127-noapp' });
  });

  it('a number nobody provisioned is default-routed by the carrier’s account', async () => {
    const result = await trunk(invite(s.carrier127, '+15551279999@127.0.0.1'));
    expect(route(result)).toMatchObject({ account: 'acct-127', app: 'app-127-default', number: undefined });
  });

  it('a realm Request-URI: the number routes as well', async () => {
    const result = await trunk(invite(s.carrier127, '+15551270001@a127.test'));
    expect(route(result)).toMatchObject({ account: 'acct-127', app: 'app-127-number' });
  });

  it('an empty Request-URI user is the DID "anonymous"', async () => {
    const input = invite(s.carrier127, '127.0.0.1');
    expect(input.did).toBe('anonymous');
    const result = await trunk(input);
    expect(route(result)).toMatchObject({ app: 'app-127-default', number: undefined });
  });
});

describe('registration carriers (feature-server #179)', () => {
  it('INVITE sip:<register_username>@<register_sip_realm> from the carrier’s (outbound) gateway', async () => {
    const result = await trunk(invite(s.reg179, 'reg179@sip.carrier179.test'));
    expect(route(result)).toEqual({
      carrier: 'vc-179',
      account: 'acct-179',
      app: 'app-179',
      match: 'registration',
      number: undefined,
    });
  });

  it('from another address it is no carrier call (404: no such realm)', async () => {
    const err = await answer(invite('127.0.44.9', 'reg179@sip.carrier179.test'));
    expect(err).toBeInstanceOf(UnknownRealmError);
  });

  it('an SP-wide registration carrier has no account: not a carrier call', async () => {
    const err = await answer(invite(s.regSpWide179, 'reg179@sip.spwide179.test'));
    expect(err).toBeInstanceOf(UnknownRealmError);
  });

  it('two registration carriers matching the source → 503', async () => {
    const err = await answer(invite(s.regDup179, 'dup@sip.dup179.test'));
    expect(err).toBeInstanceOf(AmbiguousRouteError);
    expect(err.xReason).toBe('Multiple gateways match registration carrier source address');
  });
});

describe('ephemeral gateways (eph-gw-ip:<ip>)', () => {
  it('an IP Request-URI from a registration trunk’s registered address', async () => {
    await fixture().ephemeralGateways.create(s.ephemeral, 'vc-eph', 600);
    const result = await trunk(invite(s.ephemeral, '15550000000@127.0.0.1'));
    expect(route(result)).toEqual({
      carrier: 'vc-eph',
      account: 'acct-eph',
      app: 'app-eph',
      match: 'ephemeral',
      number: undefined,
    });
  });

  it('an expired entry is no gateway', async () => {
    await fixture().ephemeralGateways.create(s.ephemeralExpired, 'vc-eph', 60);
    const later = () => Date.now() + 120_000;
    const err = await answer(invite(s.ephemeralExpired, '15550000000@127.0.0.1'), { now: later });
    expect(err).toBeInstanceOf(UnknownRealmError);
  });
});

describe('rejections', () => {
  it('two carriers of one account behind one gateway routing the same number → 503', async () => {
    const err = await answer(invite(s.realm503, '15555030000@r503.test'));
    expect(err).toBeInstanceOf(AmbiguousRouteError);
    expect(err.status).toBe(503);
    expect(err.xReason).toBe(
      'Multiple carriers with the same gateway are attempting to route the same number for this account',
    );
  });

  it('the same number on two carriers of the source for two accounts → 503', async () => {
    const err = await answer(invite(s.shared134, '15551340099@127.0.0.1'));
    expect(err).toBeInstanceOf(AmbiguousRouteError);
    expect(err.xReason).toBe(
      'Multiple accounts are attempting to route the same phone number from the same carrier',
    );
  });

  it('a known carrier, an unprovisioned number, several accounts → 404 Number Not Provisioned', async () => {
    const err = await answer(invite(s.shared134, '15551349999@127.0.0.1'));
    expect(err).toBeInstanceOf(NumberNotProvisionedError);
    expect(err.status).toBe(404);
    expect(err.reasonPhrase).toBe('Number Not Provisioned');
  });

  it('a number of an SP-wide carrier without an account → 404 Number Not Provisioned', async () => {
    const err = await answer(invite(s.shared134, '15551340077@127.0.0.1'));
    expect(err).toBeInstanceOf(NumberNotProvisionedError);
  });

  it('a carrier call routed to an inactive account → 503', async () => {
    const err = await answer(invite(s.inactive, '15550460001@127.0.0.1'));
    expect(err).toBeInstanceOf(InactiveAccountError);
    expect(err.status).toBe(503);
    expect(err.xReason).toBe('Account exists but is inactive');
    // Its realm Request-URI: the inactive account owns no realm for carriers, the source lookup routes it.
    await expect(classify(invite(s.inactive, '15550460001@inactive.test'))).rejects.toBeInstanceOf(
      InactiveAccountError,
    );
  });

  it('a device call to an inactive account → 503', async () => {
    await expect(classify(invite(ip.device, 'alice@inactive.test'))).rejects.toBeInstanceOf(
      InactiveAccountError,
    );
  });
});

describe('SIPREC', () => {
  it('the account’s siprec_hook_sid is the application', async () => {
    const result = await trunk(invite(s.siprec, '15550470000@127.0.0.1', { siprec: true }));
    expect(route(result)).toMatchObject({ carrier: 'vc-siprec', account: 'acct-siprec', app: 'app-siprec' });
    const plain = await trunk(invite(s.siprec, '15550470000@127.0.0.1'));
    expect(plain.applicationSid).toBe('app-siprec-default');
  });

  it('an account without siprec_hook_sid → 404', async () => {
    const err = await answer(invite(ip.westco, '+16173333456@jambonz.org', { siprec: true }));
    expect(err).toBeInstanceOf(NoSiprecApplicationError);
    expect(err.status).toBe(404);
  });
});

describe('Microsoft Teams', () => {
  it('a tenant with an application', async () => {
    const result = (await classify(
      invite(s.teams, '+15550000000@contoso.teams.test'),
    )) as TeamsClassification;
    expect(result).toMatchObject({
      originator: 'teams',
      tenantFqdn: 'contoso.teams.test',
      applicationSid: 'app-teams',
      serviceProviderSid: 'sp-teams',
    });
    expect(result.account.account_sid).toBe('acct-teams');
  });

  it('an unknown tenant, or one without application → 404 "no configured application"', async () => {
    for (const host of ['unknown.teams.test', 'noapp.teams.test']) {
      const err = await answer(invite(s.teams, `+15550000000@${host}`));
      expect(err).toBeInstanceOf(TeamsTenantUnknownError);
      expect(err.xReason).toBe('no configured application');
    }
  });

  it('the proxy set: MS_TEAMS_SIP_PROXY_IPS plus 52.112.0.0/14 and 52.120.0.0/14', () => {
    const set = teamsProxyNetworks(['127.0.9.9', '::1/128']);
    expect(set.contains('127.0.9.9')).toBe(true);
    expect(set.contains('::ffff:127.0.9.9')).toBe(true);
    expect(set.contains('::1')).toBe(true);
    expect(set.contains('127.0.9.8')).toBe(false);
    expect(set.contains('52.113.255.1')).toBe(true);
    expect(set.contains('52.123.0.1')).toBe(true);
    expect(set.contains('52.124.0.1')).toBe(false);
    expect(set.contains('not-an-ip')).toBe(false);
    expect(() => teamsProxyNetworks(['127.0.9.300'])).toThrow(/MS_TEAMS_SIP_PROXY_IPS/);
  });
});

describe('devices', () => {
  it('active auth trunks of the account and of its service provider', async () => {
    const result = await user(invite(ip.device, 'bob@jambonz.org'));
    expect(result.authTrunks.map((t) => t.voip_carrier_sid).sort()).toEqual(['vc-auth-main', 'vc-auth-sp']);
  });

  it('the parent domain’s account when no account has the realm (super-domain fallback)', async () => {
    const result = await user(invite(ip.device, 'bob@phone.delta.sip.jambonz.org'));
    expect(result.account.account_sid).toBe(acct.delta);
    expect(result.realm).toBe('phone.delta.sip.jambonz.org');
    expect(result.authTrunks.map((t) => t.voip_carrier_sid).sort()).toEqual(['vc-auth-delta', 'vc-auth-sp']);
  });

  it('the device calling application', async () => {
    await fixture().db.execute(
      "UPDATE accounts SET device_calling_application_sid = 'app-218-own' WHERE account_sid = 'acct-218'",
    );
    const result = await user(invite(ip.device, 'bob@a218.test'));
    expect(result.applicationSid).toBe('app-218-own');
  });

  it('SBC_ACCOUNT_SID: a dedicated SBC takes device calls for its account only', async () => {
    const ok = await user(invite(ip.device, 'bob@jambonz.org'), { sbcAccountSid: acct.main });
    expect(ok.account.account_sid).toBe(acct.main);
    const err = await answer(invite(ip.device, 'bob@delta.sip.jambonz.org'), { sbcAccountSid: acct.main });
    expect(err).toBeInstanceOf(UnknownRealmError);
    expect(err.status).toBe(404);
    // Carrier calls are not limited by it.
    const carrier = await trunk(invite(ip.pbx, 'sipp@127.0.0.1'), { sbcAccountSid: acct.main });
    expect(carrier.account.account_sid).toBe(acct.delta);
  });

  it('an IP Request-URI from an unknown source → 404', async () => {
    await expect(classify(invite(ip.device, 'bob@127.0.0.1'))).rejects.toBeInstanceOf(UnknownRealmError);
  });
});

describe('auth trunks (§2.2 step 6)', () => {
  async function authTrunk(sid: string): Promise<VoipCarrier> {
    const result = await user(invite(ip.device, 'bob@jambonz.org'));
    const found = result.authTrunks.find((t) => t.voip_carrier_sid === sid);
    if (!found) throw new Error(`no auth trunk ${sid}`);
    return found;
  }

  it('the DID’s application on that trunk', async () => {
    const { account } = await user(invite(ip.device, 'bob@jambonz.org'));
    const result = await classifyAuthTrunkCall(
      fixture().deps(),
      await authTrunk('vc-auth-sp'),
      '15550009999',
      account,
    );
    expect(route(result)).toMatchObject({
      carrier: 'vc-auth-sp',
      account: acct.main,
      app: apps.test,
      match: 'auth',
    });
    expect(result.gateway).toBeUndefined();
    expect(result.serviceProviderSid).toBe(JAMBONZ.sp);
  });

  it('else the trunk’s application', async () => {
    const { account } = await user(invite(ip.device, 'bob@jambonz.org'));
    const result = await classifyAuthTrunkCall(
      fixture().deps(),
      await authTrunk('vc-auth-sp'),
      '15550000001',
      account,
    );
    expect(result.applicationSid).toBe(apps.app100);
    expect(result.number).toBeUndefined();
  });
});

/** A loopback TCP port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('dependencies down', () => {
  it('MySQL down → 503 DependencyUnavailableError(mysql) with Retry-After, fast', async () => {
    const db = createDb({
      host: '127.0.0.1',
      port: await deadPort(),
      user: 'nobody',
      password: 'x',
      database: 'none',
      connectTimeoutMs: 1000,
    });
    try {
      const started = Date.now();
      const err = await answer(invite(ip.westco, '+16173333456@jambonz.org'), { db, retryAfterSeconds: 7 });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(DependencyUnavailableError);
      expect(err.status).toBe(503);
      expect(err.reason).toBe('mysql');
      expect(err.headers()).toEqual({ 'Retry-After': '7' });
    } finally {
      await db.close();
    }
  });

  it('a closed pool is MySQL down too, for the auth-trunk helper as well', async () => {
    const { account } = await user(invite(ip.device, 'bob@jambonz.org'));
    const trunks = (await user(invite(ip.device, 'bob@jambonz.org'))).authTrunks;
    const db = fixture().deps().db;
    const closed = createDb({ ...db.options });
    await closed.close();
    const err = await classifyAuthTrunkCall(fixture().deps({ db: closed }), trunks[0]!, '1', account).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as DependencyUnavailableError).reason).toBe('mysql');
  });

  it('Redis down (ephemeral gateway lookup) → 503 DependencyUnavailableError(redis), fast', async () => {
    const redis = createRedisClient({ host: '127.0.0.1', port: await deadPort(), commandTimeoutMs: 300 });
    try {
      const started = Date.now();
      const err = await answer(invite('127.0.49.1', '15550000000@127.0.0.1'), {
        ephemeralGateways: new EphemeralGateways(redis),
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(DependencyUnavailableError);
      expect(err.reason).toBe('redis');
      expect(err.headers()).toEqual({ 'Retry-After': '5' });
    } finally {
      redis.disconnect();
    }
  });
});
