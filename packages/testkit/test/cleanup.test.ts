import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../src/index.js';
import { processIsGone } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/start-redis-and-wait.mjs', import.meta.url));

describe('a test process that is killed outright', () => {
  it.runIf(!process.env.SBC_TEST_REDIS)(
    'takes the services it started with it (parent-death signal)',
    async () => {
      const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = await new Promise<{ pid: number; dataDir: string }>((resolve, reject) => {
        child.stdout.once('data', (chunk: Buffer) =>
          resolve(JSON.parse(chunk.toString()) as { pid: number; dataDir: string }),
        );
        child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
      });
      expect(processIsGone(started.pid)).toBe(false);
      child.kill('SIGKILL'); // no exit handler runs
      await waitUntil(() => Promise.resolve(processIsGone(started.pid)), {
        what: 'redis-server to die with its parent',
      });
      // Nothing could run in the killed process to remove its temp dir: the next kit user sweeps it.
      const later = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => later.stdout.once('data', resolve));
      later.kill('SIGTERM');
      expect(existsSync(started.dataDir)).toBe(false);
    },
  );
});
