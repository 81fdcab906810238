import { createServer, type Server, type Socket } from 'node:net';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freeTcpPort, makeTempDir, startMysql, type TestDatabase } from '@sbc/testkit';
import {
  DbConfigError,
  DbQueryError,
  DbUnavailableError,
  addSbcAddress,
  createDb,
  lookupAccountBySipRealm,
  lookupSystemInformation,
  schemaSql,
  seedAccount,
  seedServiceProvider,
  type Db,
  type DbOptions,
} from '../src/index.js';
import { ReadCache } from '../src/cache.js';
import { dbOptionsFor, useDatabase, useMysql } from './support/fixture.js';

const mysql = useMysql();

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('pool', () => {
  const fixture = useDatabase(mysql, () => schemaSql());

  it('pings', async () => {
    await expect(fixture().db.ping()).resolves.toBeUndefined();
  });

  it('commits a transaction, and rolls it back when the work throws (the error passes through)', async () => {
    const { db } = fixture();
    const sp = await db.transaction(async (tx) => seedServiceProvider(tx, { name: 'committed' }));
    expect(
      await db.select('SELECT 1 FROM service_providers WHERE service_provider_sid = ?', [
        sp.service_provider_sid,
      ]),
    ).toHaveLength(1);
    const boom = new Error('boom');
    const err = await rejection(
      db.transaction(async (tx) => {
        await seedServiceProvider(tx, { name: 'rolled back' });
        throw boom;
      }),
    );
    expect(err).toBe(boom);
    expect(await db.select("SELECT 1 FROM service_providers WHERE name = 'rolled back'")).toEqual([]);
  });

  it('wraps SQL errors in DbQueryError with the MySQL code', async () => {
    const { db } = fixture();
    const err = await rejection(db.select('SELEKT 1'));
    expect(err).toBeInstanceOf(DbQueryError);
    expect((err as DbQueryError).code).toBe('ER_PARSE_ERROR');
    const dup = await rejection(seedServiceProvider(db, { name: 'committed' }));
    expect(dup).toMatchObject({ name: 'DbQueryError', code: 'ER_DUP_ENTRY' });
  });

  it('reports a database without the schema as DbQueryError (missing table)', async () => {
    const empty = await mysql().createDatabase();
    const db = createDb(dbOptionsFor(empty));
    try {
      await expect(lookupSystemInformation(db)).rejects.toMatchObject({
        name: 'DbQueryError',
        code: 'ER_NO_SUCH_TABLE',
      });
    } finally {
      await db.close();
      await empty.drop();
    }
  });

  it('refuses options that cannot work', () => {
    const good = dbOptionsFor(fixture().database);
    const bad: Partial<DbOptions>[] = [
      { host: '' },
      { port: 0 },
      { port: 70000 },
      { user: '' },
      { database: '' },
      { connectionLimit: 0 },
      { refreshTtlSeconds: -1 },
      { connectTimeoutMs: 0 },
      { queryTimeoutMs: Number.NaN },
    ];
    for (const change of bad)
      expect(() => createDb({ ...good, ...change }), JSON.stringify(change)).toThrow(DbConfigError);
  });

  it('replaces a pooled connection the server killed while it was idle', async () => {
    const db = fixture().connect({ connectionLimit: 1 });
    const [before] = await db.select<{ id: number }>('SELECT CONNECTION_ID() AS id');
    const root = await mysql().connect();
    try {
      await root.query('KILL ?', [before!.id]);
    } finally {
      await root.end();
    }
    const [after] = await db.select<{ id: number }>('SELECT CONNECTION_ID() AS id');
    expect(after!.id).not.toBe(before!.id);
  });

  it('rejects with DbUnavailableError once closed', async () => {
    const db = createDb(dbOptionsFor(fixture().database));
    await db.ping();
    await db.close();
    await expect(db.ping()).rejects.toBeInstanceOf(DbUnavailableError);
  });
});

