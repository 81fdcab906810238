import type { Db } from '@sbc/db';
import { GatewayBlacklist, ServerSets, type Redis } from '@sbc/redis';
import {
  createLogAlertSink,
  parseNetworks,
  type AlertSink,
  type Logger,
  type Metrics,
  type Srf,
} from '@sbc/service';
import { FeatureServerDrain } from './drain.js';
import { createExpirySweeper, type ExpirySweeper } from './expiry.js';
import { createCarrierPinger, type CarrierPinger } from './gateway-ping.js';
import { createAppMetrics, refreshSetGauges, type AppMetrics } from './metrics.js';
import { createOptionsHandler } from './options.js';

/** The settings the app uses (AppConfig minus the connection details, which index.ts turns into clients). */
export interface AppSettings {
  clusterId: string;
  networkCidrs: readonly string[];
  expiresIntervalMs: number;
  checkExpiresIntervalMs: number;
  sendOptionsPingIntervalSeconds: number;
  optionsPingTtlSeconds: number;
  optionsResponseRemove: readonly number[];
}

export interface AppDependencies {
  srf: Srf;
  redis: Redis;
  db: Db;
  writeDb?: Db;
  logger: Logger;
  metrics: Metrics;
  settings: AppSettings;
  /** Whether the SIP engine is connected now (pings are skipped while it is not). */
  isEngineConnected: () => boolean;
  /**
   * Whether this app can send requests (dial mode). In outbound (listen) mode the engine only opens
   * connections for requests it receives, so there are no carrier pings.
   */
  canSendRequests: boolean;
  /** Where alerts go (default: log line + sbc_alerts_total). */
  alerts?: AlertSink;
}

export interface SbcOptionsApp {
  readonly sets: ServerSets;
  readonly drain: FeatureServerDrain;
  readonly sweeper: ExpirySweeper;
  readonly pinger: CarrierPinger | undefined;
  readonly appMetrics: AppMetrics;
  /** Starts the expiry sweeps and the carrier pings. */
  start(): void;
  stop(): Promise<void>;
  /** Reads the set gauges from Redis (before each /metrics scrape). */
  refreshGauges(): Promise<void>;
}

/**
 * sbc-options: registers for OPTIONS on the engine (options.ts answers them and maintains the
 * cluster's server sets), sweeps members gone silent (expiry.ts), pings carrier gateways
 * (gateway-ping.ts) and owns the drain state the CLI changes (drain.ts).
 */
export function createApp(deps: AppDependencies): SbcOptionsApp {
  const { srf, redis, logger, settings } = deps;
  const appMetrics = createAppMetrics(deps.metrics);
  const sets = new ServerSets(redis, { clusterId: settings.clusterId });
  const drain = new FeatureServerDrain(redis, sets, {
    clusterId: settings.clusterId,
    expiresIntervalMs: settings.expiresIntervalMs,
  });
  const refreshGauges = (): Promise<void> =>
    refreshSetGauges(appMetrics, { sets, drain, expiresIntervalMs: settings.expiresIntervalMs });

  srf.options(
    createOptionsHandler({
      sets,
      drain,
      network: parseNetworks(settings.networkCidrs),
      metrics: appMetrics,
      logger,
      endSession: (req) => srf.endSession(req),
    }),
  );

  const sweeper = createExpirySweeper({
    sets,
    drain,
    metrics: appMetrics,
    logger,
    expiresIntervalMs: settings.expiresIntervalMs,
    checkExpiresIntervalMs: settings.checkExpiresIntervalMs,
    afterSweep: refreshGauges,
  });

  const pinger = deps.canSendRequests
    ? createCarrierPinger({
        srf,
        db: deps.db,
        ...(deps.writeDb ? { writeDb: deps.writeDb } : {}),
        blacklist: new GatewayBlacklist(redis),
        alerts: deps.alerts ?? createLogAlertSink(logger, deps.metrics),
        metrics: appMetrics,
        logger,
        intervalMs: settings.sendOptionsPingIntervalSeconds * 1000,
        ttlSeconds: settings.optionsPingTtlSeconds,
        removeCodes: settings.optionsResponseRemove,
        isEngineConnected: deps.isEngineConnected,
      })
    : undefined;
  if (!pinger) logger.warn('outbound (listen) mode: carrier OPTIONS pings need DRACHTIO_HOST and are off');

  return {
    sets,
    drain,
    sweeper,
    pinger,
    appMetrics,
    refreshGauges,
    start() {
      sweeper.start();
      pinger?.start();
    },
    async stop() {
      await Promise.all([sweeper.stop(), pinger?.stop()]);
    },
  };
}
