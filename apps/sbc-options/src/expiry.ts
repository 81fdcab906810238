import type { ServerSets } from '@sbc/redis';
import { createPeriodicTask, type Logger } from '@sbc/service';
import type { FeatureServerDrain } from './drain.js';
import type { AppMetrics } from './metrics.js';

/** The sets whose members must keep pinging to stay. */
export const EXPIRING_SETS = ['active-fs', 'fs-service-url', 'active-rtp'] as const;

export interface ExpirySweeper {
  /** One sweep now (also run at start). Resolves with the removed members by set. */
  sweep(): Promise<Record<(typeof EXPIRING_SETS)[number], string[]>>;
  start(): void;
  /** CHECK_EXPIRES_INTERVAL changed: sweep now, then at the new interval. */
  reschedule(): void;
  stop(): Promise<void>;
}

/**
 * Every CHECK_EXPIRES_INTERVAL, removes members not heard from for EXPIRES_INTERVAL. Last-seen
 * times live in Redis (`<cluster>:<set>:lastseen`, written by every instance on each ping), and the
 * sweep is one Lua script per set, so any number of instances can sweep: a member stays while any
 * SBC hears from it, and a restarted instance neither drops live members nor brings back dead ones
 * (jambonz kept last-seen in memory and, at start, treated every member as just seen).
 */
export function createExpirySweeper(deps: {
  sets: ServerSets;
  drain: FeatureServerDrain;
  metrics: AppMetrics;
  logger: Logger;
  /** EXPIRES_INTERVAL now (it can change at run time). */
  expiresIntervalMs: () => number;
  /** CHECK_EXPIRES_INTERVAL now. */
  checkExpiresIntervalMs: () => number;
  /** Run after each sweep (refreshes the gauges). */
  afterSweep?: () => Promise<void>;
}): ExpirySweeper {
  const log = deps.logger.child({ component: 'expiry' });
  let failing = false;

  const sweep = async (): Promise<Record<(typeof EXPIRING_SETS)[number], string[]>> => {
    const expiresIntervalMs = deps.expiresIntervalMs();
    const removed = {
      'active-fs': [] as string[],
      'fs-service-url': [] as string[],
      'active-rtp': [] as string[],
    };
    for (const set of EXPIRING_SETS) {
      removed[set] = await deps.sets.sweep(set, expiresIntervalMs);
      if (removed[set].length > 0) {
        deps.metrics.expired.inc({ set }, removed[set].length);
        log.info(
          { set, expired: removed[set], members: await deps.sets.count(set) },
          `expired ${removed[set].length} member(s) of ${deps.sets.key(set)} after ${expiresIntervalMs} ms of silence`,
        );
      }
    }
    await deps.drain.forgetSilent();
    await deps.afterSweep?.();
    return removed;
  };

  const task = createPeriodicTask({
    intervalMs: deps.checkExpiresIntervalMs(),
    run: async () => {
      await sweep();
      if (failing) log.info('sweeping works again');
      failing = false;
      return deps.checkExpiresIntervalMs();
    },
    onError: (err) => {
      if (!failing) log.warn({ err }, 'cannot sweep the server sets (will retry)');
      failing = true;
    },
  });

  return {
    sweep,
    start: () => task.start(0),
    reschedule: () => {
      if (task.started) void task.runNow();
    },
    stop: () => task.stop(),
  };
}
