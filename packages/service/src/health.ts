import { fastify, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

/** One readiness condition: resolves when it holds, rejects (or times out) when it does not. */
export interface ReadinessCheck {
  /** e.g. `mysql`, `redis`, `drachtio`. */
  name: string;
  check: () => Promise<void>;
  /** Per-check limit (default: the server's `checkTimeoutMs`). */
  timeoutMs?: number;
}

export interface ReadinessResult {
  name: string;
  ok: boolean;
  /** Why it failed. */
  error?: string;
}

export interface HealthServerOptions {
  /** `HTTP_PORT`; 0 picks a free port. */
  port: number;
  /** Address to bind (default `0.0.0.0`, as jambonz). */
  host?: string;
  checks: readonly ReadinessCheck[];
  /** Served at /metrics. */
  registry: Registry;
  /** Default limit of each readiness check (2000 ms). */
  checkTimeoutMs?: number;
  /** Failed checks are logged here (at warn). */
  logger?: Logger;
}

export interface HealthServer {
  /** The fastify instance: add routes before `listen`, or `inject` requests in tests. */
  readonly app: FastifyInstance;
  /** Binds the port; resolves with the address actually bound. */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** A readiness check failed by timing out. */
export class ReadinessTimeoutError extends Error {
  override readonly name = 'ReadinessTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

async function runCheck(check: ReadinessCheck, defaultTimeoutMs: number): Promise<ReadinessResult> {
  const timeoutMs = check.timeoutMs ?? defaultTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadinessTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(check.check), timeout]);
    return { name: check.name, ok: true };
  } catch (err) {
    return { name: check.name, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The HTTP side every app has: `GET /livez` (200 while the process runs), `GET /readyz` (runs every
 * check in parallel; 200 with their names when all pass, 503 naming the failing ones) and
 * `GET /metrics` (the prom-client registry in Prometheus text format). Built apart from `listen`.
 */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const { checks, registry, logger } = options;
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  const app = fastify({ logger: false });

  app.get('/livez', () => Promise.resolve({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(checks.map((check) => runCheck(check, checkTimeoutMs)));
    const failing = results.filter((r) => !r.ok);
    if (failing.length === 0) return { status: 'ready', checks: results };
    logger?.warn({ failing }, 'not ready');
    return reply
      .code(503)
      .send({ status: 'not ready', failing: failing.map((r) => r.name), checks: results });
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });

  return {
    app,
    async listen() {
      await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('HTTP server has no TCP address');
      logger?.info({ host: address.address, port: address.port }, 'health and metrics server listening');
      return { host: address.address, port: address.port };
    },
    async close() {
      await app.close();
    },
  };
}
