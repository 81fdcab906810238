import { afterAll, expect, it } from 'vitest';
import { CallCounters, createRedisClient } from '@sbc/redis';
import { startRedis, waitUntil, type RedisService } from '@sbc/testkit';
import { CallSlot } from './limits.js';

const services: RedisService[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
});

it('a decrement Redis did not take (it was down) is retried until Redis is back', async () => {
  const first = await startRedis();
  services.push(first);
  const client = createRedisClient({ host: first.host, port: first.port });
  const counters = new CallCounters(client);
  try {
    await counters.incr('account', 'acct-1');
    const released: number[] = [];
    const lost: unknown[] = [];
    const slot = new CallSlot(
      counters,
      [{ scope: 'account', sid: 'acct-1' }],
      (counts) => released.push(...counts.map((c) => c.calls)),
      undefined,
      (_counter, err) => lost.push(err),
    );

    // The call ends while Redis is down: release() still resolves at once.
    await first.stop();
    await slot.release();
    expect(released).toEqual([]);

    // Redis is back on the same port (with the count it had: a restarted server with its data).
    const second = await startRedis({ port: first.port });
    services.push(second);
    const seeder = createRedisClient({ host: second.host, port: second.port });
    await seeder.set('incalls:account:acct-1', '1');
    seeder.disconnect();
    await waitUntil(async () => (await counters.get('account', 'acct-1')) === 0, {
      what: 'the retried decrement',
      timeoutMs: 15_000,
    });
    expect(released).toEqual([0]);
    expect(lost).toEqual([]);
  } finally {
    client.disconnect();
  }
});
