import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createDb, schemaSql, type Db } from '@sbc/db';
import { createRedisClient, EphemeralGateways, type Redis } from '@sbc/redis';
import {
  startMysql,
  startRedis,
  type MysqlService,
  type RedisService,
  type TestDatabase,
} from '@sbc/testkit';
import { teamsProxyNetworks, type ClassifyDeps, type ClassifyInput } from '../../src/classify/index.js';

export interface ClassifyFixture {
  db: Db;
  redis: Redis;
  ephemeralGateways: EphemeralGateways;
  /** Classification dependencies over the fixture (Teams proxy 127.0.9.9), with overrides. */
  deps(overrides?: Partial<ClassifyDeps>): ClassifyDeps;
}

/** One MariaDB and one Redis for the test file, a database loaded with the schema and `seed`. */
export function useClassifyFixture(seed: (db: Db) => Promise<void>): () => ClassifyFixture {
  let mysql: MysqlService | undefined;
  let redisService: RedisService | undefined;
  let database: TestDatabase | undefined;
  let fixture: ClassifyFixture | undefined;
  let privateTmp: string | undefined;
  beforeAll(async () => {
    // mariadb-install-db works in $TMPDIR; a private one keeps parallel test files apart.
    privateTmp = mkdtempSync(join(tmpdir(), 'sbc-classify-'));
    process.env.TMPDIR = privateTmp;
    [mysql, redisService] = await Promise.all([startMysql(), startRedis()]);
    database = await mysql.createDatabase({ schema: schemaSql() });
    const db = createDb({
      host: database.host,
      port: database.port,
      user: database.user,
      password: database.password,
      database: database.database,
      connectionLimit: 4,
    });
    await seed(db);
    const redis = createRedisClient({
      host: redisService.host,
      port: redisService.port,
      db: redisService.db,
    });
    const ephemeralGateways = new EphemeralGateways(redis);
    const teamsProxyIps = teamsProxyNetworks(['127.0.9.9']);
    fixture = {
      db,
      redis,
      ephemeralGateways,
      deps: (overrides = {}) => ({ db, ephemeralGateways, teamsProxyIps, ...overrides }),
    };
  });
  afterAll(async () => {
    fixture?.redis.disconnect();
    await fixture?.db.close();
    await database?.drop();
    await Promise.all([mysql?.stop(), redisService?.stop()]);
    if (privateTmp) rmSync(privateTmp, { recursive: true, force: true });
  });
  return () => {
    if (!fixture) throw new Error('classify fixture not started');
    return fixture;
  };
}

/** An INVITE as the classification sees it: `sip:<user>@<host>` from `source`. */
export function invite(
  source: string,
  uri: string,
  extra: Partial<Pick<ClassifyInput, 'incomingApplicationSid' | 'siprec'>> = {},
): ClassifyInput {
  const match = /^(?:([^@]*)@)?(.+)$/.exec(uri);
  const user = match?.[1];
  const host = match?.[2] ?? uri;
  const did = (user ?? '').replace(/^\+/, '') || 'anonymous';
  return {
    source: { address: source, port: 5060 },
    requestUri: { ...(user ? { user } : {}), host },
    did,
    siprec: false,
    ...extra,
  };
}
