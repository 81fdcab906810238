import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackDir, untrackDir } from './cleanup.js';

export interface TempDir {
  readonly path: string;
  remove(): void;
}

/** `sbc-<what>-<owner pid>-<random>`: the owner's pid lets a later run remove what a killed one left. */
const NAME = /^sbc-([a-z-]+)-(\d+)-[A-Za-z0-9]+$/;
let swept = false;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the data dirs of test processes that died without cleaning up (killed outright). sipp logs
 * are left alone: they are kept on purpose for a failed run to be read.
 */
function sweepOrphans(): void {
  if (swept) return;
  swept = true;
  for (const name of readdirSync(tmpdir())) {
    const match = NAME.exec(name);
    if (!match || match[1] === 'sipp' || isAlive(Number(match[2]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** A fresh directory under the OS temp dir, removed by `remove()` or at process exit at the latest. */
export function makeTempDir(prefix: string): TempDir {
  sweepOrphans();
  const path = mkdtempSync(join(tmpdir(), `sbc-${prefix}-${process.pid}-`));
  trackDir(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      untrackDir(path);
    },
  };
}
