import {
  createPool,
  type Pool,
  type PoolConnection,
  type PoolOptions,
  type ResultSetHeader,
  type RowDataPacket,
  type TypeCast,
} from 'mysql2/promise';
import { ReadCache } from './cache.js';
import { DbConfigError, DbUnavailableError, isConnectionFailure, toDbError } from './errors.js';

/** TLS to MySQL; PEM contents (not file names). */
export interface DbTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** Default true: the server certificate must be valid for the host. */
  rejectUnauthorized?: boolean;
}

/** What `createDb` needs. Apps build it from JAMBONES_MYSQL_* (see @sbc/service). */
export interface DbOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Pool size (JAMBONES_MYSQL_CONNECTION_LIMIT, default 10). */
  connectionLimit?: number;
  ssl?: DbTlsOptions;
  /** Cache read results this many seconds (JAMBONES_MYSQL_REFRESH_TTL); off when absent or 0. */
  refreshTtlSeconds?: number;
  /** Give up connecting after this long (default 3000 ms): a black-holed server fails fast. */
  connectTimeoutMs?: number;
  /** Give up waiting for an answer after this long (default 5000 ms); the connection is dropped. */
  queryTimeoutMs?: number;
}

/** SQL parameter values accepted by the query helpers (arrays expand in `IN (?)`). */
export type SqlValue = string | number | boolean | Date | null | readonly (string | number)[];

/** What runs statements: the pool, or one connection inside `transaction()`. */
export interface SqlRunner {
  /** A SELECT; rows are plain objects, BOOLEAN columns come back as `boolean`. */
  select<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** INSERT / UPDATE / DELETE; returns affected rows and insert id. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<ResultSetHeader>;
}

export interface Db extends SqlRunner {
  /** The mysql2 pool, for statements this package has no helper for. */
  readonly pool: Pool;
  readonly options: Readonly<DbOptions>;
  /** A SELECT served from the read cache when `refreshTtlSeconds` is set (else like `select`). */
  cachedSelect<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs `work` on one connection in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Resolves when MySQL answers `SELECT 1`; rejects with DbUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Forgets every cached read (writes through this Db do it too). */
  clearCache(): void;
  /** Closes every connection; later calls reject with DbUnavailableError. */
  close(): Promise<void>;
}

/** BOOLEAN is TINYINT(1) in MySQL: hand it out as a boolean. */
const castBooleans: TypeCast = (field, next) => {
  if (field.type === 'TINY' && field.length === 1) {
    const text = field.string();
    return text === null ? null : text !== '0';
  }
  return next();
};

/** Connection errors on a pooled connection that died while idle: worth one more try for a read. */
const STALE_CONNECTION = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE']);

function validate(options: DbOptions): void {
  if (!options.host) throw new DbConfigError('host is empty');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new DbConfigError(`port ${String(options.port)} is not a TCP port`);
  }
  if (!options.user) throw new DbConfigError('user is empty');
  if (!options.database) throw new DbConfigError('database is empty');
  if (
    options.connectionLimit !== undefined &&
    (!Number.isInteger(options.connectionLimit) || options.connectionLimit < 1)
  ) {
    throw new DbConfigError(`connectionLimit ${String(options.connectionLimit)} is not a positive integer`);
  }
  for (const key of ['connectTimeoutMs', 'queryTimeoutMs'] as const) {
    const ms = options[key];
    if (ms !== undefined && (!Number.isFinite(ms) || ms <= 0)) {
      throw new DbConfigError(`${key} ${String(ms)} is not a positive number of milliseconds`);
    }
  }
  const ttl = options.refreshTtlSeconds;
  if (ttl !== undefined && (!Number.isFinite(ttl) || ttl < 0)) {
    throw new DbConfigError(`refreshTtlSeconds ${String(ttl)} is not a number of seconds >= 0`);
  }
}

