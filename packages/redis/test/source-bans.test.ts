import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisService } from '@sbc/testkit';
import { RedisArgumentError, SourceBans } from '../src/index.js';
import { closeRedisClients, openRedisClients } from './helpers.js';

let redis: RedisService;
let client: Redis;
let other: Redis;
let raw: Redis;

beforeAll(async () => {
  ({ redis, client, other, raw } = await openRedisClients());
});

afterAll(() => closeRedisClients({ redis, client, other, raw }));

const LIMITS = { limit: 5, windowMs: 60_000, banMs: 3_600_000 };

describe('SourceBans', () => {
  it('counts failures per IP in auth-failures:<ip> and bans on the limit: SADD to the set the engines read', async () => {
    const bans = new SourceBans(client);
    const now = 1_800_000_000_000;
    const counts = [];
    for (let i = 0; i < 5; i++) counts.push(await bans.authFailure('127.0.0.50', LIMITS, now));
    expect(counts.map((c) => c.failures)).toEqual([1, 2, 3, 4, 5]);
    expect(counts.map((c) => c.banned)).toEqual([false, false, false, false, true]);
    expect(await raw.smembers('blacklist-sip-ips')).toEqual(['127.0.0.50']);
    expect(await raw.zscore('blacklist-sip-ips:expires', '127.0.0.50')).toBe(String(now + 3_600_000));
    expect(await raw.exists('auth-failures:127.0.0.50')).toBe(0);
    expect(await bans.list()).toEqual([
      { ip: '127.0.0.50', expiresAt: now + 3_600_000, reason: 'auth-failures', since: now },
    ]);
  });

  it('lets the failure window lapse (the counter has a TTL of one window)', async () => {
    const bans = new SourceBans(client);
    await bans.authFailure('127.0.0.51', LIMITS);
    const ttl = await raw.pttl('auth-failures:127.0.0.51');
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('bans once: of two SBCs crossing the limit together, one sees `banned` (the alert is raised once)', async () => {
    const a = new SourceBans(client);
    const b = new SourceBans(other);
    for (let i = 0; i < 4; i++) await a.authFailure('127.0.0.52', LIMITS);
    const [x, y] = await Promise.all([
      a.authFailure('127.0.0.52', LIMITS),
      b.authFailure('127.0.0.52', LIMITS),
    ]);
    expect([x.banned, y.banned].filter(Boolean)).toHaveLength(1);
    expect(await a.ban('127.0.0.52', 'manual')).toBe(false);
  });

  it('bans by hand (until removed, or for a time), unbans, and expires what is over', async () => {
    const bans = new SourceBans(client, { key: 'test-bans' });
    const now = 1_900_000_000_000;
    expect(await bans.ban('127.0.0.53', 'manual', undefined, now)).toBe(true);
    expect(await bans.ban('127.0.0.54', 'hook-blacklist', 1000, now)).toBe(true);
    expect((await bans.list()).map((b) => [b.ip, b.expiresAt])).toEqual([
      ['127.0.0.53', undefined],
      ['127.0.0.54', now + 1000],
    ]);
    expect(await bans.expire(now + 999)).toEqual([]);
    expect(await bans.expire(now + 1000)).toEqual(['127.0.0.54']);
    expect(await raw.smembers('test-bans')).toEqual(['127.0.0.53']);
    expect(await raw.hkeys('test-bans:details')).toEqual(['127.0.0.53']);
    expect(await bans.unban('127.0.0.53')).toBe(true);
    expect(await bans.unban('127.0.0.53')).toBe(false);
    expect(await raw.exists('test-bans')).toBe(0);
  });

  it('refuses limits that cannot work', async () => {
    const bans = new SourceBans(client);
    await expect(bans.authFailure('127.0.0.55', { ...LIMITS, limit: 0 })).rejects.toThrow(RedisArgumentError);
    await expect(bans.ban('127.0.0.55', 'manual', 0)).rejects.toThrow(RedisArgumentError);
  });
});
