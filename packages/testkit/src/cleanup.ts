import { rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';

/**
 * Last-resort cleanup: whatever a test forgot (or could not) stop is killed and removed when the
 * test process exits, so a failing or crashing test leaves no daemon and no temp dir behind.
 */
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let installed = false;

function killEverything(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killEverything);
}

export function trackChild(child: ChildProcess): void {
  install();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

export function trackDir(dir: string): void {
  install();
  liveDirs.add(dir);
}

export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}
