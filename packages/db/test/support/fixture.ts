import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startMysql, type MysqlService, type TestDatabase } from '@sbc/testkit';
import { createDb, type Db, type DbOptions } from '../../src/index.js';

/** One private MariaDB for the test file (started in beforeAll, stopped in afterAll). */
export function useMysql(): () => MysqlService {
  let mysql: MysqlService | undefined;
  let privateTmp: string | undefined;
  beforeAll(async () => {
    // mariadb-install-db bootstraps a server in $TMPDIR, and a starting server deletes every
    // `#sql*` file there: two test files installing at once in the shared /tmp can break each
    // other. A private TMPDIR per test process avoids it (until the test kit passes its own).
    privateTmp = mkdtempSync(join(tmpdir(), 'sbc-db-test-'));
    process.env.TMPDIR = privateTmp;
    mysql = await startMysql();
  });
  afterAll(async () => {
    await mysql?.stop();
    if (privateTmp) rmSync(privateTmp, { recursive: true, force: true });
  });
  return () => {
    if (!mysql) throw new Error('MariaDB not started');
    return mysql;
  };
}

export function dbOptionsFor(database: TestDatabase, extra: Partial<DbOptions> = {}): DbOptions {
  return {
    host: database.host,
    port: database.port,
    user: database.user,
    password: database.password,
    database: database.database,
    connectionLimit: 4,
    ...extra,
  };
}

export interface DatabaseFixture {
  mysql: MysqlService;
  database: TestDatabase;
  db: Db;
  /** Another fresh database with the same schema, and a Db over it (closed and dropped after the file). */
  another(extra?: Partial<DbOptions>): Promise<{ database: TestDatabase; db: Db }>;
  /** Another Db over the same database (closed after the file). */
  connect(extra?: Partial<DbOptions>): Db;
}

/** A fresh database loaded with `schema` and a Db over it, for the enclosing describe block. */
export function useDatabase(
  mysql: () => MysqlService,
  schema: () => string | readonly string[],
): () => DatabaseFixture {
  let fixture: DatabaseFixture | undefined;
  const extras: { db: Db; database?: TestDatabase }[] = [];
  beforeAll(async () => {
    const server = mysql();
    const database = await server.createDatabase({ schema: schema() });
    const db = createDb(dbOptionsFor(database));
    fixture = {
      mysql: server,
      database,
      db,
      async another(extra) {
        const other = await server.createDatabase({ schema: schema() });
        const otherDb = createDb(dbOptionsFor(other, extra));
        extras.push({ db: otherDb, database: other });
        return { database: other, db: otherDb };
      },
      connect(extra) {
        const otherDb = createDb(dbOptionsFor(database, extra));
        extras.push({ db: otherDb });
        return otherDb;
      },
    };
  });
  afterAll(async () => {
    for (const extra of extras) {
      await extra.db.close();
      await extra.database?.drop();
    }
    await fixture?.db.close();
    await fixture?.database.drop();
  });
  return () => {
    if (!fixture) throw new Error('database not created');
    return fixture;
  };
}
