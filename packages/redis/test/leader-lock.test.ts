import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { waitUntil, type RedisService } from '@sbc/testkit';
import { LeaderLock, RedisArgumentError } from '../src/index.js';
import { closeRedisClients, openRedisClients } from './helpers.js';

let redis: RedisService;
let client: Redis;
let other: Redis;
let raw: Redis;

beforeAll(async () => {
  ({ redis, client, other, raw } = await openRedisClients());
});

afterAll(() => closeRedisClients({ redis, client, other, raw }));

describe('LeaderLock', () => {
  it('uses <cluster>:regbot-token, `default` without a cluster id', () => {
    expect(new LeaderLock(client).key).toBe('default:regbot-token');
    expect(new LeaderLock(client, { clusterId: 'east' }).key).toBe('east:regbot-token');
    expect(new LeaderLock(client, { key: 'custom-lock' }).key).toBe('custom-lock');
  });

  it('acquire stores our token with the TTL; a second instance is refused', async () => {
    const a = new LeaderLock(client, { clusterId: 'acq' });
    const b = new LeaderLock(other, { clusterId: 'acq' });
    expect(a.token).not.toBe(b.token);
    expect(await a.acquire(70_000)).toBe(true);
    expect(await raw.get('acq:regbot-token')).toBe(a.token);
    const pttl = await raw.pttl('acq:regbot-token');
    expect(pttl).toBeGreaterThan(60_000);
    expect(pttl).toBeLessThanOrEqual(70_000);
    expect(await b.acquire(70_000)).toBe(false);
    expect(await b.holder()).toBe(a.token);
    expect(await a.isHeld()).toBe(true);
    expect(await b.isHeld()).toBe(false);
    expect(await a.acquire(70_000)).toBe(true); // re-acquire by the holder refreshes
  });

  it('renew extends only our own lease', async () => {
    const a = new LeaderLock(client, { clusterId: 'renew' });
    const b = new LeaderLock(other, { clusterId: 'renew' });
    await a.acquire(5_000);
    expect(await a.renew(70_000)).toBe(true);
    expect(await raw.pttl('renew:regbot-token')).toBeGreaterThan(60_000);
    expect(await b.renew(90_000)).toBe(false);
    expect(await raw.pttl('renew:regbot-token')).toBeLessThanOrEqual(70_000);
    expect(await raw.get('renew:regbot-token')).toBe(a.token);
  });

  it('release deletes only our own lock', async () => {
    const a = new LeaderLock(client, { clusterId: 'rel' });
    const b = new LeaderLock(other, { clusterId: 'rel' });
    await a.acquire(70_000);
    expect(await b.release()).toBe(false);
    expect(await raw.get('rel:regbot-token')).toBe(a.token);
    expect(await a.release()).toBe(true);
    expect(await raw.exists('rel:regbot-token')).toBe(0);
    expect(await a.release()).toBe(false);
    expect(await b.acquire(70_000)).toBe(true);
  });

  it('hands over after the leader’s lease expires; the old leader cannot renew or release', async () => {
    const a = new LeaderLock(client, { clusterId: 'handover' });
    const b = new LeaderLock(other, { clusterId: 'handover' });
    expect(await a.acquire(150)).toBe(true);
    expect(await b.acquire(70_000)).toBe(false);
    await waitUntil(async () => (await b.holder()) === null, { what: 'the leader lease to expire' });
    expect(await b.acquire(70_000)).toBe(true);
    expect(await a.renew(70_000)).toBe(false);
    expect(await a.release()).toBe(false);
    expect(await raw.get('handover:regbot-token')).toBe(b.token);
  });

  it('exactly one of many concurrent contenders wins', async () => {
    const locks = Array.from(
      { length: 10 },
      (_, i) => new LeaderLock(i % 2 ? client : other, { clusterId: 'race' }),
    );
    const results = await Promise.all(locks.map((l) => l.acquire(70_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('reuses a given token, e.g. after a restart', async () => {
    const first = new LeaderLock(client, { clusterId: 'token', token: 'sbc-1' });
    await first.acquire(70_000);
    const restarted = new LeaderLock(other, { clusterId: 'token', token: 'sbc-1' });
    expect(await restarted.isHeld()).toBe(true);
    expect(await restarted.renew(70_000)).toBe(true);
  });

  it('refuses a non-positive or fractional TTL and an empty token', async () => {
    const lock = new LeaderLock(client, { clusterId: 'args' });
    await expect(lock.acquire(0)).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(lock.renew(1.5)).rejects.toBeInstanceOf(RedisArgumentError);
    expect(() => new LeaderLock(client, { token: '' })).toThrow(RedisArgumentError);
  });

  it('works after SCRIPT FLUSH (falls back from EVALSHA to EVAL)', async () => {
    const lock = new LeaderLock(client, { clusterId: 'flush' });
    await lock.acquire(70_000);
    await raw.script('FLUSH');
    expect(await lock.renew(70_000)).toBe(true);
    expect(await lock.release()).toBe(true);
  });
});
