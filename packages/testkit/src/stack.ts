/**
 * The real dependencies of an SBC app, started together on loopback: the SIP engine, Redis and
 * MariaDB with a schema (pass @sbc/db's `schemaSql()`: the kit does not depend on @sbc/db) and an
 * application user with a password, plus the jambonz environment that points an app at them.
 */
import { randomBytes } from 'node:crypto';
import { startEngine, type EngineService, type StartEngineOptions } from './engine.js';
import { startMysql, type MysqlService, type TestDatabase } from './mysql.js';
import { startRedis, type RedisService } from './redis.js';

/** A database user with a password (JAMBONES_MYSQL_PASSWORD cannot be empty). */
export interface DatabaseUser {
  user: string;
  password: string;
}

/** Creates a user with every right on `database` only. */
export async function createDatabaseUser(mysql: MysqlService, database: TestDatabase): Promise<DatabaseUser> {
  const user = `sbc_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const conn = await mysql.connect();
  try {
    await conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await conn.query(`GRANT ALL ON \`${database.database}\`.* TO '${user}'@'%'`);
  } finally {
    await conn.end();
  }
  return { user, password };
}

/** DRACHTIO_HOST / _PORT / _SECRET for an app that dials `engine`. */
export function engineEnv(engine: EngineService): Record<string, string> {
  return { DRACHTIO_HOST: engine.host, DRACHTIO_PORT: String(engine.port), DRACHTIO_SECRET: engine.secret };
}

export function redisEnv(redis: { host: string; port: number }): Record<string, string> {
  return { JAMBONES_REDIS_HOST: redis.host, JAMBONES_REDIS_PORT: String(redis.port) };
}

/** JAMBONES_MYSQL_* for `database`, as `user`. */
export function mysqlEnv(database: TestDatabase, user: DatabaseUser): Record<string, string> {
  return {
    JAMBONES_MYSQL_HOST: database.host,
    JAMBONES_MYSQL_PORT: String(database.port),
    JAMBONES_MYSQL_USER: user.user,
    JAMBONES_MYSQL_PASSWORD: user.password,
    JAMBONES_MYSQL_DATABASE: database.database,
  };
}

export interface SbcStackOptions {
  /** SQL run in the new database (@sbc/db's `schemaSql()`). */
  schema: string | readonly string[];
  engine?: StartEngineOptions;
}

export interface SbcStack {
  engine: EngineService;
  redis: RedisService;
  mysql: MysqlService;
  /** The test database (root credentials, for seeding and checking). */
  database: TestDatabase;
  /** The application's own user of `database`. */
  databaseUser: DatabaseUser;
  /** DRACHTIO_*, JAMBONES_MYSQL_* (as `databaseUser`) and JAMBONES_REDIS_* pointing at the stack. */
  env: Record<string, string>;
  /** Drops the database and stops everything. */
  stop(): Promise<void>;
}

/** Starts the engine, Redis and MariaDB in parallel and loads `schema` into a fresh database. */
export async function startSbcStack(options: SbcStackOptions): Promise<SbcStack> {
  const [engine, redis, mysql] = await Promise.all([
    startEngine({ loglevel: 'warning', ...options.engine }),
    startRedis(),
    startMysql(),
  ]);
  const database = await mysql.createDatabase({ schema: options.schema });
  const databaseUser = await createDatabaseUser(mysql, database);
  return {
    engine,
    redis,
    mysql,
    database,
    databaseUser,
    env: { ...engineEnv(engine), ...mysqlEnv(database, databaseUser), ...redisEnv(redis) },
    async stop() {
      await database.drop().catch(() => undefined);
      await Promise.all([engine.stop(), redis.stop(), mysql.stop()]);
    },
  };
}
