import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { trackChild } from './cleanup.js';
import { tiedToThisProcess } from './daemon.js';
import { freePort } from './ports.js';
import { makeTempDir } from './tempdir.js';

export type SippTransport = 'udp' | 'tcp';

export interface SippOptions {
  /** Path of the scenario XML (see `scenarioPath()` for the kit's own). */
  scenario: string;
  /** `host:port` to send to; omit for a UAS scenario that waits to be called. */
  target?: string;
  /** -i: local address for sockets, Via, Contact and From. */
  localAddress?: string;
  /** -p: local port; a free one is picked when omitted (read it from `localPort`). */
  localPort?: number;
  transport?: SippTransport;
  /** -inf: rows of the injection file, written for you; the first row is the mode (SEQUENTIAL…). */
  users?: { mode?: 'SEQUENTIAL' | 'RANDOM' | 'USER'; rows: readonly (readonly string[])[] };
  /** -inf with a CSV file that already exists. */
  usersFile?: string;
  /** -r: calls per second. */
  rate?: number;
  /** -m: stop after this many calls (default 1). */
  count?: number;
  /** -l: most calls in progress at once. */
  maxConcurrent?: number;
  /** -key name value, usable in the scenario as [name]. */
  keys?: Record<string, string | number>;
  /** -set name value, for scenario variables. */
  variables?: Record<string, string | number>;
  /** Give up after this long; counts as a failure (default 30 s). */
  timeoutMs?: number;
  /** Record each call's response-time (rtd) samples: needed for p50/p99 in benchmarks. */
  traceRtt?: boolean;
  /**
   * Log every SIP message (default true; `messages` is empty without it). Benchmarks turn it off:
   * at hundreds of calls per second the log costs sipp more CPU than the SIP itself.
   */
  traceMessages?: boolean;
  /** Anything else, passed through. */
  extraArgs?: readonly string[];
}

export interface SippResult {
  /** sipp's exit code: 0 every call succeeded, 1 some failed, 97/99/-1/-2 other endings (see sipp -h). */
  readonly exitCode: number;
  readonly ok: boolean;
  readonly successfulCalls: number;
  readonly failedCalls: number;
  readonly retransmissions: number;
  /** The last row of sipp's statistics file, by column name (e.g. `CallRate(P)`, `FailedCall(C)`). */
  readonly stats: Readonly<Record<string, string>>;
  /** Response times in ms, one per sample, for each rtd name in the scenario (when `traceRtt`). */
  readonly responseTimes: Readonly<Record<string, number[]>>;
  /** Every SIP message sent and received, as sipp logged them. */
  readonly messages: string;
  /** sipp's unexpected-message and error log. */
  readonly errors: string;
  /** Where the logs are; kept on disk only when the run failed. */
  readonly logDir: string;
  /** One paragraph for an assertion message: counts, errors and the tail of the message log. */
  describe(): string;
}

export interface SippRun {
  readonly localPort: number;
  readonly localAddress: string;
  /** Resolves when sipp exits (it does not reject for failed calls: look at `ok`). */
  readonly done: Promise<SippResult>;
  /** Ends a UAS that still waits (SIGUSR1 asks sipp to stop gracefully, SIGKILL after 3 s). */
  stop(): Promise<SippResult>;
}

/** sipp's words when its port was taken between our pick and its bind. */
const BIND_FAILED = /Unable to bind main socket|Address already in use/;
const BIND_ATTEMPTS = 3;

/** Starts sipp and returns at once; use it for UAS scenarios that must be listening before a call. */
export async function startSipp(options: SippOptions): Promise<SippRun> {
  const localAddress = options.localAddress ?? '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    const run = await startSippOnce(
      options,
      localAddress,
      options.localPort ?? (await freePort(localAddress)),
    );
    // A port picked for sipp can be taken by another test before sipp binds it: pick again.
    if (options.target || options.localPort !== undefined || attempt >= BIND_ATTEMPTS) return run;
    const early = await Promise.race([
      run.done,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (!early || !lostItsPort(early)) return run;
    rmSync(early.logDir, { recursive: true, force: true });
  }
}

function lostItsPort(result: SippResult): boolean {
  return (
    result.exitCode !== 0 &&
    result.successfulCalls === 0 &&
    BIND_FAILED.test(result.errors + result.describe())
  );
}

