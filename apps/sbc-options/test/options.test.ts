import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, type Redis } from '@sbc/redis';
import {
  connectDrachtio,
  createLogger,
  createMetrics,
  createSrf,
  type DrachtioConnection,
  type Srf,
} from '@sbc/service';
import {
  freePort,
  runSipp,
  startRedis,
  waitUntil,
  type EngineService,
  type RedisService,
} from '@sbc/testkit';
import { createApp, type SbcOptionsApp } from '../src/app.js';
import {
  externalPing,
  fsPing,
  metricValue,
  rtpPing,
  scenario,
  startTestMysql,
  withEngine,
  type TestMysql,
} from './helpers.js';

/**
 * The OPTIONS handler in-process (createApp, as index.ts builds it) against the real SIP engine,
 * Redis and MariaDB, with sipp as feature servers (127.0.1.1x) and rtpengine sidecars (127.0.1.4x).
 */
const CLUSTER = 'opt';
const EXPIRES_MS = 4000;

let redis: RedisService;
let mysql: TestMysql;
let engine: EngineService;
let client: Redis;
let srf: Srf;
let drachtio: DrachtioConnection;
let app: SbcOptionsApp;
let metricsText: () => Promise<string>;
const fs1 = { ip: '127.0.1.11', port: 0 };
const fs2 = { ip: '127.0.1.12', port: 0 };
const fs3 = { ip: '127.0.1.13', port: 0 };
const rtp1 = { ip: '127.0.1.41', port: 0 };

beforeAll(async () => {
  [redis, mysql, engine] = await Promise.all([startRedis(), startTestMysql(), withEngine()]);
  for (const server of [fs1, fs2, fs3, rtp1]) server.port = await freePort(server.ip);
  client = createRedisClient({ host: redis.host, port: redis.port });
  const logger = createLogger({ level: 'silent', name: 'sbc-options' });
  const metrics = createMetrics({ defaultMetrics: false });
  srf = createSrf();
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
      clusterId: CLUSTER,
      logLevel: 'silent',
      networkCidrs: ['127.0.1.0/24'],
      expiresIntervalMs: EXPIRES_MS,
      checkExpiresIntervalMs: 200,
      sendOptionsPingIntervalSeconds: 60,
      optionsPingTtlSeconds: 300,
      optionsResponseRemove: [],
    },
    isEngineConnected: () => drachtio.isConnected(),
    canSendRequests: true,
  });
  metricsText = async () => {
    await app.refreshGauges();
    return metrics.registry.metrics();
  };
  await drachtio.connected(5000);
  await new Promise((r) => setTimeout(r, 100)); // srf's route verb lands right after authenticate
  await app.start();
});

afterAll(async () => {
  await app?.stop();
  await drachtio?.close();
  client?.disconnect();
  await engine?.stop();
  await Promise.all([redis?.stop(), mysql?.stop()]);
});

const members = (set: string): Promise<string[]> =>
  client.smembers(`${CLUSTER}:${set}`).then((m) => m.sort());

