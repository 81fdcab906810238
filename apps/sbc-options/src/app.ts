import type { Db } from '@sbc/db';
import { GatewayBlacklist, ServerSets, SourceBans, type Redis } from '@sbc/redis';
import {
  createLogAlertSink,
  parseNetworks,
  type AlertSink,
  type LogLevel,
  type Logger,
  type Metrics,
  type Srf,
} from '@sbc/service';
import { FeatureServerDrain } from './drain.js';
import { createExpirySweeper, type ExpirySweeper } from './expiry.js';
import { createCarrierPinger, type CarrierPinger } from './gateway-ping.js';
import { createAppMetrics, refreshSetGauges, type AppMetrics } from './metrics.js';
import { createOptionsHandler } from './options.js';
import { RuntimeConfig } from './runtime-config.js';

/** The settings the app uses (AppConfig minus the connection details, which index.ts turns into clients). */
export interface AppSettings {
  clusterId: string;
  /** JAMBONES_LOGLEVEL at start (the CLI can change it). */
  logLevel: LogLevel;
  networkCidrs: readonly string[];
  expiresIntervalMs: number;
  checkExpiresIntervalMs: number;
  sendOptionsPingIntervalSeconds: number;
  optionsPingTtlSeconds: number;
  optionsResponseRemove: readonly number[];
  /** SBC_BLACKLIST_REDIS_KEY: the set of banned IPs the CLI's `ban` commands change (default `blacklist-sip-ips`). */
  bans?: { key: string };
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
  /** How often the runtime configuration is read again from Redis (default RELOAD_INTERVAL_MS). */
  runtimeConfigReloadMs?: number;
}

export interface SbcOptionsApp {
  readonly sets: ServerSets;
  readonly drain: FeatureServerDrain;
  /** What the CLI's set / get / add / remove / unset / list change (runtime-config.ts). */
  readonly runtimeConfig: RuntimeConfig;
  /** What the CLI's `ban list|add|remove` change: the blacklist set the SIP engines read. */
  readonly bans: SourceBans;
  readonly sweeper: ExpirySweeper;
  readonly pinger: CarrierPinger | undefined;
  readonly appMetrics: AppMetrics;
  /** Reads the runtime configuration, then starts the expiry sweeps and the carrier pings. */
  start(): Promise<void>;
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
  const runtimeConfig = new RuntimeConfig(redis, {
    clusterId: settings.clusterId,
    logger,
    defaults: {
      JAMBONES_LOGLEVEL: settings.logLevel,
      EXPIRES_INTERVAL: settings.expiresIntervalMs,
      CHECK_EXPIRES_INTERVAL: settings.checkExpiresIntervalMs,
      SEND_OPTIONS_PING_INTERVAL: settings.sendOptionsPingIntervalSeconds,
      OPTIONS_PING_TTL: settings.optionsPingTtlSeconds,
      OPTIONS_RESPONSE_REMOVE: [...settings.optionsResponseRemove],
    },
    ...(deps.runtimeConfigReloadMs !== undefined ? { reloadIntervalMs: deps.runtimeConfigReloadMs } : {}),
  });
  const expiresIntervalMs = (): number => runtimeConfig.value('EXPIRES_INTERVAL');
  const sets = new ServerSets(redis, { clusterId: settings.clusterId });
  const drain = new FeatureServerDrain(redis, sets, { clusterId: settings.clusterId, expiresIntervalMs });
  const refreshGauges = (): Promise<void> =>
    refreshSetGauges(appMetrics, { sets, drain, expiresIntervalMs: expiresIntervalMs() });

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
    expiresIntervalMs,
    checkExpiresIntervalMs: () => runtimeConfig.value('CHECK_EXPIRES_INTERVAL'),
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
        intervalMs: () => runtimeConfig.value('SEND_OPTIONS_PING_INTERVAL') * 1000,
        ttlSeconds: () => runtimeConfig.value('OPTIONS_PING_TTL'),
        removeCodes: () => runtimeConfig.value('OPTIONS_RESPONSE_REMOVE'),
        isEngineConnected: deps.isEngineConnected,
      })
    : undefined;
  if (!pinger) logger.warn('outbound (listen) mode: carrier OPTIONS pings need DRACHTIO_HOST and are off');

  // The changes that need more than reading the value when it is used.
  runtimeConfig.onChange((key, value) => {
    // pino children without a level of their own follow their parent's (tested in runtime-config.test.ts).
    if (key === 'JAMBONES_LOGLEVEL') logger.level = value as LogLevel;
    else if (key === 'CHECK_EXPIRES_INTERVAL') sweeper.reschedule();
    else if (key === 'SEND_OPTIONS_PING_INTERVAL') pinger?.reschedule();
  });

  return {
    sets,
    drain,
    runtimeConfig,
    bans: new SourceBans(redis, settings.bans ?? {}),
    sweeper,
    pinger,
    appMetrics,
    refreshGauges,
    async start() {
      await runtimeConfig.start();
      sweeper.start();
      pinger?.start();
    },
    async stop() {
      await Promise.all([runtimeConfig.stop(), sweeper.stop(), pinger?.stop()]);
    },
  };
}
