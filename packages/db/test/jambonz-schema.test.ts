import { describe, expect, it } from 'vitest';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { SCHEMA_TABLES, schemaPath, schemaSql } from '../src/index.js';
import { useDatabase, useMysql } from './support/fixture.js';
import { defineQuerySuite } from './support/query-suite.js';
import { adaptForMariaDb, loadSqlFile, splitSqlStatements } from './support/sql-loader.js';

/*
 * Compatibility with jambonz's own schema (jambonz-api-server db/jambones-sql.sql). CI points
 * SBC_TEST_JAMBONZ_SCHEMA at that file; it is not part of this repository. Without it, only the
 * loader and our own schema.sql are checked here.
 */
const jambonzSchema = process.env.SBC_TEST_JAMBONZ_SCHEMA;

const mysql = useMysql();

describe('SQL loader', () => {
  it('splits statements outside quotes and comments', () => {
    const sql = `-- a comment; with a semicolon
      CREATE TABLE t (a VARCHAR(9) COMMENT 'x; y', b ENUM("p;q") /* c; d */);
      # another; comment
      /*!80016 SET x = 1 */;
      INSERT INTO t VALUES ('it''s; fine', "a\\"b;");
      SELECT \`odd;name\` FROM t`;
    expect(splitSqlStatements(sql)).toEqual([
      `CREATE TABLE t (a VARCHAR(9) COMMENT 'x; y', b ENUM("p;q")  )`,
      `INSERT INTO t VALUES ('it''s; fine', "a\\"b;")`,
      'SELECT `odd;name` FROM t',
    ]);
  });

  it('rewrites MySQL 8 only syntax', () => {
    expect(adaptForMariaDb('CREATE INDEX i ON t (a) VISIBLE')).toBe('CREATE INDEX i ON t (a)');
    expect(adaptForMariaDb('CREATE TABLE t (a INT) COLLATE=utf8mb4_0900_ai_ci')).toBe(
      'CREATE TABLE t (a INT) COLLATE=utf8mb4_unicode_ci',
    );
  });

  it('loads schema.sql statement by statement, twice (idempotent), creating exactly the SBC tables', async () => {
    const statements = loadSqlFile(schemaPath);
    const database = await mysql().createDatabase({ schema: statements });
    const conn = await mysql().connect();
    try {
      await conn.query(`USE \`${database.database}\``);
      for (const statement of statements) await conn.query(statement);
      const [rows] = await conn.query<RowDataPacket[]>('SHOW TABLES');
      expect(rows.map((r) => Object.values(r)[0] as string).sort()).toEqual([...SCHEMA_TABLES].sort());
      expect(schemaSql()).toContain('CREATE TABLE IF NOT EXISTS sbc_addresses');
    } finally {
      await conn.end();
      await database.drop();
    }
  });
});

/** Columns, indexes and foreign keys of a table, as comparable text. */
async function describeTable(conn: Connection, database: string, table: string) {
  const q = async (sql: string) => {
    const [rows] = await conn.query<RowDataPacket[]>(sql, [database, table]);
    return rows.map((r) => Object.values(r).map(String).join(' '));
  };
  return {
    columns: await q(
      `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COALESCE(COLUMN_DEFAULT, '-') FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    ),
    indexes: await q(
      `SELECT INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? GROUP BY INDEX_NAME, NON_UNIQUE ORDER BY INDEX_NAME`,
    ),
    foreignKeys: await q(
      `SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
        WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
        ORDER BY k.CONSTRAINT_NAME`,
    ),
  };
}

describe.runIf(jambonzSchema)('jambonz schema (SBC_TEST_JAMBONZ_SCHEMA)', () => {
  const fixture = useDatabase(mysql, () => loadSqlFile(jambonzSchema!));

  it('has every table of schema.sql with the same columns, types, defaults, keys and foreign keys', async () => {
    const ours = await mysql().createDatabase({ schema: schemaSql() });
    const conn = await mysql().connect();
    try {
      for (const table of SCHEMA_TABLES) {
        const theirs = await describeTable(conn, fixture().database.database, table);
        expect(theirs.columns.length, `${table} exists in jambonz's schema`).toBeGreaterThan(0);
        expect(await describeTable(conn, ours.database, table), table).toEqual(theirs);
      }
    } finally {
      await conn.end();
      await ours.drop();
    }
  });

  describe('every query', () => {
    defineQuerySuite(fixture);
  });
});
