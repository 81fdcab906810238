import { createServer, type Server, type Socket } from 'node:net';
import { redisAnswersPing, startRedis, type RedisService } from '@sbc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHealthServer,
  createLogger,
  createMetrics,
  type HealthServer,
  type ReadinessCheck,
} from '../src/index.js';
import { LogCapture } from './helpers/log-capture.js';

/** A readiness check as an app writes one: PING the real Redis. */
function redisCheck(redis: { host: string; port: number }): ReadinessCheck {
  return {
    name: 'redis',
    check: async () => {
      if (!(await redisAnswersPing(redis.host, redis.port))) throw new Error('Redis does not answer PING');
    },
  };
}

let redis: RedisService;
let silent: Server;
let silentPort: number;
const silentSockets = new Set<Socket>();
let server: HealthServer;
let base: string;
const capture = new LogCapture();
const metrics = createMetrics({ defaultMetrics: false });
const invites = metrics.counter('sbc_invites_total', 'INVITEs received');

beforeAll(async () => {
  redis = await startRedis();
  // Accepts connections and never answers: a dependency that hangs.
  silent = createServer((socket) => silentSockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
  server = createHealthServer({
    port: 0,
    host: '127.0.0.1',
    checks: [redisCheck(redis), { name: 'mysql', check: () => Promise.resolve() }],
    registry: metrics.registry,
    logger: createLogger({ level: 'info', name: 'health-test', destination: capture }),
  });
  const { host, port } = await server.listen();
  base = `http://${host}:${port}`;
});

afterAll(async () => {
  await server?.close();
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  await redis?.stop();
});

describe('health server', () => {
  it('answers /livez while the process runs (inject and real HTTP)', async () => {
    const injected = await server.app.inject({ method: 'GET', url: '/livez' });
    expect(injected.statusCode).toBe(200);
    expect(injected.json()).toEqual({ status: 'ok' });
    const res = await fetch(`${base}/livez`);
    expect(res.status).toBe(200);
    const head = await fetch(`${base}/livez`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('answers /readyz 200 with every check when all pass', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: [
        { name: 'redis', ok: true },
        { name: 'mysql', ok: true },
      ],
    });
  });

  it('serves /metrics in the Prometheus text format', async () => {
    invites.inc(2);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE sbc_invites_total counter');
    expect(text).toContain('sbc_invites_total 2');
  });

  it('answers 404 elsewhere', async () => {
    expect((await fetch(`${base}/system-health`)).status).toBe(404);
  });
});

describe('readiness failures', () => {
  it('names a check that hangs, after its timeout, as failing', async () => {
    const hanging = createHealthServer({
      port: 0,
      checks: [
        { name: 'mysql', check: () => Promise.resolve() },
        {
          name: 'rtpengine',
          check: () => redisCheck({ host: '127.0.0.1', port: silentPort }).check(),
          timeoutMs: 150,
        },
      ],
      registry: metrics.registry,
    });
    try {
      const res = await hanging.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        status: 'not ready',
        failing: ['rtpengine'],
        checks: [
          { name: 'mysql', ok: true },
          { name: 'rtpengine', ok: false, error: 'no answer within 150 ms' },
        ],
      });
    } finally {
      await hanging.close();
    }
  });

  it('names a check that throws synchronously as failing', async () => {
    const broken = createHealthServer({
      port: 0,
      checks: [
        {
          name: 'drachtio',
          check: () => {
            throw new Error('not connected to the SIP engine');
          },
        },
      ],
      registry: metrics.registry,
    });
    try {
      const res = await broken.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ failing: ['drachtio'] });
    } finally {
      await broken.close();
    }
  });

  it('answers /readyz 503 naming redis once Redis is down, and logs it', async () => {
    await redis.stop();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'not ready',
      failing: ['redis'],
      checks: [
        { name: 'redis', ok: false, error: 'Redis does not answer PING' },
        { name: 'mysql', ok: true },
      ],
    });
    const line = await capture.waitForMsg('not ready');
    expect(line.failing).toEqual([{ name: 'redis', ok: false, error: 'Redis does not answer PING' }]);
    // Liveness does not depend on readiness.
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });
});