describe('read cache (refreshTtlSeconds)', () => {
  const fixture = useDatabase(mysql, () => schemaSql());
  let writer: Db;
  let accountSid: string;
  const realm = 'cache.sbc.test';
  const rename = (name: string) =>
    writer.execute('UPDATE accounts SET name = ? WHERE account_sid = ?', [name, accountSid]);
  const nameVia = async (db: Db) => (await lookupAccountBySipRealm(db, realm))?.name;

  beforeAll(async () => {
    writer = fixture().db;
    const sp = await seedServiceProvider(writer);
    accountSid = (
      await seedAccount(writer, {
        service_provider_sid: sp.service_provider_sid,
        sip_realm: realm,
        name: 'v1',
      })
    ).account_sid;
  });

  it('serves repeated reads from the cache until cleared', async () => {
    const cached = fixture().connect({ refreshTtlSeconds: 60 });
    await rename('v1');
    expect(await nameVia(cached)).toBe('v1');
    await rename('v2');
    expect(await nameVia(writer)).toBe('v2');
    expect(await nameVia(cached)).toBe('v1');
    cached.clearCache();
    expect(await nameVia(cached)).toBe('v2');
  });

  it('forgets cached reads after a write through the same Db', async () => {
    const cached = fixture().connect({ refreshTtlSeconds: 60 });
    await rename('v3');
    expect(await nameVia(cached)).toBe('v3');
    await cached.execute('UPDATE accounts SET name = ? WHERE account_sid = ?', ['v4', accountSid]);
    expect(await nameVia(cached)).toBe('v4');
    await rename('v5');
    expect(await nameVia(cached)).toBe('v4');
    // Transactions (here the sbc_addresses upsert) clear it too.
    await addSbcAddress(cached, { ipv4: '127.0.0.1' });
    expect(await nameVia(cached)).toBe('v5');
  });

  it('hands out copies: changing a result does not change the next one', async () => {
    const cached = fixture().connect({ refreshTtlSeconds: 60 });
    const first = await lookupAccountBySipRealm(cached, realm);
    first!.name = 'changed by caller';
    expect(await nameVia(cached)).not.toBe('changed by caller');
  });

  it('hands out deep copies of Date, Buffer and JSON values, keeping their types', async () => {
    const cached = fixture().connect({ refreshTtlSeconds: 60 });
    type Row = { at: Date; bin: Buffer };
    const sql = "SELECT TIMESTAMP '2024-05-06 07:08:09' AS at, X'0102' AS bin FROM DUAL WHERE ? = 1";
    const [first] = await cached.cachedSelect<Row>(sql, [1]);
    const [second] = await cached.cachedSelect<Row>(sql, [1]);
    expect(second!.at).toBeInstanceOf(Date);
    expect(Buffer.isBuffer(second!.bin)).toBe(true);
    expect(second!.at).not.toBe(first!.at);
    expect(second!.bin).not.toBe(first!.bin);
    first!.at.setFullYear(1999);
    first!.bin[0] = 0xff;
    second!.at.setFullYear(1998);
    second!.bin[1] = 0xff;
    const [third] = await cached.cachedSelect<Row>(sql, [1]);
    expect(third!.at.getFullYear()).toBe(2024);
    expect([...third!.bin]).toEqual([1, 2]);

    // JSON columns (MySQL hands them out parsed; MariaDB as text): nested objects and arrays.
    const cache = new ReadCache(60);
    const row = { doc: { list: [1, { at: new Date(0) }], bin: Buffer.from([7]) }, n: 1 };
    cache.set('json', [row]);
    row.doc.list.push(2);
    const got = cache.get('json') as (typeof row)[];
    expect(got).toEqual([{ doc: { list: [1, { at: new Date(0) }], bin: Buffer.from([7]) }, n: 1 }]);
    (got[0]!.doc.list[1] as { at: Date }).at.setTime(5);
    got[0]!.doc.list.push(3);
    got[0]!.doc.bin[0] = 8;
    expect(cache.get('json')).toEqual([
      { doc: { list: [1, { at: new Date(0) }], bin: Buffer.from([7]) }, n: 1 },
    ]);
  });

  it('runs one query for concurrent misses of a key, each caller getting its own copy', async () => {
    const cached = fixture().connect({ refreshTtlSeconds: 60, connectionLimit: 4 });
    await rename('herd');
    const root = await mysql().connect();
    const selects = async () => {
      const [rows] = await root.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Com_select'");
      return Number(rows[0]!.Value);
    };
    try {
      await cached.ping(); // the pool's first connection is open
      const before = await selects();
      const accounts = await Promise.all(
        Array.from({ length: 50 }, () => lookupAccountBySipRealm(cached, realm)),
      );
      expect(await selects()).toBe(before + 1);
      expect(accounts.map((a) => a?.name)).toEqual(Array(50).fill('herd'));
      expect(new Set(accounts).size).toBe(50);
      const sql = 'SELECT name FROM accounts WHERE account_sid = ?';
      const [a, b] = await Promise.all([
        cached.cachedSelect<{ name: string }>(sql, [accountSid]),
        cached.cachedSelect<{ name: string }>(sql, [accountSid]),
      ]);
      expect(a[0]).not.toBe(b[0]);
      a[0]!.name = 'changed by caller';
      expect(b[0]!.name).toBe('herd');
      expect((await cached.cachedSelect<{ name: string }>(sql, [accountSid]))[0]!.name).toBe('herd');
    } finally {
      await root.end();
    }
  });

  it('rejects every caller waiting on a failed query with its error, and caches nothing', async () => {
    const { db } = fixture();
    const cached = fixture().connect({ refreshTtlSeconds: 60 });
    const sql = 'SELECT v FROM herd_late WHERE v = ?';
    const errors = await Promise.all(
      Array.from({ length: 10 }, () => rejection(cached.cachedSelect(sql, [1]))),
    );
    expect(errors[0]).toMatchObject({ name: 'DbQueryError', code: 'ER_NO_SUCH_TABLE' });
    expect(new Set(errors).size).toBe(1); // one query, one error, shared
    await db.execute('CREATE TABLE herd_late (v INT)');
    try {
      await db.execute('INSERT INTO herd_late VALUES (1)');
      expect(await cached.cachedSelect(sql, [1])).toEqual([{ v: 1 }]);
    } finally {
      await db.execute('DROP TABLE herd_late');
    }
  });

  it('does not cache what a query in flight when the cache was cleared returns', async () => {
    const cache = new ReadCache(60);
    let finish: (rows: unknown[]) => void = () => undefined;
    const stale = cache.load('k', () => new Promise<unknown[]>((resolve) => (finish = resolve)));
    cache.clear();
    // A caller after the clear does not join the stale query.
    const fresh = cache.load('k', () => Promise.resolve(['fresh']));
    expect(await fresh).toEqual(['fresh']);
    finish(['stale']);
    expect(await stale).toEqual(['stale']);
    expect(cache.get('k')).toEqual(['fresh']);
    const dropped = cache.load('other', () => new Promise<unknown[]>((resolve) => (finish = resolve)));
    cache.clear();
    finish(['stale']);
    await dropped;
    expect(cache.get('other')).toBeUndefined();
  });

  it('expires entries after the TTL', async () => {
    const cached = fixture().connect({ refreshTtlSeconds: 0.2 });
    await rename('v6');
    expect(await nameVia(cached)).toBe('v6');
    await rename('v7');
    await vi.waitFor(async () => expect(await nameVia(cached)).toBe('v7'), { timeout: 5000, interval: 50 });
  });

  it('does not cache without refreshTtlSeconds', async () => {
    await rename('v8');
    expect(await nameVia(writer)).toBe('v8');
    await rename('v9');
    expect(await nameVia(writer)).toBe('v9');
  });

  it('bounds its size, dropping expired entries first, then the oldest', () => {
    const cache = new ReadCache(60, 2);
    cache.set('a', [1]);
    cache.set('b', [2]);
    cache.set('c', [3]);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toEqual([3]);
    const expired = new ReadCache(0, 2);
    expired.set('x', [1]);
    expect(expired.get('x')).toBeUndefined();
  });

  it('keeps at most maxEntries live entries, oldest out first; a refreshed key moves to the end', () => {
    const cache = new ReadCache(60, 10_000);
    for (let i = 0; i < 30_000; i++) cache.set(`user-${i}`, [i]);
    expect(cache.size).toBe(10_000);
    expect(cache.get('user-19999')).toBeUndefined();
    expect(cache.get('user-20000')).toEqual([20000]);
    const small = new ReadCache(60, 2);
    small.set('a', [1]);
    small.set('b', [2]);
    small.set('a', [3]); // refreshed: now the newest
    small.set('c', [4]); // evicts b, the oldest
    expect(small.get('b')).toBeUndefined();
    expect(small.get('a')).toEqual([3]);
  });
});

