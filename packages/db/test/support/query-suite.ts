import { beforeAll, describe, expect, it } from 'vitest';
import {
  AmbiguousPhoneNumberError,
  DbDataError,
  addSbcAddress,
  cleanSbcAddresses,
  decryptPassword,
  listSbcAddresses,
  lookupAccountBySid,
  lookupAccountBySipRealm,
  lookupAccountCapacities,
  lookupAllVoipCarriers,
  lookupAppBySid,
  lookupAuthHook,
  lookupAuthTrunks,
  lookupCallLimits,
  lookupCarrierBySid,
  lookupCarriersByRegistration,
  lookupCarriersRequiringRegistration,
  lookupClientByAccountAndUsername,
  lookupDeviceLimit,
  lookupGatewaysForOptionsPing,
  lookupInboundGateways,
  lookupPhoneNumber,
  lookupSipGatewayBySignalingAddress,
  lookupSipGatewaysByCarrier,
  lookupSystemInformation,
  lookupTeamsTenant,
  matchPhoneNumbers,
  parseRegisterStatus,
  seedCarrier,
  seedClients,
  seedDemo,
  seedSbcAddress,
  seedSystemInformation,
  updateCarrierRegisterStatus,
  updateSipGateway,
  updateVoipCarrier,
  type CarrierGateway,
  type Db,
} from '../../src/index.js';
import type { DatabaseFixture } from './fixture.js';
import { CIPHER, LEGACY_CIPHER, seedScenario, type Scenario } from './scenario.js';

/** `carrier name ipv4[/netmask]` of each gateway, to compare orderings readably. */
function describeGateways(gateways: readonly CarrierGateway[]): string[] {
  return gateways.map((g) => `${g.carrier.name} ${g.ipv4}${g.netmask < 32 ? `/${g.netmask}` : ''}`);
}

/**
 * Every query of @sbc/db against a database from `fixture`: registered by the schema.sql tests and
 * again by the jambonz-schema compatibility tests, so both schemas run the same assertions.
 */
