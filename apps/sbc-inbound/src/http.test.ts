import { afterAll, describe, expect, it } from 'vitest';
import { createHealthServer, createMetrics } from '@sbc/service';
import { addJambonzRoutes } from './http.js';

describe("jambonz's HTTP endpoints", () => {
  let calls = 3;
  let redisUp = true;
  const health = createHealthServer({
    port: 0,
    checks: [],
    registry: createMetrics({ defaultMetrics: false }).registry,
  });
  addJambonzRoutes(health, {
    calls: () => calls,
    ping: [
      () => (redisUp ? Promise.resolve() : Promise.reject(new Error('redis is down'))),
      () => new Promise(() => undefined),
    ],
    timeoutMs: 200,
  });
  afterAll(() => health.close());

  it('GET / answers the calls in progress', async () => {
    const res = await health.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ calls: 3 });
  });

  it('GET /system-health answers 480 when a dependency fails or does not answer in time', async () => {
    redisUp = false;
    const down = await health.app.inject({ method: 'GET', url: '/system-health' });
    expect(down.statusCode).toBe(480);
    expect(down.json()).toMatchObject({ calls: 3, error: 'redis is down' });
    redisUp = true;
    calls = 0;
    const slow = await health.app.inject({ method: 'GET', url: '/system-health' });
    expect(slow.statusCode).toBe(480);
    expect(slow.json()).toMatchObject({ calls: 0, error: 'no answer within 200 ms' });
  });
});
