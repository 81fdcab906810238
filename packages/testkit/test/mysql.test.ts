import { existsSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMysql, type MysqlService } from '../src/index.js';
import { processIsGone } from './helpers.js';

const schema = `
CREATE TABLE accounts (
  account_sid CHAR(36) NOT NULL PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  sip_realm VARCHAR(132) UNIQUE
);
INSERT INTO accounts VALUES ('ed649e33-e771-403a-8c99-1780eabbc803', 'test account', 'jambonz.org');
`;

describe('startMysql', () => {
  let mysql: MysqlService;
  beforeAll(async () => {
    mysql = await startMysql();
  });
  afterAll(async () => {
    await mysql?.stop();
  });

  it('creates a fresh database with a schema, answers queries, and drops it', async () => {
    const db = await mysql.createDatabase({ schema });
    expect(db.database).toMatch(/^jambones_test_[0-9a-f]{8}$/);
    const conn = await createConnection(db.connectionOptions);
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT name FROM accounts WHERE sip_realm = ?', [
        'jambonz.org',
      ]);
      expect(rows.map((r) => r.name as string)).toEqual(['test account']);
    } finally {
      await conn.end();
    }
    await db.drop();
    const root = await mysql.connect();
    try {
      const [dbs] = await root.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [db.database]);
      expect(dbs).toHaveLength(0);
    } finally {
      await root.end();
    }
  });

  it('keeps databases of one server apart', async () => {
    const a = await mysql.createDatabase({ schema });
    const b = await mysql.createDatabase();
    expect(a.database).not.toBe(b.database);
    await a.drop();
    await b.drop();
  });

  it.runIf(!process.env.SBC_TEST_MYSQL)('leaves no process and no datadir behind when stopped', async () => {
    const own = await startMysql();
    expect(existsSync(own.dataDir!)).toBe(true);
    await own.stop();
    expect(processIsGone(own.pid)).toBe(true);
    expect(existsSync(own.dataDir!)).toBe(false);
  });
});