describe('status pings from feature servers and rtpengines', () => {
  it('adds a feature server that pings open as ip:port, with its service URL, and answers X-Members', async () => {
    const one = await fsPing(engine.sipTarget, fs1, 'open', 'http://127.0.1.11:3000');
    expect(one.result.ok, one.result.describe()).toBe(true);
    expect(one.members).toBe(1);
    const two = await fsPing(engine.sipTarget, fs2, 'open', 'http://127.0.1.12:3001');
    expect(two.members).toBe(2);
    const again = await fsPing(engine.sipTarget, fs2, 'open', 'http://127.0.1.12:3001');
    expect(again.members).toBe(2);
    expect(await members('active-fs')).toEqual([`${fs1.ip}:${fs1.port}`, `${fs2.ip}:${fs2.port}`]);
    expect(await members('fs-service-url')).toEqual(['http://127.0.1.11:3000', 'http://127.0.1.12:3001']);
    const seen = Number(await client.hget(`${CLUSTER}:active-fs:lastseen`, `${fs2.ip}:${fs2.port}`));
    expect(seen).toBeGreaterThan(Date.now() - 10_000);
  });

  it('removes a feature server (and its service URL) that pings closed', async () => {
    const closed = await fsPing(engine.sipTarget, fs2, 'closed', 'http://127.0.1.12:3001');
    expect(closed.result.ok, closed.result.describe()).toBe(true);
    expect(closed.members).toBe(1);
    expect(await members('active-fs')).toEqual([`${fs1.ip}:${fs1.port}`]);
    expect(await members('fs-service-url')).toEqual(['http://127.0.1.11:3000']);
  });

  it('keeps rtpengines in active-rtp by bare IP', async () => {
    const open = await rtpPing(engine.sipTarget, rtp1, 'open');
    expect(open.result.ok, open.result.describe()).toBe(true);
    expect(open.members).toBe(1);
    expect(await members('active-rtp')).toEqual([rtp1.ip]);
    const closed = await rtpPing(engine.sipTarget, rtp1, 'closed');
    expect(closed.members).toBe(0);
    expect(await members('active-rtp')).toEqual([]);
  });

  it('answers a plain OPTIONS (carrier, monitor) with 200 and no X-Members', async () => {
    const result = await externalPing(engine.sipTarget, '127.0.0.2');
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(/SIP\/2\.0 200 OK/);
    expect(result.messages).not.toMatch(/X-Members/i);
  });

  it('ignores status headers from outside JAMBONES_NETWORK_CIDR: plain 200, nothing stored, counted', async () => {
    const before = metricValue(await metricsText(), 'sbc_options_received_total', { kind: 'untrusted' }) ?? 0;
    const result = await runSipp({
      scenario: scenario('uac-status-untrusted'),
      target: engine.sipTarget,
      localAddress: '127.0.0.3',
      count: 2,
      timeoutMs: 10_000,
    });
    expect(result.ok, result.describe()).toBe(true);
    expect(await members('active-fs')).toEqual([`${fs1.ip}:${fs1.port}`]);
    expect(await members('active-rtp')).toEqual([]);
    expect(await members('fs-service-url')).toEqual(['http://127.0.1.11:3000']);
    const after = metricValue(await metricsText(), 'sbc_options_received_total', { kind: 'untrusted' });
    expect(after).toBe(before + 2);
  });

  it('keeps a drained feature server out while it pings open, by bare IP or by ip:port', async () => {
    await client.sadd(`${CLUSTER}:drained-fs`, fs3.ip);
    const byIp = await fsPing(engine.sipTarget, fs3, 'open');
    expect(byIp.result.ok, byIp.result.describe()).toBe(true);
    expect(byIp.members).toBe(1);
    expect(await members('active-fs')).toEqual([`${fs1.ip}:${fs1.port}`]);
    expect(await members('fs-service-url')).toEqual(['http://127.0.1.11:3000']);

    await client.srem(`${CLUSTER}:drained-fs`, fs3.ip);
    await client.sadd(`${CLUSTER}:drained-fs`, `${fs3.ip}:${fs3.port}`);
    const byHostPort = await fsPing(engine.sipTarget, fs3, 'open');
    expect(byHostPort.members).toBe(1);
    expect(await members('active-fs')).toEqual([`${fs1.ip}:${fs1.port}`]);

    const text = await metricsText();
    expect(metricValue(text, 'sbc_options_drained_checkins_total')).toBe(2);
    expect(metricValue(text, 'sbc_feature_servers', { state: 'drained_pinging' })).toBe(1);
    expect(metricValue(text, 'sbc_feature_servers', { state: 'drained' })).toBe(1);

    await client.srem(`${CLUSTER}:drained-fs`, `${fs3.ip}:${fs3.port}`);
    const back = await fsPing(engine.sipTarget, fs3, 'open');
    expect(back.members).toBe(2);
  });

  it('counts OPTIONS by kind and reports the sets in /metrics', async () => {
    const text = await metricsText();
    expect(
      metricValue(text, 'sbc_options_received_total', { kind: 'feature_server' }),
    ).toBeGreaterThanOrEqual(7);
    expect(metricValue(text, 'sbc_options_received_total', { kind: 'rtpengine' })).toBe(2);
    expect(metricValue(text, 'sbc_options_received_total', { kind: 'external' })).toBe(1);
    expect(metricValue(text, 'sbc_feature_servers', { state: 'active' })).toBe(2);
    expect(metricValue(text, 'sbc_rtpengines', { state: 'active' })).toBe(0);
  });
});

describe('expiry', () => {
  it('removes feature servers, service URLs and rtpengines not heard from for EXPIRES_INTERVAL', async () => {
    await Promise.all([
      fsPing(engine.sipTarget, fs1, 'open'),
      fsPing(engine.sipTarget, fs3, 'open'),
      rtpPing(engine.sipTarget, rtp1, 'open'),
    ]);
    expect((await members('active-fs')).length).toBe(2);
    expect(await members('active-rtp')).toEqual([rtp1.ip]);
    await waitUntil(
      async () =>
        (await members('active-fs')).length === 0 &&
        (await members('active-rtp')).length === 0 &&
        (await members('fs-service-url')).length === 0,
      { what: 'the silent servers to expire', timeoutMs: 4 * EXPIRES_MS, intervalMs: 100 },
    );
    expect(await client.hlen(`${CLUSTER}:active-fs:lastseen`)).toBe(0);
    const text = await metricsText();
    expect(metricValue(text, 'sbc_server_set_expired_total', { set: 'active-fs' })).toBe(2);
    expect(metricValue(text, 'sbc_server_set_expired_total', { set: 'active-rtp' })).toBe(1);
  });

  it('a sweep keeps members heard from within EXPIRES_INTERVAL and removes the others', async () => {
    const live = `${fs1.ip}:${fs1.port}`;
    const { members: count } = await fsPing(engine.sipTarget, fs1, 'open');
    expect(count).toBe(1);
    // A member some other SBC last heard from two intervals ago.
    await client.sadd(`${CLUSTER}:active-fs`, '127.0.1.19:5060');
    await client.hset(
      `${CLUSTER}:active-fs:lastseen`,
      '127.0.1.19:5060',
      String(Date.now() - 2 * EXPIRES_MS),
    );
    const removed = await app.sweeper.sweep();
    expect(removed['active-fs']).toEqual(['127.0.1.19:5060']);
    expect(await members('active-fs')).toEqual([live]);
  });

  it('answers 503 with Retry-After when Redis is gone, and recovers', async () => {
    await redis.stop();
    const down = await runSipp({
      scenario: scenario('uac-fs-status'),
      target: engine.sipTarget,
      localAddress: fs2.ip,
      localPort: fs2.port,
      keys: { status: 'open', service_url: 'http://127.0.1.12:3001', calls: 0 },
      timeoutMs: 10_000,
    });
    expect(down.ok).toBe(false);
    expect(down.messages).toMatch(/SIP\/2\.0 503[^\n]*\n[\s\S]*Retry-After: 5/);
    const external = await externalPing(engine.sipTarget, '127.0.0.2');
    expect(external.ok, external.describe()).toBe(true);
  });
});
