/**
 * Two sbc-registrar instances share one cluster: only the holder of `<cluster>:regbot-token`
 * registers to carriers; when it dies the token expires and the other takes over.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedCarrier, seedServiceProvider } from '@sbc/db';
import { createRedisClient } from '@sbc/redis';
import { startSipp, waitUntil, type SippRun } from '@sbc/testkit';
import type { RegistrarOptions } from '../src/app.js';
import { scenario, startRegistrar, startStack, type RunningRegistrar, type Stack } from './helpers.js';

let stack: Stack;
let carrierUas: SippRun;
let a: RunningRegistrar;
let b: RunningRegistrar | undefined;

const fast = (o: RegistrarOptions): RegistrarOptions => ({
  ...o,
  regbot: { ...o.regbot!, initialDelayMs: 0, checkIntervalMs: 250, lockTtlMs: 1200, batchSleepMs: 10 },
});

const start = (token: string) => startRegistrar(stack, { SBC_REGBOT: '1' }, fast, { regbotToken: token });

beforeAll(async () => {
  stack = await startStack();
  carrierUas = await startSipp({
    scenario: scenario('uas-register-401'),
    localAddress: '127.0.0.2',
    keys: { realm: 'sip.carrier.test', user: 'foo', password: 'bar', expires: 600 },
    timeoutMs: 120_000,
  });
  const sp = await seedServiceProvider(stack.db);
  await seedCarrier(stack.db, {
    service_provider_sid: sp.service_provider_sid,
    requires_register: true,
    register_username: 'foo',
    register_password: 'bar',
    register_sip_realm: 'sip.carrier.test',
    gateways: [{ ipv4: '127.0.0.2', port: carrierUas.localPort }],
  });
  a = await start('instance-a');
  await waitUntil(() => Promise.resolve(a.app.regbot!.status().registered === 1), {
    what: 'instance a registered',
  });
});

afterAll(async () => {
  await b?.stop();
  await a?.stop().catch(() => undefined);
  await carrierUas?.stop();
  await stack?.stop();
});

it('a second instance stays idle while the leader holds the token', async () => {
  b = await start('instance-b');
  await b.app.regbot!.check();
  await b.app.regbot!.check();
  expect(b.app.regbot!.isLeader()).toBe(false);
  expect(b.app.regbot!.status()).toEqual({ total: 0, registered: 0, active: false });
  expect(await b.redis.get('default:regbot-token')).toBe('instance-a');
});

it('takes over when the leader dies (its token expires), and registers', async () => {
  // A crash: no release, the token lapses after its TTL.
  await a.stop({ release: false });
  await waitUntil(() => Promise.resolve(b!.app.regbot!.status().registered === 1), {
    what: 'instance b registered',
    timeoutMs: 10_000,
  });
  expect(b!.app.regbot!.isLeader()).toBe(true);
  expect(await b!.redis.get('default:regbot-token')).toBe('instance-b');
  expect(await b!.scrape()).toMatch(/sbc_regbot_leader 1/);
});

it('gives the token up at once on a graceful stop', async () => {
  await b!.stop({ release: true });
  const redis = createRedisClient({ host: stack.redis.host, port: stack.redis.port });
  try {
    expect(await redis.get('default:regbot-token')).toBeNull();
  } finally {
    redis.disconnect();
  }
  b = undefined;
  const served = await carrierUas.stop();
  // One registration by each instance: two challenged REGISTERs answered 200.
  expect(served.messages.match(/^SIP\/2\.0 200 OK/gm)?.length).toBeGreaterThanOrEqual(2);
});