export function defineQuerySuite(fixture: () => DatabaseFixture): void {
  let db: Db;
  let s: Scenario;
  beforeAll(async () => {
    db = fixture().db;
    s = await seedScenario(db);
  });

  describe('accounts', () => {
    it('finds an account by SIP realm with its registration hook and typed columns', async () => {
      const account = await lookupAccountBySipRealm(db, 'a.sbc.test');
      expect(account).toMatchObject({
        account_sid: s.acctA.account_sid,
        name: 'account A',
        sip_realm: 'a.sbc.test',
        service_provider_sid: s.spA.service_provider_sid,
        is_active: true,
        webhook_secret: 'secretA',
        device_to_call_ratio: 5,
        disable_cdrs: false,
        record_format: 'mp3',
        registration_hook: {
          webhook_sid: s.acctA.registration_hook_sid,
          url: 'http://127.0.0.1:4000/auth',
          method: 'POST',
          username: 'foo',
          password: 'bar',
        },
      });
    });

    it('falls back to the super-domain (first label stripped) only for realms of more than two labels', async () => {
      expect((await lookupAccountBySipRealm(db, 'phone1.sip.super.test'))?.account_sid).toBe(
        s.acctSuper.account_sid,
      );
      expect((await lookupAccountBySipRealm(db, 'sip.super.test'))?.account_sid).toBe(
        s.acctSuper.account_sid,
      );
      // One step only, and never down to two labels.
      expect(await lookupAccountBySipRealm(db, 'x.phone1.sip.super.test')).toBeUndefined();
      expect(await lookupAccountBySipRealm(db, 'super.test')).toBeUndefined();
      expect(await lookupAccountBySipRealm(db, 'nowhere.test')).toBeUndefined();
    });

    it('returns inactive accounts (the caller checks is_active) and no hook when none is set', async () => {
      const inactive = await lookupAccountBySipRealm(db, 'inactive.sbc.test');
      expect(inactive).toMatchObject({ account_sid: s.acctInactive.account_sid, is_active: false });
      expect(inactive?.registration_hook).toBeUndefined();
    });

    it('finds an account by sid', async () => {
      expect((await lookupAccountBySid(db, s.acctNoHook.account_sid))?.sip_realm).toBe('nohook.sbc.test');
      expect(await lookupAccountBySid(db, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    });
  });

  describe('auth hook', () => {
    it("uses the account's hook, also through the super-domain", async () => {
      const direct = await lookupAuthHook(db, 'a.sbc.test');
      expect(direct).toMatchObject({ source: 'account', hook: { url: 'http://127.0.0.1:4000/auth' } });
      expect(direct?.account?.account_sid).toBe(s.acctA.account_sid);
      const viaSuper = await lookupAuthHook(db, 'desk.a.sbc.test');
      expect(viaSuper).toMatchObject({ source: 'account', service_provider_sid: s.spA.service_provider_sid });
      expect(viaSuper?.account?.account_sid).toBe(s.acctA.account_sid);
    });

    it("falls back to the service provider's hook by root domain", async () => {
      const noHook = await lookupAuthHook(db, 'nohook.sbc.test');
      expect(noHook).toMatchObject({
        source: 'service_provider',
        service_provider_sid: s.spA.service_provider_sid,
        hook: { url: 'http://127.0.0.1:4000/sp-auth', method: 'GET', username: null, password: null },
      });
      expect(noHook?.account?.account_sid).toBe(s.acctNoHook.account_sid);
      const noAccount = await lookupAuthHook(db, 'unknown.sbc.test');
      expect(noAccount).toMatchObject({ source: 'service_provider', account: undefined });
    });

    it('is undefined when neither the account nor its service provider has a hook', async () => {
      expect(await lookupAuthHook(db, 'b.other.test')).toBeUndefined();
      expect(await lookupAuthHook(db, 'nowhere.example.test')).toBeUndefined();
    });
  });

  describe('clients', () => {
    it('returns the client with its password decrypted and typed flags', async () => {
      const john = await lookupClientByAccountAndUsername(db, s.acctA.account_sid, 'john', CIPHER);
      expect(john).toEqual({
        client_sid: s.clients.john,
        account_sid: s.acctA.account_sid,
        username: 'john',
        password: '1234',
        is_active: true,
        allow_direct_app_calling: true,
        allow_direct_queue_calling: true,
        allow_direct_user_calling: true,
      });
    });

    it('stores the password in the jambonz format, not in clear', async () => {
      const [row] = await db.select<{ password: string }>(
        'SELECT password FROM clients WHERE client_sid = ?',
        [s.clients.john],
      );
      const stored = JSON.parse(row!.password) as { iv: string; content: string };
      expect(Object.keys(stored)).toEqual(['iv', 'content']);
      expect(stored.iv).toMatch(/^[0-9a-f]{32}$/);
      expect(stored.content).toMatch(/^(?:[0-9a-f]{32})+$/);
      expect(decryptPassword(row!.password, CIPHER)).toBe('1234');
    });

    it('returns inactive clients, clients without password, and nothing for another account', async () => {
      expect(await lookupClientByAccountAndUsername(db, s.acctA.account_sid, 'jane', CIPHER)).toMatchObject({
        password: '5678',
        is_active: false,
        allow_direct_user_calling: false,
      });
      expect(
        (await lookupClientByAccountAndUsername(db, s.acctA.account_sid, 'nopass', CIPHER))?.password,
      ).toBeNull();
      expect(
        await lookupClientByAccountAndUsername(db, s.acctSuper.account_sid, 'john', CIPHER),
      ).toBeUndefined();
    });

    it('decrypts LEGACY_CRYPTO (aes-256-ctr) passwords when asked to', async () => {
      const old = await lookupClientByAccountAndUsername(db, s.acctSuper.account_sid, 'old', LEGACY_CIPHER);
      expect(old?.password).toBe('legacy-pw');
    });

    it('rejects with DbDataError for a wrong secret or a corrupt stored value', async () => {
      await expect(
        lookupClientByAccountAndUsername(db, s.acctA.account_sid, 'john', {
          encryptionSecret: 'another secret',
        }),
      ).rejects.toBeInstanceOf(DbDataError);
      await db.execute("UPDATE clients SET password = 'plain-text' WHERE client_sid = ?", [s.clients.nopass]);
      await expect(
        lookupClientByAccountAndUsername(db, s.acctA.account_sid, 'nopass', CIPHER),
      ).rejects.toThrow(/not JSON/);
      await db.execute('UPDATE clients SET password = NULL WHERE client_sid = ?', [s.clients.nopass]);
    });

    it('seeds many clients at once (benchmarks), passwords stored as seedClient stores them', async () => {
      const many = Array.from({ length: 1500 }, (_, i) => ({ username: `bulk${i}`, password: `pw-${i}` }));
      await seedClients(db, s.acctNoHook.account_sid, many, CIPHER);
      for (const i of [0, 999, 1000, 1499]) {
        expect(
          await lookupClientByAccountAndUsername(db, s.acctNoHook.account_sid, `bulk${i}`, CIPHER),
        ).toMatchObject({
          username: `bulk${i}`,
          password: `pw-${i}`,
        });
      }
    });
  });

  describe('carriers', () => {
    it('finds a carrier by sid with typed columns', async () => {
      expect(await lookupCarrierBySid(db, s.carrierReg.voip_carrier_sid)).toMatchObject({
        name: 'registration trunk',
        account_sid: s.acctA.account_sid,
        trunk_type: 'reg',
        requires_register: true,
        register_username: 'reguser',
        register_sip_realm: 'reg.carrier.test',
        register_password: 'regpass',
        register_from_user: 'fromuser',
        register_from_domain: 'from.carrier.test',
        register_public_ip_in_contact: false,
        is_active: true,
        dtmf_type: 'rfc2833',
        e164_leading_plus: false,
      });
      expect(await lookupCarrierBySid(db, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    });

    it('lists carriers that are SP-wide or belong to an active account', async () => {
      const sids = (await lookupAllVoipCarriers(db)).map((c) => c.voip_carrier_sid);
      expect(sids).toContain(s.carrierA.voip_carrier_sid);
      expect(sids).toContain(s.carrierSpWide.voip_carrier_sid);
      expect(sids).toContain(s.carrierInactive.voip_carrier_sid);
      expect(sids).not.toContain(s.carrierRegInactiveAccount.voip_carrier_sid);
    });

    it('lists carriers requiring registration with their active outbound gateways', async () => {
      const carriers = await lookupCarriersRequiringRegistration(db);
      expect(carriers.map((c) => c.carrier.name).sort()).toEqual(['SP registration', 'registration trunk']);
      const reg = carriers.find((c) => c.carrier.voip_carrier_sid === s.carrierReg.voip_carrier_sid);
      expect(reg?.account_sip_realm).toBe('a.sbc.test');
      expect(reg?.gateways.map((g) => [g.ipv4, g.port, g.protocol])).toEqual([['127.0.0.8', 5060, 'udp']]);
      const spWide = carriers.find((c) => c.carrier.voip_carrier_sid === s.carrierRegSp.voip_carrier_sid);
      expect(spWide?.account_sip_realm).toBeNull();
      expect(spWide?.gateways.map((g) => g.protocol)).toEqual(['tcp']);
    });

    it('finds carriers by their registration (R-URI user and host of their INVITEs)', async () => {
      const found = await lookupCarriersByRegistration(db, {
        sipRealm: 'reg.carrier.test',
        username: 'reguser',
      });
      expect(found.map((c) => c.voip_carrier_sid)).toEqual([s.carrierReg.voip_carrier_sid]);
      expect(
        await lookupCarriersByRegistration(db, { sipRealm: 'reg.carrier.test', username: 'other' }),
      ).toEqual([]);
    });

    it('lists active auth trunks of an account, then those of its service provider', async () => {
      const trunks = await lookupAuthTrunks(db, {
        accountSid: s.acctA.account_sid,
        serviceProviderSid: s.spA.service_provider_sid,
      });
      expect(trunks.map((t) => t.name)).toEqual(['PBX of A', 'SP auth trunk']);
      expect(trunks[0]).toMatchObject({ inbound_auth_username: 'pbx', inbound_auth_password: 'pbxpass' });
    });

    it('writes register_status as JSON', async () => {
      const sid = s.carrierReg.voip_carrier_sid;
      expect(
        await updateCarrierRegisterStatus(db, sid, {
          status: 'ok',
          reason: '200 OK',
          cseq: 3,
          callId: 'abc',
          expires: 3600,
        }),
      ).toBe(true);
      const status = parseRegisterStatus((await lookupCarrierBySid(db, sid))!);
      expect(status).toMatchObject({ status: 'ok', reason: '200 OK', cseq: 3, callId: 'abc', expires: 3600 });
      expect(Number.isNaN(Date.parse(status!.timestamp!))).toBe(false);
      expect(
        await updateCarrierRegisterStatus(db, '00000000-0000-0000-0000-000000000000', {
          status: 'fail',
          reason: 'x',
        }),
      ).toBe(false);
      expect(parseRegisterStatus({ register_status: 'not json' })).toBeUndefined();
    });

    it('turns requires_register off', async () => {
      const sid = s.carrierRegSp.voip_carrier_sid;
      expect(await updateVoipCarrier(db, sid, { requires_register: false })).toBe(true);
      const names = (await lookupCarriersRequiringRegistration(db)).map((c) => c.carrier.name);
      expect(names).toEqual(['registration trunk']);
      await updateVoipCarrier(db, sid, { requires_register: true });
    });
  });

  describe('gateways', () => {
    it('lists the gateways of a carrier', async () => {
      const gateways = await lookupSipGatewaysByCarrier(db, s.carrierA.voip_carrier_sid);
      expect(gateways.map((g) => g.ipv4)).toEqual([
        '127.0.0.2',
        '127.0.0.20',
        '127.0.0.21',
        '127.0.0.22',
        'gw.carrier.test',
      ]);
      expect(gateways[0]).toMatchObject({
        netmask: 32,
        port: 5060,
        inbound: true,
        outbound: true,
        protocol: 'udp',
      });
    });

    it('matches a source exactly first (account-level carriers before SP-wide), then by CIDR', async () => {
      expect(describeGateways(await lookupInboundGateways(db, '127.0.0.2'))).toEqual([
        'carrier A 127.0.0.2',
        'SP-wide carrier 127.0.0.2',
        'wide range 127.0.0.0/16',
      ]);
    });

    it('orders CIDR matches from the most specific prefix, whether the prefix is in netmask or in ipv4', async () => {
      expect(describeGateways(await lookupInboundGateways(db, '127.0.3.200'))).toEqual([
        'range written in ipv4 127.0.3.128/25',
        'SP-wide carrier 127.0.3.0/24',
        'wide range 127.0.0.0/16',
      ]);
      expect(describeGateways(await lookupInboundGateways(db, '127.0.3.5'))).toEqual([
        'SP-wide carrier 127.0.3.0/24',
        'wide range 127.0.0.0/16',
      ]);
      expect(await lookupInboundGateways(db, '127.1.0.1')).toEqual([]);
    });

    it('skips outbound-only and inactive gateways and gateways of inactive carriers', async () => {
      for (const address of ['127.0.0.20', '127.0.0.5', '127.0.0.6']) {
        expect(describeGateways(await lookupInboundGateways(db, address))).toEqual([
          'wide range 127.0.0.0/16',
        ]);
      }
    });

    it('treats an IPv4-mapped IPv6 source as IPv4 and never range-matches other IPv6 or names', async () => {
      expect(describeGateways(await lookupInboundGateways(db, '::ffff:127.0.0.2'))[0]).toBe(
        'carrier A 127.0.0.2',
      );
      expect(await lookupInboundGateways(db, '::1')).toEqual([]);
      expect(await lookupInboundGateways(db, 'gw.carrier.test')).toEqual([]);
    });

    it("limits a lookup to an account's carriers plus SP-wide ones, or to given carriers", async () => {
      const forA = { accountSid: s.acctA.account_sid, serviceProviderSid: s.spA.service_provider_sid };
      expect(describeGateways(await lookupInboundGateways(db, '127.0.0.2', forA))).toEqual([
        'carrier A 127.0.0.2',
        'SP-wide carrier 127.0.0.2',
        'wide range 127.0.0.0/16',
      ]);
      const forOther = {
        accountSid: s.acctOther.account_sid,
        serviceProviderSid: s.spB.service_provider_sid,
      };
      expect(await lookupInboundGateways(db, '127.0.0.2', forOther)).toEqual([]);
      expect(describeGateways(await lookupInboundGateways(db, '127.0.0.7', forOther))).toEqual([
        'carrier B 127.0.0.7',
      ]);
      const spWideOnly = { voipCarrierSids: [s.carrierSpWide.voip_carrier_sid] };
      expect(describeGateways(await lookupInboundGateways(db, '127.0.3.9', spWideOnly))).toEqual([
        'SP-wide carrier 127.0.3.0/24',
      ]);
      expect(await lookupInboundGateways(db, '127.0.0.2', { voipCarrierSids: [] })).toEqual([]);
    });

    it('carries the carrier columns a classifier needs', async () => {
      const [best] = await lookupInboundGateways(db, '127.0.0.2');
      expect(best?.carrier).toEqual({
        voip_carrier_sid: s.carrierA.voip_carrier_sid,
        name: 'carrier A',
        account_sid: s.acctA.account_sid,
        service_provider_sid: s.spA.service_provider_sid,
        application_sid: s.appDefault.application_sid,
        is_active: true,
        trunk_type: 'static_ip',
        requires_register: false,
        register_username: null,
        register_password: null,
        dtmf_type: 'rfc2833',
      });
    });

    it('finds the gateway of a signalling address: same port, then no port, then another port, then CIDR', async () => {
      expect(describeGateways([(await lookupSipGatewayBySignalingAddress(db, '127.0.0.2', 5060))!])).toEqual([
        'carrier A 127.0.0.2',
      ]);
      expect(describeGateways([(await lookupSipGatewayBySignalingAddress(db, '127.0.0.2', 5070))!])).toEqual([
        'SP-wide carrier 127.0.0.2',
      ]);
      // Flags do not matter here: an outbound-only gateway is found too.
      expect((await lookupSipGatewayBySignalingAddress(db, '127.0.0.20'))?.sip_gateway_sid).toBe(
        s.carrierA.sip_gateway_sids[1],
      );
      expect(
        describeGateways([(await lookupSipGatewayBySignalingAddress(db, '127.0.3.130', 5060))!]),
      ).toEqual(['range written in ipv4 127.0.3.128/25']);
      expect(await lookupSipGatewayBySignalingAddress(db, '127.200.0.1', 5060)).toBeUndefined();
    });

    it('matches IPv6 sources: an exact gateway in any spelling, then IPv6 ranges by prefix', async () => {
      // Loopback only (DESIGN §6): ::1 exact (netmask 32, the portal's default, or 128) and ranges around it.
      const v6 = await seedCarrier(db, {
        name: 'ipv6 carrier',
        service_provider_sid: s.spA.service_provider_sid,
        gateways: [
          { ipv4: '0:0::1', port: null },
          { ipv4: '::', netmask: 120, port: null },
          { ipv4: '::/64', port: null },
          { ipv4: '::1', netmask: 128, port: 5070, inbound: false },
        ],
      });
      const scope = { voipCarrierSids: [v6.voip_carrier_sid] };
      expect(describeGateways(await lookupInboundGateways(db, '::1', scope))).toEqual([
        'ipv6 carrier 0:0::1',
        'ipv6 carrier ::',
        'ipv6 carrier ::/64',
      ]);
      expect(describeGateways(await lookupInboundGateways(db, '[::ff]', scope))).toEqual([
        'ipv6 carrier ::',
        'ipv6 carrier ::/64',
      ]);
      expect(describeGateways(await lookupInboundGateways(db, '::1:0', scope))).toEqual([
        'ipv6 carrier ::/64',
      ]);
      expect(await lookupInboundGateways(db, '127.0.0.1', scope)).toEqual([]);
      expect((await lookupSipGatewayBySignalingAddress(db, '::1', 5070))?.sip_gateway_sid).toBe(
        v6.sip_gateway_sids[3],
      );
      expect((await lookupSipGatewayBySignalingAddress(db, '0::0:1', 5060))?.sip_gateway_sid).toBe(
        v6.sip_gateway_sids[0],
      );
    });

    it('lists gateways to OPTIONS-ping (send_options_ping, outbound, active) and turns pinging off', async () => {
      const ping = await lookupGatewaysForOptionsPing(db);
      expect(describeGateways(ping)).toEqual(['carrier A 127.0.0.2']);
      expect(await updateSipGateway(db, ping[0]!.sip_gateway_sid, { send_options_ping: false })).toBe(true);
      expect(await lookupGatewaysForOptionsPing(db)).toEqual([]);
      expect(await updateSipGateway(db, '00000000-0000-0000-0000-000000000000', { is_active: false })).toBe(
        false,
      );
      await updateSipGateway(db, ping[0]!.sip_gateway_sid, { send_options_ping: true });
    });
  });

  describe('phone numbers', () => {
    const onA = () => ({ voipCarrierSids: [s.carrierA.voip_carrier_sid] });

    it('matches exactly, ignoring a leading +', async () => {
      const match = await lookupPhoneNumber(db, '+16173333456', onA());
      expect(match).toMatchObject({
        phone_number_sid: s.numbers.exact,
        match: 'exact',
        account_sid: s.acctA.account_sid,
        application_sid: s.appA.application_sid,
        voip_carrier_sid: s.carrierA.voip_carrier_sid,
      });
    });

    it('orders exact, then prefix wildcards longest first, then regular expressions longest first', async () => {
      const kinds = (await matchPhoneNumbers(db, '15082223333', onA())).map((m) => `${m.match} ${m.number}`);
      expect(kinds).toEqual([
        'wildcard 150822233*',
        'wildcard 1508222*',
        'wildcard 1508*',
        'regex ^1508[0-9]{7}$',
      ]);
      const withExact = (await matchPhoneNumbers(db, '15081234567', onA())).map(
        (m) => `${m.match} ${m.number}`,
      );
      expect(withExact).toEqual(['exact 15081234567', 'wildcard 1508*', 'regex ^1508[0-9]{7}$']);
    });

    it('picks the longest regular expression and ignores invalid ones', async () => {
      const matches = await matchPhoneNumbers(db, '10012345', onA());
      expect(matches.map((m) => m.number)).toEqual(['^10012', '^100']);
      expect(matches[0]).toMatchObject({ match: 'regex', application_sid: s.appRegex.application_sid });
      expect((await lookupPhoneNumber(db, '1009', onA()))?.number).toBe('^100');
    });

    it('rejects an exact number claimed by several carriers in scope', async () => {
      const both = { voipCarrierSids: [s.carrierA.voip_carrier_sid, s.carrierSpWide.voip_carrier_sid] };
      const err = await lookupPhoneNumber(db, '12125551212', both).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AmbiguousPhoneNumberError);
      expect((err as AmbiguousPhoneNumberError).phoneNumberSids).toHaveLength(2);
      expect((await lookupPhoneNumber(db, '12125551212', onA()))?.phone_number_sid).toBe(s.numbers.sharedOnA);
    });

    it('limits by account and returns nothing outside the scope', async () => {
      expect(
        (await lookupPhoneNumber(db, '12125551212', { accountSid: s.acctNoHook.account_sid }))
          ?.phone_number_sid,
      ).toBe(s.numbers.sharedOnSp);
      expect(await lookupPhoneNumber(db, '19998887777', onA())).toBeUndefined();
      expect(await lookupPhoneNumber(db, '4400000000', onA())).toBeUndefined();
      expect(await matchPhoneNumbers(db, '16173333456', { voipCarrierSids: [] })).toEqual([]);
    });
  });

  describe('applications', () => {
    it('finds an application with its hooks', async () => {
      expect(await lookupAppBySid(db, s.appA.application_sid)).toMatchObject({
        name: 'app A',
        account_sid: s.acctA.account_sid,
        record_all_calls: true,
        call_hook: { url: 'http://127.0.0.1:3000/call', method: 'POST' },
        call_status_hook: { url: 'http://127.0.0.1:3000/status', method: 'GET' },
      });
      const plain = await lookupAppBySid(db, s.appDefault.application_sid);
      expect(plain).toMatchObject({ name: 'default route', record_all_calls: false, call_hook: undefined });
      expect(await lookupAppBySid(db, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    });

    it('finds a Teams tenant by FQDN', async () => {
      expect(await lookupTeamsTenant(db, 'contoso.teams.test')).toEqual({
        ms_teams_tenant_sid: s.tenant,
        service_provider_sid: s.spA.service_provider_sid,
        account_sid: s.acctA.account_sid,
        application_sid: s.appA.application_sid,
        tenant_fqdn: 'contoso.teams.test',
      });
      expect(await lookupTeamsTenant(db, 'fabrikam.teams.test')).toBeUndefined();
    });
  });

  describe('sbc_addresses', () => {
    it('inserts an address once and refreshes it afterwards', async () => {
      await addSbcAddress(db, { ipv4: '127.0.0.1', tls_port: 5061 });
      await addSbcAddress(db, { ipv4: '127.0.0.1', tls_port: 5063, wss_port: 8443 });
      await addSbcAddress(db, { ipv4: '127.0.0.1', port: 5080 });
      const rows = await listSbcAddresses(db);
      expect(rows.map((r) => [r.ipv4, r.port, r.tls_port, r.wss_port])).toEqual([
        ['127.0.0.1', 5060, 5063, 8443],
        ['127.0.0.1', 5080, null, null],
      ]);
      expect(rows[0]!.last_updated).toBeInstanceOf(Date);
    });

    it('keeps one row when several SBC processes register the same address at once', async () => {
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => addSbcAddress(db, { ipv4: '127.0.0.30', wss_port: 8000 + i })),
      );
      expect((await listSbcAddresses(db)).filter((r) => r.ipv4 === '127.0.0.30')).toHaveLength(1);
    });

    it('refreshes every duplicate row a unique-key-less table may already hold', async () => {
      const stale = new Date(Date.now() - 7_200_000);
      await seedSbcAddress(db, { ipv4: '127.0.0.31', port: 5060, last_updated: stale });
      await seedSbcAddress(db, { ipv4: '127.0.0.31', port: 5060, last_updated: stale });
      await addSbcAddress(db, { ipv4: '127.0.0.31', tls_port: 5061 });
      const rows = (await listSbcAddresses(db)).filter((r) => r.ipv4 === '127.0.0.31');
      expect(rows.map((r) => r.tls_port)).toEqual([5061, 5061]);
      expect(rows.every((r) => r.last_updated !== null && r.last_updated > stale)).toBe(true);
    });

    it('deletes addresses not refreshed within the dead interval', async () => {
      await seedSbcAddress(db, { ipv4: '127.0.0.40', last_updated: new Date(Date.now() - 7_200_000) });
      await seedSbcAddress(db, { ipv4: '127.0.0.41', last_updated: null });
      expect(await cleanSbcAddresses(db, 3600)).toBe(2);
      const left = (await listSbcAddresses(db)).map((r) => r.ipv4);
      expect(left).not.toContain('127.0.0.40');
      expect(left).not.toContain('127.0.0.41');
      expect(left).toContain('127.0.0.1');
    });
  });

  describe('system_information', () => {
    it('reads the row, and a replaced row', async () => {
      expect(await lookupSystemInformation(db)).toEqual({
        domain_name: 'sbc.test',
        sip_domain_name: 'sip.sbc.test',
        monitoring_domain_name: null,
        private_network_cidr: '127.0.1.0/24,127.0.4.0/24',
        log_level: 'debug',
      });
      await seedSystemInformation(db, { private_network_cidr: '127.0.1.0/24' });
      expect(await lookupSystemInformation(db)).toMatchObject({
        private_network_cidr: '127.0.1.0/24',
        log_level: 'info',
      });
    });

    it('is undefined when the table is empty', async () => {
      await db.execute('DELETE FROM system_information');
      expect(await lookupSystemInformation(db)).toBeUndefined();
    });
  });

  describe('limits', () => {
    it('reads the capacities of the active subscription only', async () => {
      expect(await lookupAccountCapacities(db, s.acctA.account_sid)).toEqual([
        { category: 'voice_call_session', quantity: 10 },
        { category: 'device', quantity: 2 },
      ]);
      expect(await lookupAccountCapacities(db, s.acctNoHook.account_sid)).toEqual([]);
    });

    it('reads subscription, account and service provider call limits', async () => {
      expect(
        await lookupCallLimits(db, {
          accountSid: s.acctA.account_sid,
          serviceProviderSid: s.spA.service_provider_sid,
        }),
      ).toEqual({ subscription: 10, account: 3, service_provider: 50 });
      expect(
        await lookupCallLimits(db, {
          accountSid: s.acctOther.account_sid,
          serviceProviderSid: s.spB.service_provider_sid,
        }),
      ).toEqual({ subscription: undefined, account: undefined, service_provider: undefined });
    });

    it('computes device limits as sessions x device_to_call_ratio + devices', async () => {
      const acctA = (await lookupAccountBySid(db, s.acctA.account_sid))!;
      expect(await lookupDeviceLimit(db, acctA)).toBe(10 * 5 + 2);
      const hosted = (await lookupAccountBySid(db, s.acctHosted.account_sid))!;
      expect(hosted.device_to_call_ratio).toBe(0);
      expect(await lookupDeviceLimit(db, hosted)).toBe(2);
      const none = (await lookupAccountBySid(db, s.acctNoHook.account_sid))!;
      expect(await lookupDeviceLimit(db, none)).toBeUndefined();
    });
  });

  describe('demo data', () => {
    it('seeds a coherent demo data set on loopback addresses, once', async () => {
      const { db: demoDb } = await fixture().another();
      const demo = await seedDemo(demoDb, CIPHER);
      expect(demo.created).toBe(true);
      expect((await seedDemo(demoDb, CIPHER)).created).toBe(false);

      const account = await lookupAccountBySipRealm(demoDb, demo.sip_realm);
      expect(account).toMatchObject({
        account_sid: demo.account_sid,
        device_calling_application_sid: demo.application_sid,
      });
      for (const { username, password } of demo.clients) {
        expect(
          (await lookupClientByAccountAndUsername(demoDb, demo.account_sid, username, CIPHER))?.password,
        ).toBe(password);
      }
      expect((await lookupInboundGateways(demoDb, '127.0.0.2'))[0]?.carrier.voip_carrier_sid).toBe(
        demo.voip_carrier_sid,
      );
      expect((await lookupInboundGateways(demoDb, '127.0.2.77'))[0]?.netmask).toBe(24);
      const scope = { voipCarrierSids: [demo.voip_carrier_sid] };
      expect((await lookupPhoneNumber(demoDb, demo.phone_numbers.exact, scope))?.match).toBe('exact');
      expect((await lookupPhoneNumber(demoDb, '15085551234', scope))?.application_sid).toBe(
        demo.application_sid,
      );
      expect((await lookupSystemInformation(demoDb))?.private_network_cidr).toBe(demo.private_network_cidr);
      expect(
        await lookupCallLimits(demoDb, {
          accountSid: demo.account_sid,
          serviceProviderSid: demo.service_provider_sid,
        }),
      ).toEqual({ subscription: undefined, account: 10, service_provider: 100 });

      const addresses = await demoDb.select<{ ipv4: string }>('SELECT ipv4 FROM sip_gateways');
      expect(addresses.every((a) => a.ipv4.startsWith('127.'))).toBe(true);
      const urls = await demoDb.select<{ url: string }>('SELECT url FROM webhooks');
      expect(urls.length).toBeGreaterThan(0);
      expect(urls.every((u) => new URL(u.url).hostname.startsWith('127.'))).toBe(true);
    });
  });
}
