import type { ServerSets } from '@sbc/redis';
import { callLogger, type Logger, type NetworkSet, type SrfRequest, type SrfResponse } from '@sbc/service';
import { classifyOptions } from './classify.js';
import type { FeatureServerDrain } from './drain.js';
import type { AppMetrics } from './metrics.js';
import { applyStatusPing } from './server-status.js';

/** Retry-After (s) on the 503 sent when Redis cannot be reached. */
export const RETRY_AFTER_SECONDS = 5;

export interface OptionsHandlerDeps {
  sets: ServerSets;
  drain: FeatureServerDrain;
  network: NetworkSet;
  metrics: AppMetrics;
  logger: Logger;
  /** Ends the engine session of a request in outbound (listen) mode; a no-op when dialing. */
  endSession: (req: SrfRequest) => void;
}

/**
 * What happens to an out-of-dialog OPTIONS, top to bottom:
 * 1. classify (classify.ts): external ping, untrusted status ping, feature server or rtpengine;
 * 2. external / untrusted: 200 with no other header (jambonz's answer to carriers and monitors);
 * 3. status ping: update the server sets (server-status.ts) and answer 200 with `X-Members`;
 * 4. Redis unavailable: 503 with Retry-After, at once (the Redis client never queues).
 */
export function createOptionsHandler(deps: OptionsHandlerDeps) {
  const { metrics, logger } = deps;
  const untrustedLog = new LogThrottle(60_000);

  return async (req: SrfRequest, res: SrfResponse): Promise<void> => {
    const log = callLogger(logger, req.get('Call-ID') ?? 'unknown', { source: req.source_address });
    try {
      const ping = classifyOptions(req, deps.network);
      metrics.optionsReceived.inc({ kind: ping.kind });
      if (ping.kind === 'external') {
        res.send(200);
        return;
      }
      if (ping.kind === 'untrusted') {
        if (untrustedLog.shouldLog(ping.ip)) {
          log.warn(
            { header: ping.header },
            'ignoring a status OPTIONS from outside JAMBONES_NETWORK_CIDR (answered as an external ping)',
          );
        }
        res.send(200);
        return;
      }
      const outcome = await applyStatusPing(ping, deps, log);
      if (outcome.drained) metrics.drainedCheckins.inc();
      res.send(200, { headers: { 'X-Members': String(outcome.members) } });
    } catch (err) {
      metrics.optionsErrors.inc();
      log.error({ err }, 'cannot update the server sets: answering 503');
      if (!res.finalResponseSent) {
        res.send(503, { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } });
      }
    } finally {
      deps.endSession(req);
    }
  };
}

/** Logs a given key at most once per period (a flood of untrusted pings makes one line a minute). */
class LogThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly periodMs: number) {}

  shouldLog(key: string, now = Date.now()): boolean {
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.periodMs) return false;
    if (this.last.size >= 1000) this.last.clear();
    this.last.set(key, now);
    return true;
  }
}
