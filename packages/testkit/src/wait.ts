import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** What is being waited for, for the error message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Rejects early (e.g. the daemon exited) with its own reason. */
  abort?: Promise<never>;
}

/** Polls `probe` until it returns true; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const { what, timeoutMs = 15_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  const poll = async (): Promise<void> => {
    while (Date.now() < deadline) {
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = err;
      }
      await sleep(intervalMs);
    }
    const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
  };
  await (options.abort ? Promise.race([poll(), options.abort]) : poll());
}
