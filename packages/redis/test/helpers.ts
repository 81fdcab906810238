import { Redis } from 'ioredis';
import { startRedis, type RedisService } from '@sbc/testkit';
import { createRedisClient, type RedisLogger } from '../src/index.js';

/** A plain ioredis client used to read back what the stores wrote, independent of our code. */
export function rawClient(redis: RedisService): Redis {
  return new Redis({ host: redis.host, port: redis.port, db: redis.db, maxRetriesPerRequest: 1 });
}

/** A client as the apps create it. */
export function storeClient(redis: RedisService, logger?: RedisLogger): Redis {
  return createRedisClient({ host: redis.host, port: redis.port, db: redis.db }, logger);
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps every line, to assert what would have been logged. */
export function recordingLogger(): RedisLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

export interface RedisClients {
  redis: RedisService;
  /** Two clients as two SBC instances would hold them. */
  client: Redis;
  other: Redis;
  /** A plain client to read back what the stores wrote. */
  raw: Redis;
}

/** A private Redis for a test file, with two store clients and a raw one. */
export async function openRedisClients(): Promise<RedisClients> {
  const redis = await startRedis();
  return { redis, client: storeClient(redis), other: storeClient(redis), raw: rawClient(redis) };
}

export async function closeRedisClients(clients: Partial<RedisClients>): Promise<void> {
  clients.client?.disconnect();
  clients.other?.disconnect();
  clients.raw?.disconnect();
  await clients.redis?.stop();
}
