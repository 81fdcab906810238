import { describe, expect, it } from 'vitest';
import type { RegistrationCarrier, SipGateway, VoipCarrier } from '@sbc/db';
import { grantedExpires } from './regbot.js';
import { resolveGatewayAddresses } from './resolve.js';
import { buildRegbotSpecs, publicHostport, transportOf } from './spec.js';

const carrier = (c: Partial<VoipCarrier> = {}): VoipCarrier =>
  ({
    voip_carrier_sid: 'c1',
    name: 'carrier',
    account_sid: null,
    requires_register: true,
    register_username: 'user',
    register_password: 'pass',
    register_sip_realm: null,
    register_from_user: null,
    register_from_domain: null,
    register_public_ip_in_contact: false,
    outbound_sip_proxy: null,
    trunk_type: 'static_ip',
    is_active: true,
    ...c,
  }) as VoipCarrier;

const gateway = (g: Partial<SipGateway> = {}): SipGateway =>
  ({
    sip_gateway_sid: 'g1',
    voip_carrier_sid: 'c1',
    ipv4: '127.0.0.2',
    port: 5060,
    protocol: 'udp',
    use_sips_scheme: false,
    outbound: true,
    is_active: true,
    ...g,
  }) as SipGateway;

const entry = (c: Partial<VoipCarrier>, gateways: SipGateway[], account_sip_realm: string | null = null) =>
  ({ carrier: carrier(c), account_sip_realm, gateways }) satisfies RegistrationCarrier;

const HOSTPORTS = [
  { protocol: 'udp', host: '127.0.0.1', port: 5060 },
  { protocol: 'tcp', host: '127.0.0.1', port: 5060 },
];
const context = { defaultExpires: 3600, contactUseIp: false, sipDomainName: undefined, hostports: HOSTPORTS };

describe('buildRegbotSpecs (jambonz regbot rules)', () => {
  it('uses the gateway address as realm and the AOR as Contact when nothing else is set', () => {
    const { specs } = buildRegbotSpecs([entry({}, [gateway()])], context);
    expect(specs).toHaveLength(1);
    expect(specs[0]).toMatchObject({
      uri: 'sip:127.0.0.2',
      proxy: 'sip:127.0.0.2:5060;transport=udp',
      from: '<sip:user@127.0.0.2>',
      contact: '<sip:user@127.0.0.2;transport=udp>;expires=3600',
      auth: { username: 'user', password: 'pass' },
      dedupeKey: '127.0.0.2:127.0.0.2:user:pass',
    });
  });

  it('realm, from user and domain, outbound proxy, sips over tls', () => {
    const { specs } = buildRegbotSpecs(
      [
        entry(
          {
            register_sip_realm: 'sip.carrier.test',
            register_from_user: 'fromuser',
            register_from_domain: 'from.test',
            outbound_sip_proxy: 'proxy.carrier.test:5070',
          },
          [gateway({ protocol: 'tls/srtp', use_sips_scheme: true })],
        ),
      ],
      { ...context, sipDomainName: 'sip.sbc.test' },
    );
    expect(specs[0]).toMatchObject({
      uri: 'sips:sip.carrier.test',
      proxy: 'sip:proxy.carrier.test:5070;transport=tls',
      from: '<sip:fromuser@from.test>',
      contact: '<sips:fromuser@sip.sbc.test;transport=tls>;expires=3600',
    });
  });

  it('Contact host: public address, else the account realm, else the system SIP domain', () => {
    const withIp = buildRegbotSpecs(
      [entry({ register_public_ip_in_contact: true }, [gateway()], 'acct.test')],
      context,
    );
    expect(withIp.specs[0]?.contact).toBe('<sip:user@127.0.0.1:5060;transport=udp>;expires=3600');
    const account = buildRegbotSpecs([entry({}, [gateway()], 'acct.test')], {
      ...context,
      sipDomainName: 'sys.test',
    });
    expect(account.specs[0]?.contact).toBe('<sip:user@acct.test;transport=udp>;expires=3600');
    const global = buildRegbotSpecs([entry({}, [gateway()])], { ...context, contactUseIp: true });
    expect(global.specs[0]?.contact).toBe('<sip:user@127.0.0.1:5060;transport=udp>;expires=3600');
  });

  it('no port in the proxy for a DNS name (SRV), skips gateways without password, de-duplicates, reports bad domains', () => {
    const { specs, problems } = buildRegbotSpecs(
      [
        entry({}, [gateway({ ipv4: 'gw.carrier.test', port: 5080 })]),
        entry({ voip_carrier_sid: 'c2', register_password: null }, [gateway({ sip_gateway_sid: 'g2' })]),
        entry({ voip_carrier_sid: 'c3' }, [
          gateway({ sip_gateway_sid: 'g3' }),
          gateway({ sip_gateway_sid: 'g4' }),
        ]),
        entry({ voip_carrier_sid: 'c4', register_from_domain: 'bad domain!' }, [
          gateway({ sip_gateway_sid: 'g5' }),
        ]),
      ],
      context,
    );
    expect(specs.map((s) => [s.gatewaySid, s.proxy])).toEqual([
      ['g1', 'sip:gw.carrier.test;transport=udp'],
      ['g3', 'sip:127.0.0.2:5060;transport=udp'],
    ]);
    expect(problems).toEqual([
      { carrierSid: 'c4', gatewaySid: 'g5', message: 'invalid register_from_domain bad domain!' },
    ]);
  });

  it('changes the config key when anything of the REGISTER changes', () => {
    const key = (c: Partial<VoipCarrier>) =>
      buildRegbotSpecs([entry(c, [gateway()])], context).specs[0]?.configKey;
    expect(key({})).toBe(key({}));
    expect(key({ register_password: 'other' })).not.toBe(key({}));
    expect(key({ register_from_user: 'x' })).not.toBe(key({}));
  });

  it('transport and public hostport helpers', () => {
    expect(transportOf({ protocol: null })).toBe('udp');
    expect(transportOf({ protocol: 'tls/srtp' })).toBe('tls');
    expect(publicHostport(HOSTPORTS, 'tls')).toBe('127.0.0.1:5061');
    expect(publicHostport(HOSTPORTS, 'tcp')).toBe('127.0.0.1:5060');
  });
});

