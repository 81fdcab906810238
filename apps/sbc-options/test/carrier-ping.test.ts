import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedCarrier, seedServiceProvider } from '@sbc/db';
import { createRedisClient, type Redis } from '@sbc/redis';
import {
  connectDrachtio,
  createLogger,
  createMetrics,
  createSrf,
  type DrachtioConnection,
  type Metrics,
} from '@sbc/service';
import {
  freePort,
  startRedis,
  startSipp,
  waitUntil,
  type EngineService,
  type RedisService,
  type SippRun,
} from '@sbc/testkit';
import { createApp, type SbcOptionsApp } from '../src/app.js';
import { metricValue, scenario, startTestMysql, withEngine, type TestMysql } from './helpers.js';

/**
 * Carrier gateway OPTIONS pings, in-process, against a sipp gateway on 127.0.0.2 that answers 200,
 * then 503, then nothing at all; a second gateway answers 403, listed in OPTIONS_RESPONSE_REMOVE.
 */
const CARRIER = '127.0.0.2';
const TTL_SECONDS = 30;

let redis: RedisService;
let mysql: TestMysql;
let engine: EngineService;
let client: Redis;
let drachtio: DrachtioConnection;
let app: SbcOptionsApp;
let metrics: Metrics;
let gatewayPort: number;
let removedPort: number;
let gatewaySid: string;
let removedSid: string;
let carrierSid: string;
let uas: SippRun | undefined;
const logs: Record<string, unknown>[] = [];

const alerts = (kind: string) => logs.filter((l) => l.alert_type === kind);
const metricsText = () => metrics.registry.metrics();
const failedPings = async () =>
  metricValue(await metricsText(), 'sbc_carrier_gateway_pings_total', { result: 'failed' }) ?? 0;
const gatewayUp = async (sid: string) =>
  metricValue(await metricsText(), 'sbc_carrier_gateway_up', { sip_gateway_sid: sid });
const blacklisted = async () => (await client.exists(`blacklist-sip-gateway:${gatewaySid}`)) === 1;

