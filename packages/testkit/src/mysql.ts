import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type Connection, type ConnectionOptions } from 'mysql2/promise';
import { startDaemon, type Daemon } from './daemon.js';
import { parseHostPort } from './external.js';
import { freeTcpPort } from './ports.js';
import { makeTempDir } from './tempdir.js';
import { waitUntil } from './wait.js';
import { existsSync } from 'node:fs';

const run = promisify(execFile);

export interface MysqlService {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** True when this is the server named by SBC_TEST_MYSQL rather than a private one. */
  readonly external: boolean;
  /** A fresh database (`jambones_test_…`), optionally loaded with a schema, dropped by its `drop()`. */
  createDatabase(options?: CreateDatabaseOptions): Promise<TestDatabase>;
  /** A root connection to the server (no database selected); the caller closes it. */
  connect(): Promise<Connection>;
  /** Process id and base directory of a private server (undefined for an external one). */
  readonly pid: number | undefined;
  readonly dataDir: string | undefined;
  output(): string;
  /** Drops every database it created, then stops the private server and removes its datadir. */
  stop(): Promise<void>;
}

export interface CreateDatabaseOptions {
  /** SQL to run in the new database, several statements allowed (e.g. @sbc/db's schema). */
  schema?: string | readonly string[];
  /** Exact name (the demo stack); tests get `jambones_test_<random>`. */
  name?: string;
}

export interface TestDatabase {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Ready for `mysql2.createPool()`. */
  readonly connectionOptions: ConnectionOptions;
  drop(): Promise<void>;
}

export interface StartMysqlOptions {
  host?: string;
  /** Fixed port (the demo stack); a free one is picked otherwise. */
  port?: number;
  /** Keep the datadir here across restarts (the demo stack); tests use a temp dir. */
  dataDir?: string;
}

/**
 * A private MariaDB (`mariadbd --no-defaults`, own datadir, loopback only), or the external server in
 * SBC_TEST_MYSQL=host:port with root password MYSQL_ROOT_PASSWORD.
 */
export async function startMysql(options: StartMysqlOptions = {}): Promise<MysqlService> {
  const external = process.env.SBC_TEST_MYSQL;
  if (external) {
    const { host, port } = parseHostPort(external, 'SBC_TEST_MYSQL');
    const service = mysqlService({
      host,
      port,
      password: process.env.MYSQL_ROOT_PASSWORD ?? '',
      external: true,
    });
    const probe = await service.connect().catch((err: Error) => {
      throw new Error(`SBC_TEST_MYSQL=${external}: cannot connect as root: ${err.message}`);
    });
    await probe.end();
    return service;
  }
  return startPrivateMysql(options);
}

async function startPrivateMysql(options: StartMysqlOptions): Promise<MysqlService> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freeTcpPort(host));
  const temp = options.dataDir ? undefined : makeTempDir('mariadb');
  const base = options.dataDir ?? temp!.path;
  const datadir = join(base, 'data');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  if (!existsSync(join(datadir, 'mysql'))) {
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...asRoot,
      ],
      // Its own temp dir: a starting mariadbd deletes every #sql* file in the shared one.
      { maxBuffer: 4 * 1024 * 1024, env: { ...process.env, TMPDIR: base } },
    ).catch((err: Error & { stderr?: string }) => {
      temp?.remove();
      throw new Error(`mariadb-install-db failed: ${err.message}\n${err.stderr ?? ''}`);
    });
  }
  const daemon: Daemon = startDaemon({
    name: 'mariadbd',
    command: 'mariadbd',
    args: [
      '--no-defaults',
      ...asRoot,
      `--datadir=${datadir}`,
      `--socket=${join(base, 'mysqld.sock')}`,
      `--pid-file=${join(base, 'mysqld.pid')}`,
      `--tmpdir=${base}`,
      `--bind-address=${host}`,
      `--port=${port}`,
      '--skip-log-bin',
      '--performance-schema=OFF',
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=16M',
      // Test data is throwaway: do not pay for durability.
      ...(options.dataDir ? [] : ['--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0']),
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
    ],
  });
  const service = mysqlService({
    host,
    port,
    password: '',
    external: false,
    daemon,
    dataDir: base,
    removeDir: () => temp?.remove(),
  });
  try {
    await waitUntil(
      async () => {
        const conn = await service.connect();
        await conn.end();
        return true;
      },
      { what: `mariadbd on ${host}:${port}`, timeoutMs: 30_000, intervalMs: 100, abort: daemon.exited },
    );
  } catch (err) {
    await daemon.stop();
    temp?.remove();
    throw err;
  }
  return service;
}

interface ServiceParts {
  host: string;
  port: number;
  password: string;
  external: boolean;
  daemon?: Daemon;
  dataDir?: string;
  removeDir?: () => void;
}

function mysqlService(parts: ServiceParts): MysqlService {
  const { host, port, password, external, daemon } = parts;
  const user = 'root';
  const created = new Set<string>();
  const connect = (): Promise<Connection> =>
    createConnection({ host, port, user, password, multipleStatements: true, connectTimeout: 2000 });

  const dropDatabase = async (name: string): Promise<void> => {
    const conn = await connect();
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await conn.end();
    }
    created.delete(name);
  };

  return {
    host,
    port,
    user,
    password,
    external,
    pid: daemon?.pid,
    dataDir: parts.dataDir,
    connect,
    output: () => daemon?.output() ?? '',
    async createDatabase(options = {}) {
      const database = options.name ?? `jambones_test_${randomBytes(4).toString('hex')}`;
      if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`invalid database name: ${database}`);
      const conn = await connect();
      try {
        await conn.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
        if (!options.name) created.add(database);
        await conn.query(`USE \`${database}\``);
        const scripts = typeof options.schema === 'string' ? [options.schema] : (options.schema ?? []);
        for (const sql of scripts) await conn.query(sql);
      } finally {
        await conn.end();
      }
      return {
        host,
        port,
        user,
        password,
        database,
        connectionOptions: { host, port, user, password, database },
        drop: () => dropDatabase(database),
      };
    },
    async stop() {
      if (external) {
        for (const name of [...created]) await dropDatabase(name);
        return;
      }
      await daemon?.stop(10_000);
      parts.removeDir?.();
    },
  };
}
