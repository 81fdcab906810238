/**
 * Outbound registration to carriers: sipp UASes on 127.0.0.x play the carriers' registrars (401 then
 * 200 with verifyauth, 407, 403, silence); the registrar reads the carriers from MariaDB, REGISTERs
 * through the real engine, and writes back register_status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lookupCarrierBySid,
  parseRegisterStatus,
  seedAccount,
  seedCarrier,
  seedServiceProvider,
  seedSystemInformation,
  type RegisterStatus,
} from '@sbc/db';
import { digestResponse, startSipp, waitUntil, type SippRun } from '@sbc/testkit';
import {
  metricValue,
  scenario,
  startRegistrar,
  startStack,
  type RunningRegistrar,
  type Stack,
} from './helpers.js';

let stack: Stack;
let registrar: RunningRegistrar;
const uases: SippRun[] = [];
const sids: Record<'westco' | 'proxied' | 'refusing' | 'silent' | 'trunk', string> = {
  westco: '',
  proxied: '',
  refusing: '',
  silent: '',
  trunk: '',
};
let westcoGateway = '';

async function uas(name: string, address: string, keys: Record<string, string | number>): Promise<SippRun> {
  const run = await startSipp({ scenario: scenario(name), localAddress: address, keys, timeoutMs: 120_000 });
  uases.push(run);
  return run;
}

async function status(sid: string): Promise<RegisterStatus | undefined> {
  stack.db.clearCache();
  const carrier = await lookupCarrierBySid(stack.db, sid);
  return carrier ? parseRegisterStatus(carrier) : undefined;
}

async function waitForStatus(sid: string, test: (s: RegisterStatus) => boolean, what: string) {
  await waitUntil(
    async () => {
      const s = await status(sid);
      return s !== undefined && test(s);
    },
    { what, timeoutMs: 10_000 },
  );
  return (await status(sid))!;
}

let westcoUas: SippRun;
let proxiedUas: SippRun;
let refusingUas: SippRun;
let trunkUas: SippRun;

beforeAll(async () => {
  stack = await startStack();
  [westcoUas, proxiedUas, refusingUas, trunkUas] = await Promise.all([
    uas('uas-register-401', '127.0.0.2', {
      realm: 'sip.carrier.test',
      user: 'foo',
      password: 'bar',
      expires: 2,
    }),
    uas('uas-register-407', '127.0.0.4', { realm: 'proxy.carrier.test', expires: 600 }),
    uas('uas-register-403', '127.0.0.5', {}),
    uas('uas-register-401', '127.0.0.7', {
      realm: 'trunk.carrier.test',
      user: 'tr',
      password: 'unk',
      expires: 600,
    }),
  ]);
  const silentUas = await uas('uas-register-silent', '127.0.0.6', {});

  const sp = await seedServiceProvider(stack.db);
  const account = await seedAccount(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'acct.sbc.test',
  });
  await seedSystemInformation(stack.db, { sip_domain_name: 'sip.sbc.test' });
  const westco = await seedCarrier(stack.db, {
    name: 'westco',
    service_provider_sid: sp.service_provider_sid,
    requires_register: true,
    register_username: 'foo',
    register_password: 'bar',
    register_sip_realm: 'sip.carrier.test',
    register_from_user: 'reguser',
    register_from_domain: 'regdomain.test',
    gateways: [
      { ipv4: '127.0.0.2', port: westcoUas.localPort },
      // inbound only: never registered to
      { ipv4: '127.0.0.20', port: 5060, outbound: false },
    ],
  });
  const proxied = await seedCarrier(stack.db, {
    name: 'proxied',
    service_provider_sid: sp.service_provider_sid,
    account_sid: account.account_sid,
    requires_register: true,
    register_username: 'proxyuser',
    register_password: 'proxypass',
    register_sip_realm: 'proxy.carrier.test',
    gateways: [{ ipv4: '127.0.0.4', port: proxiedUas.localPort }],
  });
  const refusing = await seedCarrier(stack.db, {
    name: 'refusing',
    service_provider_sid: sp.service_provider_sid,
    requires_register: true,
    register_username: 'x',
    register_password: 'y',
    gateways: [{ ipv4: '127.0.0.5', port: refusingUas.localPort }],
  });
  const silent = await seedCarrier(stack.db, {
    name: 'silent',
    service_provider_sid: sp.service_provider_sid,
    requires_register: true,
    register_username: 'x',
    register_password: 'y',
    gateways: [{ ipv4: '127.0.0.6', port: silentUas.localPort }],
  });
  const trunk = await seedCarrier(stack.db, {
    name: 'trunk',
    service_provider_sid: sp.service_provider_sid,
    trunk_type: 'reg',
    requires_register: true,
    register_username: 'tr',
    register_password: 'unk',
    register_sip_realm: 'trunk.carrier.test',
    register_public_ip_in_contact: true,
    gateways: [{ ipv4: '127.0.0.7', port: trunkUas.localPort }],
  });
  sids.westco = westco.voip_carrier_sid;
  westcoGateway = westco.sip_gateway_sids[0]!;
  sids.proxied = proxied.voip_carrier_sid;
  sids.refusing = refusing.voip_carrier_sid;
  sids.silent = silent.voip_carrier_sid;
  sids.trunk = trunk.voip_carrier_sid;

  registrar = await startRegistrar(
    stack,
    { SBC_REGBOT: '1', REGISTER_RESPONSE_REMOVE: '403', JAMBONES_REGBOT_REGISTER_FAILURE_THRESHOLD: '2' },
    (o) => ({
      ...o,
      regbot: {
        ...o.regbot!,
        minExpires: 1,
        initialDelayMs: 0,
        checkIntervalMs: 300,
        lockTtlMs: 1500,
        failureRetryMs: 300,
        requestTimeoutMs: 1000,
        batchSleepMs: 10,
      },
    }),
  );
});

afterAll(async () => {
  await registrar?.stop();
  await Promise.all(uases.map((u) => u.stop()));
  await stack?.stop();
});

describe('regbot', () => {
  it('takes the regbot token and registers with digest on 401 (verifyauth), with the jambonz headers', async () => {
    const s = await waitForStatus(sids.westco, (x) => x.status === 'ok', 'westco registered');
    expect(s).toMatchObject({ status: 'ok', reason: '200 OK', callId: westcoGateway });
    expect(new Date(s.timestamp!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await registrar.redis.get('default:regbot-token')).toBe(registrar.app.regbot!.lock.token);
    expect(registrar.app.regbot!.isLeader()).toBe(true);
  });

  it('refreshes at expires/2 (the carrier grants 2 s; MIN lowered to 1 s)', async () => {
    // Two REGISTERs (401 + credentials) per registration: the CSeq passes 4 after the first refresh.
    const s = await waitForStatus(
      sids.westco,
      (x) => x.status === 'ok' && (x.cseq ?? 0) >= 4,
      'westco refreshed',
    );
    expect(s.expires).toBe(2);
  });

  it('answers a 407 with Proxy-Authorization and a correct digest', async () => {
    await waitForStatus(sids.proxied, (x) => x.status === 'ok', 'proxied registered');
  });

  it('after repeated REGISTER_RESPONSE_REMOVE answers (403 × threshold) disables the carrier', async () => {
    await waitUntil(
      async () => {
        stack.db.clearCache();
        return (await lookupCarrierBySid(stack.db, sids.refusing))?.requires_register === false;
      },
      { what: 'the refusing carrier disabled', timeoutMs: 10_000 },
    );
    expect(await status(sids.refusing)).toMatchObject({ status: 'fail', reason: '403 Forbidden' });
    expect(metricValue(await registrar.scrape(), 'sbc_alerts_total', { alert_type: 'regbot-disabled' })).toBe(
      1,
    );
  });

  it('records a carrier that never answers as 408 and retries', async () => {
    const s = await waitForStatus(sids.silent, (x) => x.status === 'fail', 'silent failed');
    expect(s.reason).toBe('408 Request Timeout');
  });

  it('stores the gateway of a registration trunk in eph-gw-ip:<ip>', async () => {
    const s = await waitForStatus(sids.trunk, (x) => x.status === 'ok', 'trunk registered');
    const expiry = Number(await registrar.redis.hget('eph-gw-ip:127.0.0.7', sids.trunk));
    expect(expiry).toBeGreaterThan(Date.now() / 1000 + (s.expires ?? 0) - 30);
    expect(await registrar.redis.ttl('eph-gw-ip:127.0.0.7')).toBeGreaterThan(7000);
  });

  it('picks up a carrier edited in MySQL without a restart, and stops one no longer registering', async () => {
    const replacement = await uas('uas-register-401', '127.0.0.8', {
      realm: 'sip.carrier.test',
      user: 'foo',
      password: 'new-secret',
      expires: 600,
    });
    await stack.db.execute('UPDATE voip_carriers SET register_password = ? WHERE voip_carrier_sid = ?', [
      'new-secret',
      sids.westco,
    ]);
    await stack.db.execute('UPDATE sip_gateways SET ipv4 = ?, port = ? WHERE sip_gateway_sid = ?', [
      '127.0.0.8',
      replacement.localPort,
      westcoGateway,
    ]);
    await waitForStatus(sids.westco, (x) => x.status === 'ok' && x.expires === 600, 'westco re-registered');
    await stack.db.execute('UPDATE voip_carriers SET requires_register = 0 WHERE voip_carrier_sid = ?', [
      sids.proxied,
    ]);
    await waitUntil(
      () => Promise.resolve(!registrar.app.regbot!.regbots().some((b) => b.spec.carrierSid === sids.proxied)),
      { what: 'the proxied regbot stopped', timeoutMs: 5000 },
    );
  });

  it('sent what jambonz sends: Request-URI, From/To, Contact, Call-ID, Expires, digest', async () => {
    // The UASes loop for refreshes; stop them all at once (each waits for sipp to quit).
    const [westco, proxied, trunk, refusing] = await Promise.all([
      westcoUas.stop(),
      proxiedUas.stop(),
      trunkUas.stop(),
      refusingUas.stop(),
    ]);
    const register =
      /REGISTER sip:sip\.carrier\.test SIP\/2\.0[\s\S]*?\r?\n\r?\n/.exec(westco.messages)?.[0] ?? '';
    expect(register).toMatch(/From: <sip:reguser@regdomain\.test>;tag=/);
    expect(register).toMatch(/To: <sip:reguser@regdomain\.test>/);
    // SP-wide carrier: Contact host = system_information.sip_domain_name
    expect(register).toMatch(/Contact: <sip:reguser@sip\.sbc\.test;transport=udp>;expires=3600/);
    expect(register).toContain(`Call-ID: ${westcoGateway}`);
    expect(register).toMatch(/Expires: 3600/);
    expect(register).toMatch(/User-Agent: sbc-registrar\//);

    // Account-level carrier: Contact host = the account's sip_realm.
    expect(proxied.messages).toMatch(/Contact: <sip:proxyuser@acct\.sbc\.test;transport=udp>;expires=3600/);
    const challenge = /Proxy-Authenticate: Digest realm="proxy\.carrier\.test", nonce="([^"]+)"/.exec(
      proxied.messages,
    );
    const answer = /Proxy-Authorization: (Digest .*)/.exec(proxied.messages)?.[1] ?? '';
    const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(answer)?.[1];
    expect(param('nonce')).toBe(challenge?.[1]);
    expect(param('response')).toBe(
      digestResponse({
        username: 'proxyuser',
        realm: 'proxy.carrier.test',
        password: 'proxypass',
        method: 'REGISTER',
        uri: param('uri') ?? '',
        nonce: challenge?.[1] ?? '',
      }),
    );

    // register_public_ip_in_contact: the engine's own address.
    const udp = stack.engine.sip.find((s) => s.protocol === 'udp')!;
    expect(trunk.messages).toContain(`Contact: <sip:tr@${udp.host}:${udp.port};transport=udp>;expires=3600`);

    // Exactly the threshold's two refused transactions, and nothing once the carrier is disabled.
    const branches = new Set(
      [
        ...refusing.messages.matchAll(
          /^REGISTER sip:127\.0\.0\.5 SIP\/2\.0\r?\nVia: [^\r\n]*branch=([^;\s]+)/gm,
        ),
      ].map((m) => m[1]),
    );
    expect(branches.size, refusing.messages).toBe(2);
  });
});