function answering(status: 200 | 403 | 503, port = gatewayPort, count = 100_000): Promise<SippRun> {
  return startSipp({
    scenario: scenario(`uas-options-${status}`),
    localAddress: CARRIER,
    localPort: port,
    count,
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  [redis, mysql, engine] = await Promise.all([startRedis(), startTestMysql(), withEngine()]);
  client = createRedisClient({ host: redis.host, port: redis.port });
  gatewayPort = await freePort(CARRIER);
  removedPort = await freePort(CARRIER);
  const sp = await seedServiceProvider(mysql.db, { name: 'ping test SP' });
  const carrier = await seedCarrier(mysql.db, {
    service_provider_sid: sp.service_provider_sid,
    name: 'pinged carrier',
    gateways: [
      { ipv4: CARRIER, port: gatewayPort, inbound: false, send_options_ping: true, protocol: 'udp' },
      { ipv4: CARRIER, port: removedPort, inbound: false, send_options_ping: true, protocol: 'udp' },
      // Not pinged: no send_options_ping, or inbound only.
      { ipv4: CARRIER, port: 5999, send_options_ping: false },
      { ipv4: '127.0.2.0', netmask: 24, outbound: false, send_options_ping: true },
    ],
  });
  carrierSid = carrier.voip_carrier_sid;
  [gatewaySid = '', removedSid = ''] = carrier.sip_gateway_sids;

  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const logger = createLogger({ level: 'info', name: 'sbc-options', destination });
  metrics = createMetrics({ defaultMetrics: false });
  const srf = createSrf();
  drachtio = connectDrachtio(
    srf,
    { mode: 'dial', host: engine.host, port: engine.port, secret: engine.secret },
    logger,
  );
  app = createApp({
    srf,
    redis: createRedisClient({ host: redis.host, port: redis.port }),
    db: mysql.db,
    logger,
    metrics,
    settings: {
      clusterId: 'ping',
      logLevel: 'silent',
      networkCidrs: ['127.0.1.0/24'],
      expiresIntervalMs: 60_000,
      checkExpiresIntervalMs: 20_000,
      sendOptionsPingIntervalSeconds: 1,
      optionsPingTtlSeconds: TTL_SECONDS,
      optionsResponseRemove: [403, 488],
    },
    isEngineConnected: () => drachtio.isConnected(),
    canSendRequests: true,
  });
  await drachtio.connected(5000);
  uas = await answering(200);
  const refuser = await answering(403, removedPort, 1);
  await app.start();
  const refused = await refuser.done;
  expect(refused.ok, refused.describe()).toBe(true);
});

afterAll(async () => {
  await app?.stop();
  await drachtio?.close();
  await uas?.stop();
  client?.disconnect();
  await engine?.stop();
  await Promise.all([redis?.stop(), mysql?.stop()]);
});

it('pings each active outbound gateway with send_options_ping; 200 keeps it up and off the blacklist', async () => {
  await waitUntil(async () => (await gatewayUp(gatewaySid)) === 1, { what: 'gateway up' });
  expect(await blacklisted()).toBe(false);
  expect(alerts('options-ping-failed').filter((a) => a.sip_gateway_sid === gatewaySid)).toEqual([]);
  const text = await metricsText();
  expect(text).toContain(`gateway="${CARRIER}:${gatewayPort};transport=udp"`);
  expect(text).not.toContain(':5999;');
  expect(text).not.toContain('127.0.2.0');
});

it('turns pinging off in MySQL for a code in OPTIONS_RESPONSE_REMOVE, with an alert', async () => {
  await waitUntil(() => Promise.resolve(alerts('options-ping-disabled').length === 1), {
    what: 'the disabled alert',
  });
  const [row] = await mysql.db.select<{ send_options_ping: number | boolean }>(
    'SELECT send_options_ping FROM sip_gateways WHERE sip_gateway_sid = ?',
    [removedSid],
  );
  expect(Boolean(row?.send_options_ping)).toBe(false);
  expect(alerts('options-ping-disabled')[0]).toMatchObject({
    level: 50,
    sip_gateway_sid: removedSid,
    voip_carrier_sid: carrierSid,
    msg: `Disabling Options ping for ${CARRIER} in carrier pinged carrier(${carrierSid})`,
  });
  expect(await gatewayUp(removedSid)).toBeUndefined();
  // The refused gateway's failure opened its own episode: one options-ping-failed alert for it.
  expect(alerts('options-ping-failed').map((a) => a.sip_gateway_sid)).toEqual([removedSid]);
});

it('503: blacklists the gateway with OPTIONS_PING_TTL and writes one alert for the episode', async () => {
  // Swap the gateway's answer between two rounds (a gap would be a silence, a 408).
  await app.pinger?.stop();
  const served = await uas?.stop();
  expect(served?.messages).toMatch(
    new RegExp(`OPTIONS sip:${CARRIER.replace(/\./g, '\\.')}:${gatewayPort} SIP/2\\.0`),
  );
  uas = await answering(503);
  app.pinger?.start();
  await waitUntil(blacklisted, { what: `blacklist-sip-gateway:${gatewaySid}` });
  expect(await client.get(`blacklist-sip-gateway:${gatewaySid}`)).toBe('1');
  const ttl = await client.ttl(`blacklist-sip-gateway:${gatewaySid}`);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(TTL_SECONDS);
  expect(await gatewayUp(gatewaySid)).toBe(0);

  // Two more failed rounds: still one alert.
  const failed = await failedPings();
  await waitUntil(async () => (await failedPings()) >= failed + 2, { what: 'two more failed pings' });
  const mine = alerts('options-ping-failed').filter((a) => a.sip_gateway_sid === gatewaySid);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({
    level: 50,
    voip_carrier_sid: carrierSid,
    msg: `Options ping ${CARRIER}:${gatewayPort};transport=udp unsuccessfully, received: 503`,
  });
  expect(metricValue(await metricsText(), 'sbc_alerts_total', { alert_type: 'options-ping-failed' })).toBe(2);
});

it('no answer at all: stays blacklisted within the same episode', async () => {
  const served = await uas?.stop();
  expect(served?.messages).toContain('SIP/2.0 503 Service Unavailable');
  uas = undefined;
  await client.expire(`blacklist-sip-gateway:${gatewaySid}`, 3);
  const failed = await failedPings();
  await waitUntil(async () => (await failedPings()) >= failed + 2, { what: 'two unanswered pings' });
  expect(await blacklisted()).toBe(true);
  expect(await client.ttl(`blacklist-sip-gateway:${gatewaySid}`)).toBeGreaterThan(3);
  expect(alerts('options-ping-failed').filter((a) => a.sip_gateway_sid === gatewaySid)).toHaveLength(1);
});

it('200 again clears the blacklist; the next silence is a new episode with a new alert (408)', async () => {
  await app.pinger?.stop();
  uas = await answering(200);
  app.pinger?.start();
  await waitUntil(async () => !(await blacklisted()), { what: 'the blacklist key to be cleared' });
  expect(await gatewayUp(gatewaySid)).toBe(1);
  await uas.stop();
  uas = undefined;
  await waitUntil(blacklisted, { what: 'the gateway to be blacklisted again' });
  const mine = alerts('options-ping-failed').filter((a) => a.sip_gateway_sid === gatewaySid);
  expect(mine.map((a) => a.msg)).toEqual([
    `Options ping ${CARRIER}:${gatewayPort};transport=udp unsuccessfully, received: 503`,
    `Options ping ${CARRIER}:${gatewayPort};transport=udp unsuccessfully, received: 408`,
  ]);
  expect(
    logs.some(
      (l) => l.msg === `carrier gateway ${CARRIER}:${gatewayPort};transport=udp answers OPTIONS again`,
    ),
  ).toBe(true);
});
