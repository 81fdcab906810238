import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisService } from '@sbc/testkit';
import { NonceStore, RedisArgumentError } from '../src/index.js';
import { closeRedisClients, openRedisClients } from './helpers.js';

let redis: RedisService;
let client: Redis;
let other: Redis;
let raw: Redis;

beforeAll(async () => {
  ({ redis, client, other, raw } = await openRedisClients());
});

afterAll(() => closeRedisClients({ redis, client, other, raw }));

describe('NonceStore', () => {
  it('accepts a (nonce, nc) pair once and refuses the replay', async () => {
    const store = new NonceStore(client);
    expect(await store.claim('n-replay', 1, 60)).toBe(true);
    expect(await store.claim('n-replay', 1, 60)).toBe(false);
  });

  it('accepts each new nonce-count of the same nonce, and the same count for another nonce', async () => {
    const store = new NonceStore(client);
    expect(await store.claim('n-counts', 1, 60)).toBe(true);
    expect(await store.claim('n-counts', 2, 60)).toBe(true);
    expect(await store.claim('n-counts', 3, 60)).toBe(true);
    expect(await store.claim('n-counts', 2, 60)).toBe(false);
    expect(await store.claim('n-other', 1, 60)).toBe(true);
  });

  it('stores the counts in a set under digest-nonce:<nonce> with the TTL', async () => {
    await new NonceStore(client).claim('n-layout', 7, 300);
    expect(await raw.type('digest-nonce:n-layout')).toBe('set');
    expect(await raw.smembers('digest-nonce:n-layout')).toEqual(['7']);
    const ttl = await raw.ttl('digest-nonce:n-layout');
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it('honours a custom prefix', async () => {
    await new NonceStore(client, { prefix: 'sbc:nonce:' }).claim('n-prefix', 1, 30);
    expect(await raw.exists('sbc:nonce:n-prefix')).toBe(1);
    expect(await raw.exists('digest-nonce:n-prefix')).toBe(0);
  });

  it('two SBC instances share replay state', async () => {
    const a = new NonceStore(client);
    const b = new NonceStore(other);
    expect(await a.claim('n-shared', 1, 60)).toBe(true);
    expect(await b.claim('n-shared', 1, 60)).toBe(false);
    expect(await b.claim('n-shared', 2, 60)).toBe(true);
    expect(await a.claim('n-shared', 2, 60)).toBe(false);
  });

  it('exactly one of many concurrent claims of the same pair wins', async () => {
    const stores = [new NonceStore(client), new NonceStore(other)];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.claim('n-race', 1, 60)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('refuses arguments it cannot store', async () => {
    const store = new NonceStore(client);
    await expect(store.claim('', 1, 60)).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(store.claim('n', -1, 60)).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(store.claim('n', 1.5, 60)).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(store.claim('n', 1, 0)).rejects.toBeInstanceOf(RedisArgumentError);
  });
});
