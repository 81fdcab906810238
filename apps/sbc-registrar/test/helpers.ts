/**
 * The real parts every test file starts once (beforeAll): the SIP engine, Redis, MariaDB with the
 * jambonz schema, the fake customer hook; and the registrar app built exactly as index.ts builds it
 * (config from an environment map → registrarOptions → createRegistrar), connected to the engine.
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
  startEngine,
  startMysql,
  startRedis,
  type EngineService,
  type MysqlService,
  type RedisService,
  type StartEngineOptions,
  type TestDatabase,
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

export interface Stack {
  engine: EngineService;
  redis: RedisService;
  mysql: MysqlService;
  database: TestDatabase;
  db: Db;
  stop(): Promise<void>;
}

export async function startStack(options: { engine?: StartEngineOptions } = {}): Promise<Stack> {
  const [engine, redis, mysql] = await Promise.all([
    startEngine({ loglevel: 'warning', ...options.engine }),
    startRedis(),
    startMysql(),
  ]);
  const database = await mysql.createDatabase({ schema: schemaSql() });
  const db = createDb({
    host: database.host,
    port: database.port,
    user: database.user,
    password: database.password,
    database: database.database,
  });
  return {
    engine,
    redis,
    mysql,
    database,
    db,
    async stop() {
      await db.close().catch(() => undefined);
      await database.drop().catch(() => undefined);
      await Promise.all([engine.stop(), redis.stop(), mysql.stop()]);
    },
  };
}

/** The environment the app would get in production, pointing at the stack. */
export function stackEnv(stack: Stack, redis: { host: string; port: number } = stack.redis): Env {
  return {
    DRACHTIO_HOST: stack.engine.host,
    DRACHTIO_PORT: String(stack.engine.port),
    DRACHTIO_SECRET: stack.engine.secret,
    JAMBONES_MYSQL_HOST: stack.database.host,
    JAMBONES_MYSQL_PORT: String(stack.database.port),
    JAMBONES_MYSQL_USER: stack.database.user,
    // The test server's user has an empty password, which the variable cannot express (empty = unset).
    JAMBONES_MYSQL_PASSWORD: stack.database.password || 'set-below',
    JAMBONES_MYSQL_DATABASE: stack.database.database,
    JAMBONES_REDIS_HOST: redis.host,
    JAMBONES_REDIS_PORT: String(redis.port),
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
  const loaded = loadRegistrarConfig({ ...stackEnv(stack, extra.redis), ...env });
  const config = { ...loaded, mysql: { ...loaded.mysql, password: stack.database.password } };
  const logger = createLogger({ level: config.logLevel, name: 'sbc-registrar-test' });
  const metrics = createMetrics({ defaultMetrics: false });
  const db = createDb(config.mysql);
  const redis = createRedisClient({ ...config.redis, autoPipelining: true });
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

/** The value of one sample line of the metrics text, e.g. `sbc_registrations_total{result="registered",reason="hook"}`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
