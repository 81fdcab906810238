/** What `run` of a periodic task may return: ms until its next run instead of `intervalMs`. */
export type NextRunDelay = number | void;

export interface PeriodicTaskOptions {
  /** ms from the start of one run to the start of the next (a longer run is followed at once). */
  intervalMs: number;
  /** One run. Runs never overlap. A number returned is the delay before the next run. */
  run: () => Promise<NextRunDelay> | NextRunDelay;
  /** A run that threw or rejected (the task goes on). */
  onError: (err: unknown) => void;
  /** Whether the timer keeps the process alive (default false: servers do that). */
  ref?: boolean;
}

export interface PeriodicTask {
  /** Schedules the first run after `firstDelayMs` (default `intervalMs`); no-op when started. */
  start(firstDelayMs?: number): void;
  /**
   * Runs now, or joins the run in flight; resolves when it ends (never rejects). While started,
   * the next run comes `intervalMs` after this one began.
   */
  runNow(): Promise<void>;
  /** Stops scheduling and resolves once the run in flight (if any) has ended. */
  stop(): Promise<void>;
  readonly started: boolean;
}

/** "Run every interval, never overlap, stop() waits for the run in flight." */
export function createPeriodicTask(options: PeriodicTaskOptions): PeriodicTask {
  const { intervalMs, run, onError } = options;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let started = false;

  const schedule = (delayMs: number): void => {
    clearTimeout(timer);
    timer = undefined;
    if (!started) return;
    timer = setTimeout(() => void runNow(), Math.max(0, delayMs));
    if (!options.ref) timer.unref();
  };

  const runNow = (): Promise<void> => {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    const startedAt = Date.now();
    let next: number | undefined;
    inFlight = (async () => {
      try {
        const delay = await run();
        if (typeof delay === 'number') next = delay;
      } catch (err) {
        onError(err);
      }
    })().finally(() => {
      inFlight = undefined;
      schedule(next ?? intervalMs - (Date.now() - startedAt));
    });
    return inFlight;
  };

  return {
    start(firstDelayMs = intervalMs) {
      if (started) return;
      started = true;
      if (!inFlight) schedule(firstDelayMs);
    },
    runNow,
    async stop() {
      started = false;
      clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
    get started() {
      return started;
    },
  };
}
