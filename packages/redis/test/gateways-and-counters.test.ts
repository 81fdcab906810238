import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisService } from '@sbc/testkit';
import {
  CallCounters,
  EphemeralGateways,
  GatewayBlacklist,
  RedisArgumentError,
  RedisCommandError,
  RedisDataError,
  callCounterKey,
} from '../src/index.js';
import { closeRedisClients, openRedisClients } from './helpers.js';

let redis: RedisService;
let client: Redis;
let other: Redis;
let raw: Redis;

beforeAll(async () => {
  ({ redis, client, other, raw } = await openRedisClients());
});

afterAll(() => closeRedisClients({ redis, client, other, raw }));

describe('EphemeralGateways', () => {
  it('create writes HSET eph-gw-ip:<ip> <carrier> <unix expiry> with a 7200 s key TTL', async () => {
    const gateways = new EphemeralGateways(client);
    await gateways.create('127.0.0.2', 'carrier-a', 3600, 1_700_000_000_500);
    expect(await raw.type('eph-gw-ip:127.0.0.2')).toBe('hash');
    expect(await raw.hgetall('eph-gw-ip:127.0.0.2')).toEqual({ 'carrier-a': '1700003600' });
    const ttl = await raw.ttl('eph-gw-ip:127.0.0.2');
    expect(ttl).toBeGreaterThan(7190);
    expect(ttl).toBeLessThanOrEqual(7200);
  });

  it('query returns live carriers and deletes expired and garbled entries', async () => {
    const gateways = new EphemeralGateways(client);
    const now = 1_800_000_000_000;
    await gateways.create('127.0.0.4', 'live', 60, now);
    await gateways.create('127.0.0.4', 'expired', 60, now - 61_000);
    await gateways.create('127.0.0.4', 'failed', 0, now); // regbot writes expires 0 on failure
    await raw.hset('eph-gw-ip:127.0.0.4', 'garbled', 'soon');
    expect(await gateways.query('127.0.0.4', now)).toEqual(['live']);
    expect(await raw.hkeys('eph-gw-ip:127.0.0.4')).toEqual(['live']);
    expect(await gateways.query('127.0.0.99', now)).toEqual([]);
  });

  it('a refresh by another SBC keeps the entry alive for everyone', async () => {
    const sbc1 = new EphemeralGateways(client);
    const sbc2 = new EphemeralGateways(other);
    const now = 1_800_000_000_000;
    await sbc1.create('127.0.0.5', 'carrier-b', 30, now);
    await sbc2.create('127.0.0.5', 'carrier-b', 3600, now + 20_000);
    expect(await sbc1.query('127.0.0.5', now + 60_000)).toEqual(['carrier-b']);
  });

  it('delete removes one carrier, and the key with its last one', async () => {
    const gateways = new EphemeralGateways(client);
    await gateways.create('127.0.0.6', 'c1', 60);
    await gateways.create('127.0.0.6', 'c2', 60);
    expect(await gateways.delete('127.0.0.6', 'c1')).toBe(true);
    expect(await gateways.query('127.0.0.6')).toEqual(['c2']);
    expect(await gateways.delete('127.0.0.6', 'c2')).toBe(true);
    expect(await raw.exists('eph-gw-ip:127.0.0.6')).toBe(0);
    expect(await gateways.delete('127.0.0.6', 'c2')).toBe(false);
  });

  it('refuses empty names and negative TTLs', async () => {
    const gateways = new EphemeralGateways(client);
    await expect(gateways.create('', 'c', 60)).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(gateways.create('127.0.0.2', 'c', -1)).rejects.toBeInstanceOf(RedisArgumentError);
  });
});

