import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisClient, type Redis } from '@sbc/redis';
import { createLogger } from '@sbc/service';
import { startRedis, type RedisService } from '@sbc/testkit';
import { CallDirectory } from './call-directory.js';

const logger = createLogger({ level: 'silent', name: 'call-directory-test' });
let redis: RedisService;
const clients: Redis[] = [];
const directories: CallDirectory[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const d of directories) d.stop();
  for (const c of clients) c.disconnect();
  await redis.stop();
});

async function instance(clusterId: string, held: string[]): Promise<CallDirectory> {
  const client = createRedisClient({ host: redis.host, port: redis.port });
  clients.push(client);
  const directory = new CallDirectory(client, {
    clusterId,
    holds: (callId) => held.includes(callId),
    logger,
  });
  await directory.start();
  directories.push(directory);
  return directory;
}

it('alone, answers at once that nobody else holds a call', async () => {
  const alone = await instance('solo', []);
  const started = Date.now();
  expect(await alone.ownerOf('c1')).toBeUndefined();
  expect(Date.now() - started).toBeLessThan(250);
});

it('names the instance of the same cluster that holds the call, and nobody for an unknown one', async () => {
  const a = await instance('cluster-1', []);
  const b = await instance('cluster-1', ['call-b']);
  await instance('cluster-2', ['call-x']);
  expect(await a.ownerOf('call-b')).toBe(b.instance);
  expect(await b.ownerOf('call-b')).toBeUndefined();
  // Another cluster's calls are not ours to find.
  expect(await a.ownerOf('call-x')).toBeUndefined();
});
