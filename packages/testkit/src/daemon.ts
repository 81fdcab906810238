import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { trackChild } from './cleanup.js';

const OUTPUT_LIMIT = 64 * 1024;

export interface DaemonOptions {
  /** Shown in errors: "redis-server exited with code 1: …". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** A long-running child process whose output is kept (the last 64 KiB) for error messages. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr interleaved, last 64 KiB. */
  output(): string;
  /** Rejects as soon as the process exits, with its output: race it against readiness probes. */
  readonly exited: Promise<never>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export class DaemonExitedError extends Error {
  constructor(
    readonly daemon: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly output: string,
  ) {
    super(`${daemon} exited (${signal ?? `code ${code}`}) before it was stopped:\n${output.slice(-4000)}`);
    this.name = 'DaemonExitedError';
  }
}

/**
 * Linux's parent-death signal through util-linux `setpriv`: the child is killed when the process that
 * started it dies, even by SIGKILL (a crashed or killed test worker runs no exit handler).
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

/** The command line to spawn so that it dies with this process (see SETPRIV). */
export function tiedToThisProcess(command: string, args: readonly string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
}

export function startDaemon(options: DaemonOptions): Daemon {
  const [command, args] = tiedToThisProcess(options.command, options.args);
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let stopping = false;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${options.name} could not be started: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (!stopping) reject(new DaemonExitedError(options.name, code, signal, output));
    });
  });
  // Nobody may be listening for an early exit at the time it happens; that is not an error by itself.
  exited.catch(() => undefined);

  return {
    name: options.name,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}