async function startSippOnce(
  options: SippOptions,
  localAddress: string,
  localPort: number,
): Promise<SippRun> {
  const logs = makeTempDir('sipp');
  const scenarioName = basename(options.scenario).replace(/\.xml$/, '');
  const file = (suffix: string): string => join(logs.path, `${scenarioName}.${suffix}`);
  const timeoutS = Math.ceil((options.timeoutMs ?? 30_000) / 1000);

  const args: string[] = [
    ...(options.target ? [options.target] : []),
    '-sf',
    options.scenario,
    '-i',
    localAddress,
    '-p',
    String(localPort),
    '-t',
    options.transport === 'tcp' ? 't1' : 'u1',
    '-m',
    String(options.count ?? 1),
    '-nostdin',
    '-timeout',
    `${timeoutS}s`,
    '-timeout_error',
    ...(options.traceMessages === false ? [] : ['-trace_msg', '-message_file', file('messages.log')]),
    '-trace_err',
    '-error_file',
    file('errors.log'),
    '-trace_stat',
    '-stf',
    file('stats.csv'),
    '-fd',
    '1',
  ];
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.maxConcurrent !== undefined) args.push('-l', String(options.maxConcurrent));
  if (options.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1');
  const usersFile = options.usersFile ?? (options.users ? writeUsers(logs.path, options.users) : undefined);
  if (usersFile) args.push('-inf', usersFile);
  for (const [k, v] of Object.entries(options.keys ?? {})) args.push('-key', k, String(v));
  for (const [k, v] of Object.entries(options.variables ?? {})) args.push('-set', k, String(v));
  args.push(...(options.extraArgs ?? []));

  const [command, argv] = tiedToThisProcess('sipp', args);
  const child = spawn(command, argv, { cwd: logs.path, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let screen = '';
  const keep = (chunk: Buffer): void => {
    screen = (screen + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const done = new Promise<SippResult>((resolve) => {
    const finish = (code: number): void => {
      const result = readResult(logs.path, file, code, screen);
      if (result.ok) logs.remove();
      resolve(result);
    };
    child.once('error', (err) => {
      screen += `\nsipp could not be started: ${err.message}`;
      finish(-1);
    });
    child.once('close', (code, signal) => finish(code ?? (signal ? -1 : 0)));
  });

  // A UAS must be listening before the test calls it: wait until sipp holds its port.
  if (!options.target) await waitForBind(localAddress, localPort, options.transport ?? 'udp', done);

  return {
    localPort,
    localAddress,
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGUSR1');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        const result = await done;
        clearTimeout(timer);
        return result;
      }
      return done;
    },
  };
}

/** Resolves once something is bound to address:port (sipp's socket), or sipp has exited. */
async function waitForBind(
  address: string,
  port: number,
  transport: SippTransport,
  exited: Promise<unknown>,
) {
  let gone = false;
  void exited.then(() => (gone = true));
  const bound = (): Promise<boolean> =>
    new Promise((resolve) => {
      if (transport === 'tcp') {
        const server = createServer();
        server.once('error', () => resolve(true));
        server.listen(port, address, () => server.close(() => resolve(false)));
      } else {
        const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
        socket.once('error', () => resolve(true));
        socket.bind(port, address, () => socket.close(() => resolve(false)));
      }
    });
  const deadline = Date.now() + 5000;
  while (!gone && Date.now() < deadline) {
    if (await bound()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs sipp to completion (with a fresh port when the one picked was taken before sipp bound it). */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await (await startSipp(options)).done;
    if (options.localPort !== undefined || attempt >= BIND_ATTEMPTS || !lostItsPort(result)) return result;
    rmSync(result.logDir, { recursive: true, force: true });
  }
}

function writeUsers(dir: string, users: NonNullable<SippOptions['users']>): string {
  const path = join(dir, 'users.csv');
  const lines = [users.mode ?? 'SEQUENTIAL', ...users.rows.map((row) => row.join(';'))];
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function parseStats(csv: string): Record<string, string> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return {};
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const stats: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name) stats[name] = last[i] ?? '';
  });
  return stats;
}

/** sipp writes `<scenario>_<pid>_rtt.csv` rows: Date_ms;response_time_ms;rtd_no */
function parseRtt(dir: string): Record<string, number[]> {
  const times: Record<string, number[]> = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('_rtt.csv'))) {
    for (const line of readText(join(dir, name)).split('\n').slice(1)) {
      const [, ms, rtd] = line.split(';');
      if (ms === undefined || rtd === undefined || ms === '') continue;
      (times[rtd.trim()] ??= []).push(Number(ms));
    }
  }
  return times;
}

function readResult(dir: string, file: (s: string) => string, exitCode: number, screen: string): SippResult {
  const stats = parseStats(readText(file('stats.csv')));
  const count = (name: string): number => Number(stats[name] ?? 0) || 0;
  const messages = readText(file('messages.log'));
  const errors = readText(file('errors.log'));
  const successfulCalls = count('SuccessfulCall(C)');
  const failedCalls = count('FailedCall(C)');
  const retransmissions = count('Retransmissions(C)');
  const ok = exitCode === 0 && failedCalls === 0;
  return {
    exitCode,
    ok,
    successfulCalls,
    failedCalls,
    retransmissions,
    stats,
    responseTimes: parseRtt(dir),
    messages,
    errors,
    logDir: dir,
    describe: () =>
      [
        `sipp exit ${exitCode}: ${successfulCalls} successful, ${failedCalls} failed, ${retransmissions} retransmissions`,
        ok ? '' : `logs kept in ${dir}`,
        errors ? `errors:\n${errors.slice(-3000)}` : '',
        messages ? `last messages:\n${messages.slice(-4000)}` : `screen:\n${screen.slice(-3000)}`,
      ]
        .filter(Boolean)
        .join('\n'),
  };
}
