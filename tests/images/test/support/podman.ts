/**
 * podman as scripts/images.sh runs it (runc, a containers.conf without default ulimits), the probe
 * that says whether this machine can run the image suite, and the containers a test starts.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const IMAGES_SH = `${ROOT}scripts/images.sh`;
/** The tag the suite builds (scripts/images.sh SBC_IMAGE_TAG). */
export const TAG = process.env.SBC_TEST_IMAGE_TAG ?? 'local';

/** `scripts/images.sh podman …`: podman with the script's runtime and containers.conf. */
export async function podman(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('bash', [IMAGES_SH, 'podman', ...args], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { stdout: stdout.trim(), stderr: stderr.trim() };
}

function onPath(command: string): boolean {
  const dirs = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`.split(':');
  return dirs.some((dir) => dir && existsSync(`${dir}/${command}`));
}

export interface Probe {
  usable: boolean;
  /** Why the suite cannot run here (empty when usable). */
  reason: string;
}

/**
 * Whether podman can build and run the images here: installed, answering `podman info`, and able
 * to build the local base (mmdebstrap) unless it is already built or SBC_IMAGE_BASE names another.
 * SBC_TEST_IMAGES=0 turns the suite off.
 */
export async function probePodman(): Promise<Probe> {
  const no = (reason: string): Probe => ({ usable: false, reason });
  if (process.env.SBC_TEST_IMAGES === '0') return no('SBC_TEST_IMAGES=0');
  if (!onPath('podman')) {
    return no('podman is not installed (as root, `npm test` installs podman, runc and mmdebstrap)');
  }
  try {
    await podman(['info', '--format', '{{.Host.OCIRuntime.Name}}'], 30_000);
  } catch (err) {
    return no(`podman does not work here: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
  }
  if (!process.env.SBC_IMAGE_BASE && !onPath('mmdebstrap')) {
    const base = await podman(['image', 'exists', 'localhost/sbc-node-base:20-bookworm']).then(
      () => true,
      () => false,
    );
    if (!base) return no('mmdebstrap is not installed, so the local base image cannot be built');
  }
  return { usable: true, reason: '' };
}

/** Runs scripts/images.sh (every image), its output to this process's stderr. */
export function buildImages(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [IMAGES_SH], {
      env: { ...process.env, SBC_IMAGE_TAG: TAG },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`scripts/images.sh failed (${signal ?? `exit ${code}`})`));
    });
  });
}

export interface Container {
  name: string;
  /** ms from `podman run` until the ready check passed. */
  coldStartMs: number;
  logs(): Promise<string>;
  inspect(format: string): Promise<string>;
  /** `podman healthcheck run`: the image's HEALTHCHECK once, its exit code. */
  healthcheck(): Promise<number>;
  /** `podman stop` (SIGTERM, then SIGKILL after `graceSeconds`): ms taken and the exit code. */
  stop(graceSeconds?: number): Promise<{ ms: number; exitCode: number }>;
  remove(): Promise<void>;
}

/** Every container the suite started, for removal at the end whatever happened. */
export const started = new Set<string>();

export async function runContainer(options: {
  name: string;
  image: string;
  env: Record<string, string>;
  args?: readonly string[];
}): Promise<Omit<Container, 'coldStartMs'> & { startedAt: number }> {
  const envArgs = Object.entries(options.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  const startedAt = Date.now();
  started.add(options.name);
  await podman([
    'run',
    '--detach',
    '--name',
    options.name,
    '--network',
    'host',
    ...envArgs,
    options.image,
    ...(options.args ?? []),
  ]);
  const name = options.name;
  return {
    name,
    startedAt,
    async logs() {
      const { stdout, stderr } = await podman(['logs', name]).catch(() => ({ stdout: '', stderr: '' }));
      return `${stdout}\n${stderr}`;
    },
    async inspect(format) {
      return (await podman(['inspect', '--format', format, name])).stdout;
    },
    async healthcheck() {
      return podman(['healthcheck', 'run', name]).then(
        () => 0,
        (err: { code?: number }) => err.code ?? 1,
      );
    },
    async stop(graceSeconds = 10) {
      const t0 = Date.now();
      await podman(['stop', '--time', String(graceSeconds), name], (graceSeconds + 30) * 1000);
      const ms = Date.now() - t0;
      const exitCode = Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).stdout);
      return { ms, exitCode };
    },
    async remove() {
      await podman(['rm', '--force', '--time', '0', name]).catch(() => undefined);
      started.delete(name);
    },
  };
}

/** Removes every container the suite started (afterAll). */
export async function removeAll(): Promise<void> {
  const names = [...started];
  if (names.length === 0) return;
  await podman(['rm', '--force', '--ignore', '--time', '0', ...names], 60_000).catch(() => undefined);
  started.clear();
}
