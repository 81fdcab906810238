import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisClient, type Redis } from '@sbc/redis';
import { freePort, startRedis, waitUntil, type EngineService, type RedisService } from '@sbc/testkit';
import {
  engineEnv,
  fsPing,
  metricValue,
  redisEnv,
  rtpPing,
  runCli,
  socketPath,
  spawnApp,
  startTestMysql,
  withEngine,
  type AppProcess,
  type TestMysql,
} from './helpers.js';

/**
 * Two SBCs (two engines, two `node dist/index.js`) on one Redis: feature servers ping both, as
 * jambonz feature servers ping every SBC. Short intervals: EXPIRES_INTERVAL 3 s, sweeps every 200 ms.
 */
const CLUSTER = 'duo';
const EXPIRES_MS = 3000;

let redis: RedisService;
let mysql: TestMysql;
let engines: EngineService[] = [];
let client: Redis;
let a: AppProcess;
let b: AppProcess;
const sockets = { a: socketPath(), b: socketPath() };
const fs21 = { ip: '127.0.1.21', port: 0 };
const fs22 = { ip: '127.0.1.22', port: 0 };
const rtp23 = { ip: '127.0.1.23', port: 0 };
const member = (s: { ip: string; port: number }): string => `${s.ip}:${s.port}`;
const activeFs = async (): Promise<string[]> => (await client.smembers(`${CLUSTER}:active-fs`)).sort();

function start(which: 'a' | 'b'): Promise<AppProcess> {
  const engine = engines[which === 'a' ? 0 : 1]!;
  return spawnApp({
    ...engineEnv(engine),
    ...redisEnv(redis),
    ...mysql.env,
    JAMBONES_CLUSTER_ID: CLUSTER,
    JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
    EXPIRES_INTERVAL: String(EXPIRES_MS),
    CHECK_EXPIRES_INTERVAL: '200',
    SBC_SOCKET_PATH: sockets[which],
  });
}

const target = (which: 'a' | 'b'): string => engines[which === 'a' ? 0 : 1]!.sipTarget;

beforeAll(async () => {
  let e1: EngineService;
  let e2: EngineService;
  [redis, mysql, e1, e2] = await Promise.all([startRedis(), startTestMysql(), withEngine(), withEngine()]);
  engines = [e1, e2];
  for (const server of [fs21, fs22, rtp23]) server.port = await freePort(server.ip);
  client = createRedisClient({ host: redis.host, port: redis.port });
  [a, b] = await Promise.all([start('a'), start('b')]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  client?.disconnect();
  await Promise.all(engines.map((e) => e.stop()));
  await Promise.all([redis?.stop(), mysql?.stop()]);
});

it('both instances maintain the same sets and answer the same X-Members', async () => {
  expect((await fsPing(target('a'), fs21, 'open')).members).toBe(1);
  expect((await fsPing(target('b'), fs22, 'open')).members).toBe(2);
  expect((await fsPing(target('b'), fs21, 'open')).members).toBe(2);
  expect((await fsPing(target('a'), fs22, 'open')).members).toBe(2);
  expect((await rtpPing(target('b'), rtp23, 'open')).members).toBe(1);
  expect(await activeFs()).toEqual([member(fs21), member(fs22)]);
  for (const app of [a, b]) {
    const text = await app.metrics();
    expect(metricValue(text, 'sbc_feature_servers', { state: 'active' })).toBe(2);
    expect(metricValue(text, 'sbc_rtpengines', { state: 'active' })).toBe(1);
  }
});

it('a drain through one instance is honoured by the other', async () => {
  const drained = await runCli(['fs', 'drain', fs22.ip], { SBC_SOCKET_PATH: sockets.a });
  expect(drained.code, drained.stderr).toBe(0);
  expect((await fsPing(target('b'), fs22, 'open')).members).toBe(1);
  expect(await activeFs()).toEqual([member(fs21)]);
  const listB = await runCli(['fs', 'list'], { SBC_SOCKET_PATH: sockets.b });
  expect(listB.stdout).toContain(`🔴 ${member(fs22)} (drained-and-still-pinging)\n`);
  const undrained = await runCli(['fs', 'undrain', fs22.ip], { SBC_SOCKET_PATH: sockets.b });
  expect(undrained.code, undrained.stderr).toBe(0);
  expect(await activeFs()).toEqual([member(fs21), member(fs22)]);
});

it('restarting an instance neither drops live members nor brings back dead ones', async () => {
  // Live: both servers just pinged. Restart A: its startup sweep must leave them in place.
  await Promise.all([fsPing(target('b'), fs21, 'open'), fsPing(target('b'), fs22, 'open')]);
  expect(await a.stop()).toBe(0);
  a = await start('a');
  expect(await activeFs()).toEqual([member(fs21), member(fs22)]);

  // Dead: a member last heard from long ago, left behind while no SBC was running (jambonz would
  // treat it as just seen at start). Both instances restart; the member goes, its time untouched.
  await Promise.all([a.stop(), b.stop()]);
  const dead = '127.0.1.29:5060';
  const longAgo = Date.now() - 10 * EXPIRES_MS;
  await client.sadd(`${CLUSTER}:active-fs`, dead);
  await client.hset(`${CLUSTER}:active-fs:lastseen`, dead, String(longAgo));
  [a, b] = await Promise.all([start('a'), start('b')]);
  await waitUntil(async () => !(await activeFs()).includes(dead), { what: `${dead} to be swept` });
  expect(await client.hget(`${CLUSTER}:active-fs:lastseen`, dead)).toBeNull();
  expect(a.logs.concat(b.logs).some((l) => Array.isArray(l.expired) && l.expired.includes(dead))).toBe(true);
});

it('a server one instance keeps hearing from stays; one nobody hears from expires everywhere', async () => {
  // fs21 keeps pinging A only, every EXPIRES_INTERVAL / 3; fs22 and the rtpengine go silent.
  const kept: boolean[] = [];
  let silent = false;
  while (!silent) {
    const { members } = await fsPing(target('a'), fs21, 'open');
    kept.push(members !== undefined && (await activeFs()).includes(member(fs21)));
    silent =
      !(await activeFs()).includes(member(fs22)) && (await client.scard(`${CLUSTER}:active-rtp`)) === 0;
    if (!silent) await new Promise((r) => setTimeout(r, EXPIRES_MS / 3));
  }
  expect(kept.every(Boolean)).toBe(true);
  expect(await activeFs()).toEqual([member(fs21)]);
  for (const app of [a, b]) {
    const text = await app.metrics();
    expect(metricValue(text, 'sbc_feature_servers', { state: 'active' })).toBe(1);
    expect(metricValue(text, 'sbc_rtpengines', { state: 'active' })).toBe(0);
  }
});
