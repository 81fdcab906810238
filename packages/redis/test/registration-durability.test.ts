/**
 * RegistrationStore with `minReplicas`: a binding is reported stored only once the replica holds it
 * (Redis WAIT), on a real primary + replica (+ sentinels) from the test kit. Without a replica in
 * time, `add` rejects with RedisNotDurableError (a RedisUnavailableError: callers answer "try later")
 * within twice the wait, however many adds are in flight, and the app's other commands do not queue
 * behind the WAIT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedisSentinelCluster, type RedisSentinelCluster, type SentinelRedisNode } from '@sbc/testkit';
import {
  RedisArgumentError,
  RedisNotDurableError,
  RedisUnavailableError,
  RegistrationStore,
  createRedisClient,
  type RegistrationBinding,
} from '../src/index.js';

const binding = (user: string): RegistrationBinding => ({
  contact: `sip:${user}@127.0.0.1:5070`,
  sbcAddress: '127.0.0.1:5060',
  proxy: 'sip:127.0.0.1:5070',
  protocol: 'udp',
});

let cluster: RedisSentinelCluster;
let client: Redis;
let replicaNode: SentinelRedisNode;
let replica: Redis;

beforeAll(async () => {
  cluster = await startRedisSentinelCluster();
  const primary = await cluster.primary();
  replicaNode = cluster.nodes.find((n) => n.port !== primary.port)!;
  // The store's client as the apps create it: through the sentinels.
  client = createRedisClient({
    sentinels: cluster.sentinels.map((s) => ({ host: s.host, port: s.port })),
    sentinelMasterName: cluster.masterName,
  });
  replica = cluster.connectTo(replicaNode);
  replica.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  replica?.disconnect();
  await cluster?.stop();
});

describe('RegistrationStore with minReplicas (Redis WAIT)', () => {
  it('resolves once the replica holds the binding: readable there the moment add resolves', async () => {
    const store = new RegistrationStore(client, { minReplicas: 1, replicaWaitMs: 1000 });
    try {
      expect(store.waitsForReplicas).toBe(true);
      for (let i = 0; i < 20; i++) {
        await store.add(`d${i}@durable.test`, binding(`d${i}`), 60);
        expect(await replica.get(`user:d${i}@durable.test`)).not.toBeNull();
      }
      // Concurrent adds share WAITs and all resolve; every one is on the replica.
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.add(`c${i}@durable.test`, binding(`c${i}`), 60)),
      );
      const onReplica = await replica.mget(
        ...Array.from({ length: 200 }, (_, i) => `user:c${i}@durable.test`),
      );
      expect(onReplica.filter((v) => v === null)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('rejects with RedisNotDurableError when the replica does not acknowledge in time, fast under load', async () => {
    const store = new RegistrationStore(client, { minReplicas: 1, replicaWaitMs: 300 });
    const plain = new RegistrationStore(client);
    await replicaNode.kill('SIGKILL');
    try {
      const started = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) => store.add(`x${i}@durable.test`, binding(`x${i}`), 60)),
      );
      const elapsed = performance.now() - started;
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      const reason = (results[0] as PromiseRejectedResult).reason as RedisNotDurableError;
      expect(reason).toBeInstanceOf(RedisNotDurableError);
      expect(reason).toBeInstanceOf(RedisUnavailableError);
      expect(reason.acknowledged).toBe(0);
      expect(reason.wanted).toBe(1);
      expect(reason.message).toMatch(/reached 0 of 1 replica\(s\) within 300 ms/);
      // One WAIT covers all the writes before it: not 100 × 300 ms.
      expect(elapsed).toBeLessThan(2 * 300 + 400);
      // reaffirm (the cached refresh) says the same of a binding the replica may not have.
      await expect(store.reaffirm('x0@durable.test')).rejects.toBeInstanceOf(RedisNotDurableError);
      // Other commands of the app (the client's own connection) do not wait behind a WAIT.
      const pending = store.add('y@durable.test', binding('y'), 60).catch((err: unknown) => err);
      const readStarted = performance.now();
      expect(await plain.get('d0@durable.test')).not.toBeNull();
      expect(performance.now() - readStarted).toBeLessThan(100);
      expect(await pending).toBeInstanceOf(RedisNotDurableError);
      // Without minReplicas (jambonz), the same write is answered at once.
      await plain.add('z@durable.test', binding('z'), 60);
    } finally {
      // The testkit restarts a node standalone (as a killed primary comes back): make it a replica again.
      await replicaNode.restart();
      const primary = await cluster.primary();
      await replica.replicaof(primary.host, primary.port);
      store.close();
    }
    // The replica is back and synced: durable again.
    const again = new RegistrationStore(client, { minReplicas: 1, replicaWaitMs: 2000 });
    try {
      await expect
        .poll(
          () =>
            again.add('back@durable.test', binding('back'), 60).then(
              () => true,
              () => false,
            ),
          {
            timeout: 15_000,
            interval: 200,
          },
        )
        .toBe(true);
      expect(await again.reaffirm('back@durable.test')).toBe(true);
      expect(await again.reaffirm('nobody@durable.test')).toBe(false);
      expect(await replica.get('user:back@durable.test')).not.toBeNull();
    } finally {
      again.close();
    }
  }, 30_000);

  it('asking for more replicas than there are always fails, the binding is never reported stored', async () => {
    const store = new RegistrationStore(client, { minReplicas: 2, replicaWaitMs: 200 });
    try {
      await expect(store.add('two@durable.test', binding('two'), 60)).rejects.toThrow(
        /reached 1 of 2 replica\(s\) within 200 ms/,
      );
    } finally {
      store.close();
    }
  });

  it('without minReplicas shares the client (no second connection) and reaffirm only looks', async () => {
    const store = new RegistrationStore(client);
    expect(store.waitsForReplicas).toBe(false);
    await store.add('plain@durable.test', binding('plain'), 60);
    expect(await store.reaffirm('plain@durable.test')).toBe(true);
    expect(await store.reaffirm('none@durable.test')).toBe(false);
    store.close();
    expect(await client.ping()).toBe('PONG');
  });

  it('refuses options that cannot work', () => {
    expect(() => new RegistrationStore(client, { minReplicas: -1 })).toThrow(RedisArgumentError);
    expect(() => new RegistrationStore(client, { minReplicas: 1.5 })).toThrow(RedisArgumentError);
    expect(() => new RegistrationStore(client, { minReplicas: 1, replicaWaitMs: 0 })).toThrow(
      RedisArgumentError,
    );
  });
});
