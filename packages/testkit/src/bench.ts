/**
 * What the benchmarks measure of the processes they start, from /proc (Linux): CPU time, resident
 * memory, how busy the whole machine was, and the SIP engine started as a real process. Shared by
 * every app's `pnpm bench`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startDaemon, type Daemon } from './daemon.js';
import { probeEngine } from './engine.js';
import { freePort, freeTcpPort } from './ports.js';
import { waitUntil } from './wait.js';

let clockTicks: number | undefined;

/** USER_HZ: /proc counts CPU time in these ticks per second. */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return clockTicks;
}

/** utime + stime of a process so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** Resident set size of a process, in MiB (NaN when it is gone). */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat: diff two readings. */
export function machineJiffies(): { busy: number; total: number } {
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const numbers = values.map(Number);
  const idle = (numbers[3] ?? 0) + (numbers[4] ?? 0);
  const total = numbers.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** The p-th percentile (0–100) of ascending `sorted` samples; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export interface EngineProcessOptions {
  /** The engine's CLI (`packages/sip-engine/dist/cli.js`). */
  cli: string;
  secret: string;
  /** SIP transports of the `--contact` (default udp and tcp). */
  transports?: readonly ('udp' | 'tcp')[];
  loglevel?: string;
  /** Node flags before the script (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[];
  /** More engine options. */
  args?: readonly string[];
}

export interface EngineProcess {
  daemon: Daemon;
  /** SIP port on 127.0.0.1. */
  sipPort: number;
  /** Control port on 127.0.0.1. */
  controlPort: number;
}

/** The SIP engine as its own process on 127.0.0.1, once it accepts apps. */
export async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  const sipPort = await freePort('127.0.0.1');
  const controlPort = await freeTcpPort('127.0.0.1');
  const transports = (options.transports ?? ['udp', 'tcp']).join(',');
  const daemon = startDaemon({
    name: 'sbc-sip-engine',
    command: process.execPath,
    args: [
      ...(options.nodeArgs ?? []),
      options.cli,
      '--contact',
      `sip:127.0.0.1:${sipPort};transport=${transports}`,
      '--address',
      '127.0.0.1',
      '--port',
      String(controlPort),
      '--secret',
      options.secret,
      '--loglevel',
      options.loglevel ?? 'warning',
      // a benchmark's load comes from one or a few sipp sources at thousands of requests per second:
      // past the per-source rate limit, which `args` can turn back on (`--rate-limit-requests N`)
      '--rate-limit-requests',
      '0',
      ...(options.args ?? []),
    ],
  });
  try {
    await waitUntil(async () => (await probeEngine('127.0.0.1', controlPort, options.secret)).length > 0, {
      what: 'the SIP engine',
      abort: daemon.exited,
    });
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { daemon, sipPort, controlPort };
}
