import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisService } from '@sbc/testkit';
import { RedisArgumentError, ServerSets, hostOf, type ServerSetName } from '../src/index.js';
import { closeRedisClients, openRedisClients } from './helpers.js';

let redis: RedisService;
let client: Redis;
let other: Redis;
let raw: Redis;

beforeAll(async () => {
  ({ redis, client, other, raw } = await openRedisClients());
});

afterAll(() => closeRedisClients({ redis, client, other, raw }));

describe('ServerSets keys', () => {
  it('prefixes with the cluster id, and with `default` when it is unset or empty', () => {
    expect(new ServerSets(client, { clusterId: 'east' }).key('active-fs')).toBe('east:active-fs');
    expect(new ServerSets(client).key('active-rtp')).toBe('default:active-rtp');
    expect(new ServerSets(client, { clusterId: '' }).key('active-sip')).toBe('default:active-sip');
    expect(new ServerSets(client, { clusterId: 'east' }).lastSeenKey('fs-service-url')).toBe(
      'east:fs-service-url:lastseen',
    );
  });
});

describe('ServerSets', () => {
  const names: ServerSetName[] = ['active-fs', 'active-rtp', 'active-sip', 'fs-service-url', 'drained-fs'];

  it.each(names)('%s is a plain Redis set that jambonz readers can SMEMBERS', async (name) => {
    const sets = new ServerSets(client, { clusterId: 'plain' });
    expect(await sets.touch(name, '127.0.1.1:5070', 1000)).toBe(true);
    expect(await sets.touch(name, '127.0.1.1:5070', 2000)).toBe(false);
    expect(await raw.type(`plain:${name}`)).toBe('set');
    expect(await raw.smembers(`plain:${name}`)).toEqual(['127.0.1.1:5070']);
    expect(await raw.hget(`plain:${name}:lastseen`, '127.0.1.1:5070')).toBe('2000');
    expect(await sets.members(name)).toEqual(['127.0.1.1:5070']);
    expect(await sets.count(name)).toBe(1);
    expect(await sets.isMember(name, '127.0.1.1:5070')).toBe(true);
    expect(await sets.lastSeen(name, '127.0.1.1:5070')).toBe(2000);
  });

  it('remove drops the member and its last-seen time', async () => {
    const sets = new ServerSets(client, { clusterId: 'rm' });
    await sets.touch('active-fs', '127.0.1.2:5070');
    expect(await sets.remove('active-fs', '127.0.1.2:5070')).toBe(true);
    expect(await raw.exists('rm:active-fs', 'rm:active-fs:lastseen')).toBe(0);
    expect(await sets.remove('active-fs', '127.0.1.2:5070')).toBe(false);
    expect(await sets.lastSeen('active-fs', '127.0.1.2:5070')).toBeNull();
  });

  it('replace swaps the whole set and its last-seen times in one step', async () => {
    const sets = new ServerSets(client, { clusterId: 'replace' });
    await sets.touch('active-fs', '127.0.1.50:5070', 1);
    await sets.replace('active-fs', ['127.0.1.1:5070', '127.0.1.2:5070'], 5000);
    expect((await raw.smembers('replace:active-fs')).sort()).toEqual(['127.0.1.1:5070', '127.0.1.2:5070']);
    expect(await raw.hgetall('replace:active-fs:lastseen')).toEqual({
      '127.0.1.1:5070': '5000',
      '127.0.1.2:5070': '5000',
    });
    await sets.replace('active-fs', []);
    expect(await raw.exists('replace:active-fs', 'replace:active-fs:lastseen')).toBe(0);
  });

  it('sweep removes only members not seen within the window, from the set and the hash', async () => {
    const sets = new ServerSets(client, { clusterId: 'sweep' });
    await sets.touch('active-fs', '127.0.1.1:5070', 10_000);
    await sets.touch('active-fs', '127.0.1.2:5070', 50_000);
    await sets.touch('active-fs', '127.0.1.3:5070', 69_999);
    const removed = await sets.sweep('active-fs', 60_000, 110_000); // cutoff 50000
    expect(removed).toEqual(['127.0.1.1:5070']);
    expect((await raw.smembers('sweep:active-fs')).sort()).toEqual(['127.0.1.2:5070', '127.0.1.3:5070']);
    expect((await raw.hkeys('sweep:active-fs:lastseen')).sort()).toEqual([
      '127.0.1.2:5070',
      '127.0.1.3:5070',
    ]);
    expect(await sets.sweep('active-fs', 60_000, 110_000)).toEqual([]);
  });

  it('sweep adopts members written without a last-seen time and drops orphaned times', async () => {
    const sets = new ServerSets(client, { clusterId: 'adopt' });
    await raw.sadd('adopt:active-rtp', '127.0.1.20'); // e.g. an older jambonz sidecar
    await raw.hset('adopt:active-rtp:lastseen', 'orphan', '1');
    expect(await sets.sweep('active-rtp', 60_000, 500_000)).toEqual([]);
    expect(await raw.smembers('adopt:active-rtp')).toEqual(['127.0.1.20']);
    expect(await raw.hgetall('adopt:active-rtp:lastseen')).toEqual({ '127.0.1.20': '500000' });
    expect(await sets.sweep('active-rtp', 60_000, 560_001)).toEqual(['127.0.1.20']);
    expect(await raw.exists('adopt:active-rtp')).toBe(0);
  });

  it('sweep treats a garbled last-seen value like a missing one', async () => {
    const sets = new ServerSets(client, { clusterId: 'garbled' });
    await raw.sadd('garbled:active-fs', '127.0.1.5:5070');
    await raw.hset('garbled:active-fs:lastseen', '127.0.1.5:5070', 'yesterday');
    expect(await sets.sweep('active-fs', 60_000, 1_000_000)).toEqual([]);
    expect(await sets.lastSeen('active-fs', '127.0.1.5:5070')).toBe(1_000_000);
  });

  it('several SBC instances keep one member alive as long as any of them hears it', async () => {
    const sbc1 = new ServerSets(client, { clusterId: 'multi' });
    const sbc2 = new ServerSets(other, { clusterId: 'multi' });
    await sbc1.touch('active-fs', '127.0.1.1:5070', 0);
    await sbc2.touch('active-fs', '127.0.1.1:5070', 50_000); // only SBC 2 heard the later ping
    expect(await sbc1.sweep('active-fs', 60_000, 100_000)).toEqual([]); // SBC 1 must not expire it
    expect(await sbc1.members('active-fs')).toEqual(['127.0.1.1:5070']);
    expect(await sbc2.sweep('active-fs', 60_000, 120_000)).toEqual(['127.0.1.1:5070']);
    expect(await sbc1.members('active-fs')).toEqual([]);
  });

  it('concurrent sweeps from several instances remove a member exactly once', async () => {
    const sbc1 = new ServerSets(client, { clusterId: 'race' });
    const sbc2 = new ServerSets(other, { clusterId: 'race' });
    await sbc1.touch('active-fs', '127.0.1.9:5070', 0);
    const [a, b] = await Promise.all([
      sbc1.sweep('active-fs', 1000, 10_000),
      sbc2.sweep('active-fs', 1000, 10_000),
    ]);
    expect([...a, ...b]).toEqual(['127.0.1.9:5070']);
  });

  it('drain / undrain keep bare IPs in drained-fs and filter the available feature servers', async () => {
    const sets = new ServerSets(client, { clusterId: 'drain' });
    await sets.touch('active-fs', '127.0.1.1:5070');
    await sets.touch('active-fs', '127.0.1.2:5070');
    await sets.touch('active-fs', '127.0.1.3:5070');
    expect(await sets.drain('127.0.1.1')).toBe(true);
    expect(await sets.drain('127.0.1.1')).toBe(false);
    expect(await sets.drain('127.0.1.3:5070')).toBe(true); // jambonz CLI accepts ip:port too
    expect(await raw.smembers('drain:drained-fs')).toEqual(
      expect.arrayContaining(['127.0.1.1', '127.0.1.3:5070']),
    );
    expect((await sets.drained()).sort()).toEqual(['127.0.1.1', '127.0.1.3:5070']);
    expect(await sets.isDrained('127.0.1.1')).toBe(true);
    expect(await sets.isDrained('127.0.1.1', 5070)).toBe(true);
    expect(await sets.isDrained('127.0.1.3', 5070)).toBe(true);
    expect(await sets.isDrained('127.0.1.3')).toBe(false);
    expect(await sets.isDrained('127.0.1.2', 5070)).toBe(false);
    expect(await sets.availableFeatureServers()).toEqual(['127.0.1.2:5070']);
    expect(await sets.undrain('127.0.1.1')).toBe(true);
    expect(await sets.undrain('127.0.1.1')).toBe(false);
    expect((await sets.availableFeatureServers()).sort()).toEqual(['127.0.1.1:5070', '127.0.1.2:5070']);
  });

  it('refuses empty members and negative windows', async () => {
    const sets = new ServerSets(client);
    await expect(sets.touch('active-fs', '')).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(sets.drain('')).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(sets.sweep('active-fs', -1)).rejects.toBeInstanceOf(RedisArgumentError);
  });
});

describe('hostOf', () => {
  it('takes the host of ip:port, [v6]:port and bare addresses', () => {
    expect(hostOf('127.0.1.1:5070')).toBe('127.0.1.1');
    expect(hostOf('127.0.1.1')).toBe('127.0.1.1');
    expect(hostOf('[::1]:5070')).toBe('::1');
    expect(hostOf('::1')).toBe('::1');
  });
});
