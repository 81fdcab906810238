/**
 * The engine's edge protection, end to end: the engine CLI with drachtio-server's options and ours,
 * a real Redis for the blacklist, sipp and raw UDP/TCP clients on their own loopback addresses. No
 * app is connected, so every request that gets through is answered 503 by the engine itself.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freeTcpPort,
  metricValue,
  runSipp,
  startEngine,
  startRedis,
  waitUntil,
  type EngineService,
  type RedisService,
} from '@sbc/testkit';
import { optionsRequest, sleep, tcpConnect, UdpProbe } from './client.js';

const scanner = fileURLToPath(new URL('./scenarios/options-uac-scanner.xml', import.meta.url));
const KEY = 'blacklist-sip-ips';

/** drachtio-server's blacklist options for `redis`, read every second. */
function blacklistArgs(redis: RedisService): string[] {
  return [
    '--blacklist-redis-address',
    redis.host,
    '--blacklist-redis-port',
    String(redis.port),
    '--blacklist-redis-key',
    KEY,
    '--blacklist-refresh-secs',
    '1',
  ];
}

async function metrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

describe('engine edge protection (defaults, blacklist, rate limit, private network)', () => {
  let redis: RedisService;
  let client: Redis;
  let engine: EngineService;
  let metricsPort: number;
  let host: string;
  let port: number;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis({ host: redis.host, port: redis.port, db: redis.db, lazyConnect: true });
    await client.connect();
    metricsPort = await freeTcpPort();
    engine = await startEngine({
      extraArgs: [
        ...blacklistArgs(redis),
        '--rate-limit-requests',
        '20',
        '--rate-limit-window-secs',
        '2',
        '--rate-limit-ban-secs',
        '2',
        '--edge-allow',
        '127.0.2.0/24',
        '--prometheus-scrape-port',
        `127.0.0.1:${metricsPort}`,
      ],
      env: { JAMBONES_NETWORK_CIDR: '127.0.1.0/24' },
    });
    [host, port] = [engine.sipTarget.split(':')[0]!, Number(engine.sipTarget.split(':')[1])];
  });
  afterAll(async () => {
    await engine?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  it('drops a scanner by default: sipvicious gets no answer, a phone does', async () => {
    const probe = await UdpProbe.open('127.0.0.11');
    try {
      expect(await probe.burst(3, host, port, { userAgent: 'friendly-scanner' })).toBe(0);
      expect(await probe.burst(1, host, port, { expect: 1, userAgent: 'Yealink SIP-T46S' })).toBe(1);
      expect(probe.responses[0]).toMatch(/^SIP\/2\.0 503 /);
    } finally {
      probe.close();
    }
    const text = await metrics(metricsPort);
    expect(
      metricValue(text, 'sbc_sip_engine_edge_dropped_total', { reason: 'spammer', protocol: 'udp' }),
    ).toBe(3);
  });

  it('drops every message from an IP in the Redis set within the refresh interval, and lets it back when removed', async () => {
    const probe = await UdpProbe.open('127.0.0.12');
    const other = await UdpProbe.open('127.0.0.13');
    try {
      expect(await probe.burst(1, host, port, { expect: 1 })).toBe(1);
      await client.sadd(KEY, '127.0.0.12');
      await sleep(1500);
      expect(await probe.burst(3, host, port)).toBe(0);
      expect(await other.burst(1, host, port, { expect: 1 })).toBe(1);
      const text = await metrics(metricsPort);
      expect(
        metricValue(text, 'sbc_sip_engine_edge_dropped_total', { reason: 'blacklist', protocol: 'udp' }),
      ).toBe(3);
      expect(metricValue(text, 'sbc_sip_engine_blacklist_size', {})).toBe(1);
      // TCP from a listed IP: the connection is cut before anything is read
      const { closed } = await tcpConnect(host, port, '127.0.0.12');
      await closed;
      await client.srem(KEY, '127.0.0.12');
      await sleep(1500);
      expect(await probe.burst(1, host, port, { expect: 1 })).toBe(1);
    } finally {
      probe.close();
      other.close();
    }
  });

  it('bans a source past the rate limit until the ban ends; other sources are unaffected', async () => {
    const flooder = await UdpProbe.open('127.0.0.14');
    const phone = await UdpProbe.open('127.0.0.15');
    try {
      const answered = await flooder.burst(60, host, port, { expect: 20 });
      expect(answered).toBe(20);
      expect(await phone.burst(5, host, port, { expect: 5 })).toBe(5);
      expect(await flooder.burst(1, host, port)).toBe(0);
      const text = await metrics(metricsPort);
      expect(metricValue(text, 'sbc_sip_engine_rate_bans_total', {})).toBe(1);
      expect(
        metricValue(text, 'sbc_sip_engine_edge_dropped_total', { reason: 'rate_limited', protocol: 'udp' }),
      ).toBeGreaterThanOrEqual(41);
      await sleep(2200);
      expect(await flooder.burst(1, host, port, { expect: 1 })).toBe(1);
    } finally {
      flooder.close();
      phone.close();
    }
    expect(engine.output()).toMatch(/source over the rate limit/);
  });

  it('never rate-limits the private network (JAMBONES_NETWORK_CIDR) nor the allow-list; loopback is not exempt', async () => {
    for (const address of ['127.0.1.16', '127.0.2.16']) {
      const probe = await UdpProbe.open(address);
      try {
        expect(await probe.burst(60, host, port, { expect: 60 })).toBe(60);
      } finally {
        probe.close();
      }
    }
  });
});

