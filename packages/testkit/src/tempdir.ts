import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackDir, untrackDir } from './cleanup.js';

export interface TempDir {
  readonly path: string;
  remove(): void;
}

/** A fresh directory under the OS temp dir, removed by `remove()` or at process exit at the latest. */
export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `sbc-${prefix}-`));
  trackDir(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      untrackDir(path);
    },
  };
}