describe('GatewayBlacklist', () => {
  it('set writes blacklist-sip-gateway:<sid> = "1" with the TTL; clear removes it', async () => {
    const blacklist = new GatewayBlacklist(client);
    expect(await blacklist.set('gw-1', 300)).toBe(true);
    expect(await raw.get('blacklist-sip-gateway:gw-1')).toBe('1');
    const ttl = await raw.ttl('blacklist-sip-gateway:gw-1');
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(await new GatewayBlacklist(other).isBlacklisted('gw-1')).toBe(true);
    expect(await blacklist.clear('gw-1')).toBe(true);
    expect(await blacklist.isBlacklisted('gw-1')).toBe(false);
    expect(await blacklist.clear('gw-1')).toBe(false);
  });

  it('defaults to the jambonz OPTIONS_PING_TTL of 300 s', async () => {
    await new GatewayBlacklist(client).set('gw-default');
    expect(await raw.ttl('blacklist-sip-gateway:gw-default')).toBeGreaterThan(290);
  });

  it('refuses a non-positive TTL', async () => {
    await expect(new GatewayBlacklist(client).set('gw-2', 0)).rejects.toBeInstanceOf(RedisArgumentError);
  });

  it('set tells whether it started the episode, and renews the TTL of a gateway already blacklisted', async () => {
    const blacklist = new GatewayBlacklist(client);
    expect(await blacklist.set('gw-episode', 60)).toBe(true);
    await raw.expire('blacklist-sip-gateway:gw-episode', 5);
    expect(await new GatewayBlacklist(other).set('gw-episode', 60)).toBe(false);
    expect(await raw.ttl('blacklist-sip-gateway:gw-episode')).toBeGreaterThan(50);
    await blacklist.clear('gw-episode');
    expect(await blacklist.set('gw-episode', 60)).toBe(true);
  });
});

describe('CallCounters', () => {
  it('uses the exact jambonz key spellings', () => {
    expect(callCounterKey('account', 'acc-1')).toBe('incalls:account:acc-1');
    expect(callCounterKey('sp', 'sp-1')).toBe('incalls:sp:sp-1:');
    expect(callCounterKey('app', 'app-1')).toBe('incalls:appapp-1:');
  });

  it('incr / decr / get on each scope, visible to every instance', async () => {
    const sbc1 = new CallCounters(client);
    const sbc2 = new CallCounters(other);
    for (const scope of ['account', 'sp', 'app'] as const) {
      expect(await sbc1.incr(scope, 'sid-x')).toBe(1);
      expect(await sbc2.incr(scope, 'sid-x')).toBe(2);
      expect(await sbc1.get(scope, 'sid-x')).toBe(2);
      expect(await sbc2.decr(scope, 'sid-x')).toBe(1);
      expect(await raw.get(callCounterKey(scope, 'sid-x'))).toBe('1');
    }
  });

  it('never goes below 0 and never creates a key on decr', async () => {
    const counters = new CallCounters(client);
    expect(await counters.decr('account', 'fresh')).toBe(0);
    expect(await raw.exists('incalls:account:fresh')).toBe(0);
    await counters.incr('account', 'floor');
    expect(await counters.decr('account', 'floor')).toBe(0);
    expect(await counters.decr('account', 'floor')).toBe(0);
    expect(await raw.get('incalls:account:floor')).toBe('0');
    await raw.set('incalls:sp:negative:', '-3');
    expect(await counters.decr('sp', 'negative')).toBe(0);
    expect(await raw.get('incalls:sp:negative:')).toBe('0');
    expect(await counters.get('account', 'missing')).toBe(0);
  });

  it('concurrent increments and decrements from two instances add up', async () => {
    const sbc1 = new CallCounters(client);
    const sbc2 = new CallCounters(other);
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? sbc1 : sbc2).incr('app', 'busy')));
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? sbc1 : sbc2).decr('app', 'busy')));
    expect(await sbc1.get('app', 'busy')).toBe(30);
  });

  it('reports a counter that is not an integer', async () => {
    const counters = new CallCounters(client);
    await raw.set('incalls:account:bad', 'lots');
    await expect(counters.get('account', 'bad')).rejects.toBeInstanceOf(RedisDataError);
    await expect(counters.decr('account', 'bad')).rejects.toBeInstanceOf(RedisCommandError);
    await expect(counters.incr('account', 'bad')).rejects.toBeInstanceOf(RedisCommandError);
  });
});