describe('engine edge protection: drachtio config file and connection limits', () => {
  let engine: EngineService;
  let redis: RedisService;
  let host: string;
  let port: number;

  beforeAll(async () => {
    redis = await startRedis();
    // the file's <spammers> are used; its <blacklist> gives way to the flags, as with drachtio-server
    engine = await startEngine({
      extraArgs: [
        '--file',
        fileURLToPath(new URL('./fixtures/drachtio.conf.xml', import.meta.url)),
        ...blacklistArgs(redis),
        '--max-connections-per-source',
        '5',
        '--incomplete-message-secs',
        '1',
      ],
    });
    [host, port] = [engine.sipTarget.split(':')[0]!, Number(engine.sipTarget.split(':')[1])];
  });
  afterAll(async () => {
    await engine?.stop();
    await redis?.stop();
  });

  it('answers a listed User-Agent 603 over UDP (action="reject") and nothing over TCP (tcp-action="discard")', async () => {
    const udp = await runSipp({
      scenario: scanner,
      target: `${host}:${port}`,
      localAddress: '127.0.0.21',
      timeoutMs: 5000,
    });
    expect(udp.ok, udp.describe()).toBe(true);
    const tcp = await runSipp({
      scenario: scanner,
      target: `${host}:${port}`,
      localAddress: '127.0.0.22',
      transport: 'tcp',
      timeoutMs: 3000,
    });
    expect(tcp.ok).toBe(false);
    expect(tcp.messages).not.toMatch(/SIP\/2\.0 603/);
  });

  it('refuses connections past the per-source limit and keeps the first ones', async () => {
    const conns = await Promise.all(Array.from({ length: 8 }, () => tcpConnect(host, port, '127.0.0.23')));
    let closedCount = 0;
    for (const c of conns) void c.closed.then(() => closedCount++);
    await waitUntil(() => Promise.resolve(closedCount >= 3), {
      what: '3 connections refused',
      timeoutMs: 3000,
    });
    await sleep(200);
    expect(closedCount).toBe(3);
    // another source still gets in and is answered
    const other = await tcpConnect(host, port, '127.0.0.24');
    const answer = new Promise<string>((resolve) =>
      other.socket.once('data', (d: Buffer) => resolve(d.toString())),
    );
    other.socket.write(
      optionsRequest('127.0.0.24', `${host}:${port}`, 1).replace('SIP/2.0/UDP', 'SIP/2.0/TCP'),
    );
    expect(await answer).toMatch(/^SIP\/2\.0 503 /);
    for (const c of conns) c.socket.destroy();
    other.socket.destroy();
  });

  it('closes a connection that holds an unfinished message (slowloris) or never sends one', async () => {
    const silent = await tcpConnect(host, port, '127.0.0.25');
    const slow = await tcpConnect(host, port, '127.0.0.25');
    slow.socket.write('OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.25:5060\r\n');
    const started = Date.now();
    await Promise.all([silent.closed, slow.closed]);
    expect(Date.now() - started).toBeLessThan(3500);
  });
});
