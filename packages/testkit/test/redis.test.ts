import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisService } from '../src/index.js';
import { processIsGone } from './helpers.js';

describe('startRedis', () => {
  let redis: RedisService;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('serves a round trip on loopback', async () => {
    expect(redis.host).toBe('127.0.0.1');
    const client = new Redis({ host: redis.host, port: redis.port, db: redis.db });
    try {
      await client.set('user:john@jambonz.org', JSON.stringify({ contact: 'sip:john@127.0.0.3' }), 'EX', 30);
      expect(JSON.parse((await client.get('user:john@jambonz.org')) ?? '{}')).toEqual({
        contact: 'sip:john@127.0.0.3',
      });
      expect(await client.ttl('user:john@jambonz.org')).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  it.runIf(!process.env.SBC_TEST_REDIS)(
    'leaves no process and no directory behind when stopped',
    async () => {
      const own = await startRedis();
      expect(existsSync(own.dataDir!)).toBe(true);
      await own.stop();
      expect(processIsGone(own.pid)).toBe(true);
      expect(existsSync(own.dataDir!)).toBe(false);
    },
  );
});
