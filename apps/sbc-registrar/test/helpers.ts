/**
 * The real parts every test file starts once (beforeAll): @sbc/testkit's stack (SIP engine, Redis,
 * MariaDB with the jambonz schema), the fake customer hook; and the registrar app built exactly as
 * index.ts builds it (config from an environment map → registrarOptions → createRegistrar).
 */
import { fileURLToPath } from 'node:url';
import { schemaSql, createDb, type Db } from '@sbc/db';
import { createRedisClient, type Redis } from '@sbc/redis';
import {
  connectDrachtio,
  createLogger,
  createMetrics,
  createSrf,
  type DrachtioConnection,
  type Env,
  type Logger,
  type Metrics,
  type Srf,
} from '@sbc/service';
import {
  metricValue as sampleValue,
  redisEnv,
  startSbcStack,
  type SbcStack,
  type StartEngineOptions,
} from '@sbc/testkit';
import { createRegistrar, registrarOptions, type RegistrarApp, type RegistrarOptions } from '../src/app.js';
import { loadRegistrarConfig } from '../src/config.js';

export const PHONE = '127.0.0.3';
export const JWT_SECRET = 'test-jwt-secret-for-registrar';
export const CIPHER = { encryptionSecret: JWT_SECRET };

/** A sipp scenario of this suite. */
export function scenario(name: string): string {
  return fileURLToPath(new URL(`./scenarios/${name}.xml`, import.meta.url));
}

export interface Stack extends SbcStack {
  /** Root connection to the test database, for seeding and checking. */
  db: Db;
}

export async function startStack(options: { engine?: StartEngineOptions } = {}): Promise<Stack> {
  const stack = await startSbcStack({ schema: schemaSql(), ...options });
  const { host, port, user, password, database } = stack.database;
  const db = createDb({ host, port, user, password, database });
  return {
    ...stack,
    db,
    async stop() {
      await db.close().catch(() => undefined);
      await stack.stop();
    },
  };
}

/** The environment the app would get in production, pointing at the stack. */
export function stackEnv(stack: Stack, redis: { host: string; port: number } = stack.redis): Env {
  return {
    ...stack.env,
    ...redisEnv(redis),
    JWT_SECRET,
    JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
    JAMBONES_LOGLEVEL: process.env.SBC_TEST_LOGLEVEL ?? 'silent',
    SBC_REGBOT: '0',
  };
}

export interface RunningRegistrar {
  app: RegistrarApp;
  srf: Srf;
  db: Db;
  redis: Redis;
  metrics: Metrics;
  logger: Logger;
  connection: DrachtioConnection;
  /** The metrics text (as /metrics serves it). */
  scrape(): Promise<string>;
  stop(options?: { release?: boolean }): Promise<void>;
}

/**
 * Builds and connects the registrar. `env` adds to or overrides `stackEnv`; `tweak` changes the
 * options built from it (timers in ms that the environment gives in seconds).
 */
export async function startRegistrar(
  stack: Stack,
  env: Env = {},
  tweak: (options: RegistrarOptions) => RegistrarOptions = (o) => o,
  extra: { clock?: () => number; regbotToken?: string; redis?: { host: string; port: number } } = {},
): Promise<RunningRegistrar> {
  const config = loadRegistrarConfig({ ...stackEnv(stack, extra.redis), ...env });
  const logger = createLogger({ level: config.logLevel, name: 'sbc-registrar-test' });
  const metrics = createMetrics({ defaultMetrics: false });
  const db = createDb(config.mysql);
  const redis = createRedisClient({ ...config.redis, batchWrites: true });
  const srf = createSrf();
  const app = createRegistrar({
    srf,
    db,
    redis,
    logger,
    metrics,
    options: tweak(registrarOptions(config)),
    ...(extra.clock !== undefined && { clock: extra.clock }),
    ...(extra.regbotToken !== undefined && { regbotToken: extra.regbotToken }),
  });
  const connection = connectDrachtio(srf, config.drachtio, logger);
  const engine = await connection.connected(5000);
  await app.engineConnected(engine);
  // srf registers its methods with the engine right after authenticating: let that land.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return {
    app,
    srf,
    db,
    redis,
    metrics,
    logger,
    connection,
    scrape: () => metrics.registry.metrics(),
    async stop(options) {
      await app.stop(options);
      await connection.close();
      redis.disconnect();
      await db.close().catch(() => undefined);
    },
  };
}

/** @sbc/testkit's `metricValue`, 0 for a series not there yet. */
export const metricValue = (...args: Parameters<typeof sampleValue>): number => sampleValue(...args) ?? 0;