describe('MySQL unreachable', () => {
  let blackHole: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP connections and never says a word: a hung server.
    blackHole = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  });

  const base = (): DbOptions => ({
    host: '127.0.0.1',
    port: 1,
    user: 'root',
    password: '',
    database: 'jambones',
  });

  it('rejects fast with DbUnavailableError when nothing listens on the port', async () => {
    const db = createDb({ ...base(), port: await freeTcpPort() });
    try {
      const err = await rejection(db.ping());
      expect(err).toBeInstanceOf(DbUnavailableError);
      expect((err as DbUnavailableError).code).toBe('ECONNREFUSED');
      await expect(lookupAccountBySipRealm(db, 'a.sbc.test')).rejects.toBeInstanceOf(DbUnavailableError);
      await expect(db.transaction((tx) => tx.select('SELECT 1'))).rejects.toBeInstanceOf(DbUnavailableError);
      await expect(addSbcAddress(db, { ipv4: '127.0.0.1' })).rejects.toBeInstanceOf(DbUnavailableError);
    } finally {
      await db.close();
    }
  });

  it('gives up on a server that never answers after connectTimeoutMs', async () => {
    const address = blackHole.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const db = createDb({ ...base(), port, connectTimeoutMs: 300 });
    try {
      const err = await rejection(db.ping());
      expect(err).toBeInstanceOf(DbUnavailableError);
      expect((err as DbUnavailableError).code).toBe('ETIMEDOUT');
    } finally {
      await db.close();
    }
  });
});