/** A mysql2 pool over the jambonz database, with typed errors and an optional read cache. */
export function createDb(options: DbOptions): Db {
  validate(options);
  const queryTimeoutMs = options.queryTimeoutMs ?? 5000;
  const poolOptions: PoolOptions = {
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    database: options.database,
    connectionLimit: options.connectionLimit ?? 10,
    connectTimeout: options.connectTimeoutMs ?? 3000,
    waitForConnections: true,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    charset: 'utf8mb4',
    typeCast: castBooleans,
    // No stack captured per query (mysql2 does it by default, ~1 % of a registrar's CPU); errors stay typed.
    trace: false,
    ...(options.ssl ? { ssl: { ...options.ssl } } : {}),
  };
  const pool = createPool(poolOptions);
  const cache = options.refreshTtlSeconds ? new ReadCache(options.refreshTtlSeconds) : undefined;

  const runSelect = async <T>(
    conn: PoolConnection,
    sql: string,
    params: readonly SqlValue[],
  ): Promise<T[]> => {
    const [rows] = await conn.query<RowDataPacket[]>({ sql, timeout: queryTimeoutMs }, [...params]);
    return rows as T[];
  };

  const runExecute = async (conn: PoolConnection, sql: string, params: readonly SqlValue[]) => {
    cache?.clear();
    const [result] = await conn.query<ResultSetHeader>({ sql, timeout: queryTimeoutMs }, [...params]);
    return result;
  };

  /**
   * Runs one statement on a pooled connection. A connection that failed (lost, or a statement that
   * timed out and may still be running on the server) is destroyed, never handed out again.
   */
  const onPool = async <T>(work: (conn: PoolConnection) => Promise<T>): Promise<T> => {
    const conn = await pool.getConnection();
    try {
      return await work(conn);
    } catch (err) {
      if (isConnectionFailure(err)) conn.destroy();
      throw err;
    } finally {
      conn.release();
    }
  };

  const select = async <T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> => {
    try {
      return await onPool((conn) => runSelect<T>(conn, sql, params));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === undefined || !STALE_CONNECTION.has(code)) throw toDbError(err, 'select');
      try {
        return await onPool((conn) => runSelect<T>(conn, sql, params));
      } catch (retryErr) {
        throw toDbError(retryErr, 'select');
      }
    }
  };

  const execute = async (sql: string, params: readonly SqlValue[] = []): Promise<ResultSetHeader> => {
    try {
      return await onPool((conn) => runExecute(conn, sql, params));
    } catch (err) {
      throw toDbError(err, 'execute');
    }
  };

  return {
    pool,
    options: Object.freeze({ ...options }),
    select,
    execute,
    async cachedSelect<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      if (!cache) return select<T>(sql, params);
      return (await cache.load(cache.key(sql, params), () => select(sql, params))) as T[];
    },
    async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
      let conn: PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (err) {
        throw toDbError(err, 'transaction');
      }
      const tx: SqlRunner = {
        select: async <R>(sql: string, params: readonly SqlValue[] = []) => {
          try {
            return await runSelect<R>(conn, sql, params);
          } catch (err) {
            throw toDbError(err, 'select in transaction');
          }
        },
        execute: async (sql: string, params: readonly SqlValue[] = []) => {
          try {
            return await runExecute(conn, sql, params);
          } catch (err) {
            throw toDbError(err, 'execute in transaction');
          }
        },
      };
      try {
        try {
          await conn.beginTransaction();
        } catch (err) {
          throw toDbError(err, 'begin transaction');
        }
        const result = await work(tx);
        try {
          await conn.commit();
        } catch (err) {
          throw toDbError(err, 'commit');
        }
        cache?.clear();
        return result;
      } catch (err) {
        // Errors of `work` itself pass through unchanged; a dead connection cannot roll back
        // (MySQL drops its transaction anyway) and must not go back to the pool.
        await conn.rollback().catch(() => undefined);
        if (err instanceof DbUnavailableError) conn.destroy();
        throw err;
      } finally {
        // release() after destroy() is a no-op in mysql2.
        conn.release();
      }
    },
    async ping(): Promise<void> {
      await select('SELECT 1 AS ok');
    },
    clearCache(): void {
      cache?.clear();
    },
    async close(): Promise<void> {
      cache?.clear();
      try {
        await pool.end();
      } catch (err) {
        throw toDbError(err, 'close');
      }
    },
  };
}
