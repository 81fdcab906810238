import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** A fixture under test/fixtures run with node, with only PATH and `env` in its environment. */
export interface FixtureRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout lines parsed as JSON (pino output). */
  jsonLines(): Record<string, unknown>[];
  /** Resolves once stdout has a JSON line passing `test`. */
  waitForLine(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runFixture(name: string, env: Record<string, string> = {}): FixtureRun {
  if (!existsSync(DIST)) throw new Error('the fixtures import dist/: run `pnpm run build` first');
  const script = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const watcher of watchers) watcher();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const jsonLines = (): Record<string, unknown>[] =>
    out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    jsonLines,
    exited,
    waitForLine(test) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = jsonLines().find(test);
          if (found) {
            watchers.delete(watcher);
            resolve(found);
          }
          return found !== undefined;
        };
        const watcher = (): void => void check();
        if (check()) return;
        watchers.add(watcher);
        void exited.then(() => {
          if (!check()) reject(new Error(`fixture ${name} exited first; stdout: ${out} stderr: ${err}`));
        });
      });
    },
  };
}