describe('MySQL refusing us', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await mysql().createDatabase({ schema: schemaSql() });
  });
  afterAll(async () => {
    await database.drop();
  });

  for (const [what, change, code] of [
    ['a wrong password', { password: 'wrong' }, 'ER_ACCESS_DENIED_ERROR'],
    ['an unknown database', { database: 'no_such_database' }, 'ER_BAD_DB_ERROR'],
    ['TLS the server does not offer', { ssl: { rejectUnauthorized: false } }, 'HANDSHAKE_NO_SSL_SUPPORT'],
  ] as const) {
    it(`rejects ${what} with DbUnavailableError`, async () => {
      const db = createDb({ ...dbOptionsFor(database), ...change });
      try {
        await expect(db.ping()).rejects.toMatchObject({ name: 'DbUnavailableError', code });
      } finally {
        await db.close();
      }
    });
  }

  it('drops a query that outlives queryTimeoutMs with DbUnavailableError, and keeps working', async () => {
    // One connection: the next statement can only succeed if the timed-out one was not reused.
    const db = createDb(dbOptionsFor(database, { queryTimeoutMs: 200, connectionLimit: 1 }));
    try {
      await expect(db.select('SELECT SLEEP(5)')).rejects.toMatchObject({
        name: 'DbUnavailableError',
        code: 'PROTOCOL_SEQUENCE_TIMEOUT',
      });
      await expect(db.ping()).resolves.toBeUndefined();
    } finally {
      await db.close();
    }
  });
});

describe('MySQL restarting', () => {
  it('serves again through the same pool once MySQL is back', async () => {
    const dir = makeTempDir('db-restart');
    const port = await freeTcpPort();
    let server = await startMysql({ port, dataDir: dir.path });
    const database = await server.createDatabase({ schema: schemaSql(), name: 'sbc_restart_test' });
    const db = createDb(dbOptionsFor(database, { connectionLimit: 2 }));
    try {
      const sp = await seedServiceProvider(db);
      await seedAccount(db, { service_provider_sid: sp.service_provider_sid, sip_realm: 'restart.sbc.test' });
      await Promise.all([db.ping(), db.ping()]);
      await server.stop();
      await expect(db.ping()).rejects.toBeInstanceOf(DbUnavailableError);
      server = await startMysql({ port, dataDir: dir.path });
      expect((await lookupAccountBySipRealm(db, 'restart.sbc.test'))?.sip_realm).toBe('restart.sbc.test');
    } finally {
      await db.close();
      await server.stop();
      dir.remove();
    }
  });
});

// Last in this file: it stops the MariaDB the other blocks use.
describe('MySQL going down under a running pool', () => {
  it('turns every call into DbUnavailableError, without hanging', async () => {
    const database = await mysql().createDatabase({ schema: schemaSql() });
    const db = createDb(dbOptionsFor(database));
    try {
      const sp = await seedServiceProvider(db);
      await seedAccount(db, { service_provider_sid: sp.service_provider_sid, sip_realm: 'down.sbc.test' });
      expect((await lookupAccountBySipRealm(db, 'down.sbc.test'))?.sip_realm).toBe('down.sbc.test');
      await mysql().stop();
      await expect(db.ping()).rejects.toBeInstanceOf(DbUnavailableError);
      await expect(lookupAccountBySipRealm(db, 'down.sbc.test')).rejects.toBeInstanceOf(DbUnavailableError);
      await expect(addSbcAddress(db, { ipv4: '127.0.0.1' })).rejects.toBeInstanceOf(DbUnavailableError);
      await expect(db.execute('DELETE FROM sbc_addresses')).rejects.toBeInstanceOf(DbUnavailableError);
    } finally {
      await db.close();
    }
  });
});
