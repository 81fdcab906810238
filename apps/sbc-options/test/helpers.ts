import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, schemaSql, type Db } from '@sbc/db';
import {
  createDatabaseUser,
  freeTcpPort,
  mysqlEnv,
  runSipp,
  scenarioPath,
  startEngine,
  startMysql,
  waitUntil,
  type EngineService,
  type MysqlService,
  type SippResult,
  type TestDatabase,
} from '@sbc/testkit';

/** Shared with the other apps' tests. */
export { engineEnv, metricValue, redisEnv } from '@sbc/testkit';

export const appDir = fileURLToPath(new URL('..', import.meta.url));
export const indexJs = join(appDir, 'dist/index.js');
export const cliJs = join(appDir, 'dist/cli.js');

/** The path of one of this app's sipp scenarios. */
export function scenario(name: string): string {
  return join(appDir, 'test/scenarios', `${name}.xml`);
}

/** A socket path of its own for one app instance. */
export function socketPath(): string {
  return join(tmpdir(), `sbc-options-test-${randomUUID().slice(0, 8)}.sock`);
}

export function requireBuilt(): void {
  if (!existsSync(indexJs) || !existsSync(cliJs)) {
    throw new Error(`sbc-options is not built (${indexJs}): run \`corepack pnpm run build\` first`);
  }
}

export interface TestMysql {
  mysql: MysqlService;
  database: TestDatabase;
  /** Root connection for seeding and checking. */
  db: Db;
  /** What a spawned app gets: a user with a password (the jambonz variables require one). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** MariaDB with the jambonz schema and an application user (JAMBONES_MYSQL_PASSWORD is required). */
export async function startTestMysql(): Promise<TestMysql> {
  const mysql = await startMysql();
  const database = await mysql.createDatabase({ schema: schemaSql() });
  const { host, port, user, password } = database;
  const db = createDb({ host, port, user, password, database: database.database });
  const env = mysqlEnv(database, await createDatabaseUser(mysql, database));
  return {
    mysql,
    database,
    db,
    env,
    async stop() {
      await db.close();
      await database.drop();
      await mysql.stop();
    },
  };
}

export function withEngine(): Promise<EngineService> {
  return startEngine({ loglevel: 'warning' });
}

/** One `node dist/index.js`, as production starts it. */
export interface AppProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly socketPath: string;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  metrics(): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnApp(env: Record<string, string>): Promise<AppProcess> {
  requireBuilt();
  const httpPort = await freeTcpPort('127.0.0.1');
  const sock = env.SBC_SOCKET_PATH ?? socketPath();
  const child = spawn(process.execPath, [indexJs], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(httpPort), SBC_SOCKET_PATH: sock, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let output = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      output = (output + line + '\n').slice(-20_000);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = exited.then((code): never => {
    throw new Error(`sbc-options exited (${code}) before it was ready:\n${output}`);
  });
  gone.catch(() => undefined);
  const url = `http://127.0.0.1:${httpPort}`;
  await waitUntil(
    async () => {
      const res = await fetch(`${url}/readyz`);
      return res.status === 200;
    },
    { what: `sbc-options /readyz on ${httpPort}`, abort: gone, timeoutMs: 20_000, intervalMs: 100 },
  );
  return {
    child,
    httpPort,
    socketPath: sock,
    logs,
    exited,
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI binary, `node dist/cli.js <args>`. With `fromRoot`, exactly what the repository's
 * `npm run cli` runs: `node apps/sbc-options/dist/cli.js <args>` in the repository root.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { fromRoot?: boolean } = {},
): Promise<CliRun> {
  requireBuilt();
  const root = join(appDir, '../..');
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [options.fromRoot ? 'apps/sbc-options/dist/cli.js' : cliJs, ...args],
      {
        cwd: options.fromRoot ? root : appDir,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A feature server's status ping from `ip:port`; resolves with sipp's result and the X-Members value. */
export async function fsPing(
  target: string,
  from: { ip: string; port: number },
  status: 'open' | 'closed',
  serviceUrl = `http://${from.ip}:3000`,
): Promise<{ result: SippResult; members: number | undefined }> {
  const result = await runSipp({
    scenario: scenario('uac-fs-status'),
    target,
    localAddress: from.ip,
    localPort: from.port,
    keys: { status, service_url: serviceUrl, calls: 0 },
    timeoutMs: 10_000,
  });
  return { result, members: xMembers(result) };
}

export async function rtpPing(
  target: string,
  from: { ip: string; port: number },
  status: 'open' | 'closed',
): Promise<{ result: SippResult; members: number | undefined }> {
  const result = await runSipp({
    scenario: scenario('uac-rtp-status'),
    target,
    localAddress: from.ip,
    localPort: from.port,
    keys: { status, calls: 3 },
    timeoutMs: 10_000,
  });
  return { result, members: xMembers(result) };
}

/** A plain OPTIONS (a carrier or monitor) with the kit's scenario. */
export function externalPing(target: string, ip: string): Promise<SippResult> {
  return runSipp({ scenario: scenarioPath('options-uac'), target, localAddress: ip, timeoutMs: 10_000 });
}

/** The X-Members value of the last 200 sipp received. */
export function xMembers(result: SippResult): number | undefined {
  const all = [...result.messages.matchAll(/^\s*X-Members:\s*(\d+)\s*$/gim)];
  const last = all[all.length - 1];
  return last?.[1] === undefined ? undefined : Number(last[1]);
}