describe('grantedExpires (jambonz: default < Expires header < first Contact expires; MIN floor)', () => {
  const res = (headers: Record<string, string>) => ({ get: (name: string) => headers[name] });
  it('applies the precedence and the floor', () => {
    expect(grantedExpires(res({}), 3600, 30)).toBe(3600);
    expect(grantedExpires(res({ Expires: '600' }), 3600, 30)).toBe(600);
    expect(grantedExpires(res({ Expires: '600', Contact: '<sip:a@127.0.0.2>;expires=120' }), 3600, 30)).toBe(
      120,
    );
    expect(grantedExpires(res({ Expires: '10' }), 3600, 30)).toBe(30);
    expect(grantedExpires(res({ Expires: 'soon' }), 3600, 30)).toBe(30);
  });
});

describe('resolveGatewayAddresses', () => {
  const resolver = {
    resolve4: (host: string) =>
      host === 'a.carrier.test' ? Promise.resolve(['127.0.0.11']) : Promise.reject(new Error('ENOTFOUND')),
    resolveSrv: (name: string) =>
      name === '_sip._udp.srv.carrier.test'
        ? Promise.resolve([{ name: 'a.carrier.test', port: 5060 }])
        : Promise.reject(new Error('ENODATA')),
  };
  it('IP as is, A records with a port, SRV then A without, nothing when nothing resolves', async () => {
    expect(
      await resolveGatewayAddresses({ host: '127.0.0.2', port: null, transport: 'udp' }, resolver),
    ).toEqual(['127.0.0.2']);
    expect(
      await resolveGatewayAddresses({ host: 'a.carrier.test', port: 5060, transport: 'udp' }, resolver),
    ).toEqual(['127.0.0.11']);
    expect(
      await resolveGatewayAddresses({ host: 'srv.carrier.test', port: null, transport: 'udp' }, resolver),
    ).toEqual(['127.0.0.11']);
    expect(
      await resolveGatewayAddresses({ host: 'a.carrier.test', port: null, transport: 'tcp' }, resolver),
    ).toEqual(['127.0.0.11']);
    expect(
      await resolveGatewayAddresses({ host: 'none.carrier.test', port: null, transport: 'udp' }, resolver),
    ).toEqual([]);
  });
});
