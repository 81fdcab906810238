import type { Logger } from 'pino';
import { flushLogger } from './logger.js';

/** One thing to do on shutdown, e.g. leave `<cluster>:active-sip`, close the pools. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
  /** Longest wait for this step (default: `stepTimeoutMs`). */
  timeoutMs?: number;
}

/** What `onShutdown` needs of `process` (inject a fake in tests). */
export interface ShutdownProcess {
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface ShutdownOptions {
  /** Default `process`. */
  process?: ShutdownProcess;
  /** Default 10 000 ms per step. */
  stepTimeoutMs?: number;
}

export interface ShutdownHandle {
  /** Runs the steps now (as if signalled) and exits; resolves with the exit code. Later calls wait for the first. */
  shutdown(reason: string): Promise<number>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/** A shutdown step that did not finish in time. */
export class ShutdownStepTimeoutError extends Error {
  override readonly name = 'ShutdownStepTimeoutError';
  constructor(
    readonly step: string,
    readonly timeoutMs: number,
  ) {
    super(`shutdown step '${step}' did not finish within ${timeoutMs} ms`);
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

async function runStep(step: ShutdownStep, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ShutdownStepTimeoutError(step.name, timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(step.run), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * On the first SIGTERM or SIGINT: runs `steps` in order, each limited by its timeout (a failed or
 * late step is logged and the next one still runs), then exits 0, or 1 if any step failed. Further
 * signals while shutting down are logged and ignored.
 */
export function onShutdown(
  logger: Logger,
  steps: readonly ShutdownStep[],
  options: ShutdownOptions = {},
): ShutdownHandle {
  const proc = options.process ?? process;
  const stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
  let running: Promise<number> | undefined;

  const shutdown = (reason: string): Promise<number> => {
    if (running) {
      logger.warn({ reason }, 'already shutting down');
      return running;
    }
    running = (async () => {
      logger.info({ reason, steps: steps.map((s) => s.name) }, 'shutting down');
      let failed = false;
      for (const step of steps) {
        try {
          await runStep(step, step.timeoutMs ?? stepTimeoutMs);
          logger.info({ step: step.name }, 'shutdown step done');
        } catch (err) {
          failed = true;
          logger.error({ step: step.name, err }, 'shutdown step failed');
        }
      }
      const code = failed ? 1 : 0;
      logger.info({ code }, 'exiting');
      await flushLogger(logger);
      proc.exit(code);
      return code;
    })();
    return running;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    void shutdown(signal);
  };
  for (const signal of SIGNALS) proc.on(signal, onSignal);

  return {
    shutdown,
    dispose() {
      for (const signal of SIGNALS) proc.removeListener(signal, onSignal);
    },
  };
}
