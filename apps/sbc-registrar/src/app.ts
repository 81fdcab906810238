/**
 * The sbc-registrar app, built from its dependencies (so tests build the same thing index.ts runs):
 *
 * - REGISTER from phones: src/register/handler.ts (parse → cached refresh → account → digest → store);
 * - the SBC's public addresses in `sbc_addresses` (src/addresses.ts);
 * - outbound registration to carriers on the leader instance (src/regbot/manager.ts);
 * - housekeeping: the registered-users gauge and the `active-user` purge.
 */
import { NonceManager, type SipDigestOptions } from '@sbc/auth-hook';
import type { Db } from '@sbc/db';
import { NonceStore, RegistrationStore, SourceBans, type Redis } from '@sbc/redis';
import {
  createLogAlertSink,
  createPeriodicTask,
  createSourceBanPolicy,
  parseNetworks,
  privateSipAddress,
  SbcAddressKeeper,
  type AlertSink,
  type DigestAuthConfig,
  type EngineInfo,
  type Logger,
  type Metrics,
  type SourceBansConfig,
  type Srf,
} from '@sbc/service';
import type { RegistrarConfig } from './config.js';
import { createRegistrarMetrics, type RegistrarMetrics } from './metrics.js';
import { RegbotManager, type RegbotManagerOptions } from './regbot/manager.js';
import type { Resolver } from './regbot/resolve.js';
import { createRegisterHandler, type RegisterOptions } from './register/handler.js';

/** Everything the app is configured with, in the units the code uses (ms where timers need them). */
export interface RegistrarOptions {
  networkCidrs: readonly string[];
  register: RegisterOptions;
  /** Replicas that must hold a binding before its 200 (SBC_REDIS_MIN_REPLICAS; 0: no WAIT). */
  durability: { minReplicas: number; replicaWaitMs: number };
  auth: DigestAuthConfig & Pick<SipDigestOptions, 'httpUserAgent' | 'encryptionSecret' | 'legacyCrypto'>;
  /** Bans of sources that fail authentication (SBC_AUTH_FAILURE_LIMIT, …). */
  bans: SourceBansConfig;
  sbcAddresses: { keepAliveMs: number; deadSeconds: number };
  /** undefined: this instance never registers to carriers. */
  regbot: RegbotManagerOptions | undefined;
  /** How often the registered-users gauge is refreshed (jambonz: 30 s). */
  usersGaugeIntervalMs: number;
  /** How often expired `active-user` entries are purged (jambonz: 10 min). */
  purgeIntervalMs: number;
}

const VERSION = '0.1.0';

/** The app's options from its environment configuration. */
export function registrarOptions(config: RegistrarConfig): RegistrarOptions {
  const r = config.regbot;
  return {
    networkCidrs: config.networkCidrs,
    register: { hosting: config.hosting, ...config.register },
    durability: config.durability,
    auth: {
      nonceSecret: config.auth.nonceSecret,
      nonceMaxAgeSeconds: config.auth.nonceMaxAgeSeconds,
      algorithms: config.auth.algorithms,
      hookAlgorithms: config.auth.hookAlgorithms,
      hookTimeoutMs: config.auth.hookTimeoutMs,
      httpUserAgent: config.httpUserAgent,
      encryptionSecret: config.encryption.secret,
      legacyCrypto: config.encryption.legacyCrypto,
    },
    bans: config.bans,
    sbcAddresses: config.sbcAddresses,
    regbot: r.enabled
      ? {
          clusterId: config.clusterId,
          defaultExpires: r.defaultExpires,
          minExpires: r.minExpires,
          contactUseIp: r.contactUseIp,
          userAgent: r.userAgent ?? `sbc-registrar/${VERSION}`,
          batchSize: r.batchSize,
          batchSleepMs: r.batchSleepMs,
          failureRetryMs: r.failureRetrySeconds * 1000,
          failureThreshold: r.failureThreshold,
          removeOnStatus: r.removeOnStatus,
          initialDelayMs: r.initialDelayMs,
          checkIntervalMs: r.checkIntervalSeconds * 1000,
          lockTtlMs: (r.checkIntervalSeconds + 10) * 1000,
          requestTimeoutMs: r.requestTimeoutSeconds * 1000,
        }
      : undefined,
    usersGaugeIntervalMs: 30_000,
    purgeIntervalMs: 10 * 60_000,
  };
}

export interface RegistrarDeps {
  srf: Srf;
  db: Db;
  redis: Redis;
  logger: Logger;
  /** The app's metrics registry (`createMetrics`); the registrar adds its own metrics to it. */
  metrics: Metrics;
  options: RegistrarOptions;
  /** ms since the epoch for REGISTER handling (tests pin it). */
  clock?: () => number;
  /** DNS used for registration trunks. */
  resolver?: Resolver;
  /** Regbot leader token (default random). */
  regbotToken?: string;
  /** Where alerts go (default: log line + sbc_alerts_total; index.ts adds InfluxDB when configured). */
  alerts?: AlertSink;
}

export interface RegistrarApp {
  readonly metrics: RegistrarMetrics;
  readonly alerts: AlertSink;
  readonly registrations: RegistrationStore;
  readonly nonces: NonceManager;
  readonly regbot: RegbotManager | undefined;
  readonly sbcAddresses: SbcAddressKeeper;
  /** The engine's addresses, once connected. */
  engine(): EngineInfo | undefined;
  /**
   * The engine (re)connected: note its addresses, record the public ones, start the regbot. Call it
   * from `connectDrachtio(…).onEngine`.
   */
  engineConnected(engine: EngineInfo): Promise<void>;
  /** Stops timers and outbound registrations (releasing the regbot token unless `release: false`). */
  stop(options?: { release?: boolean }): Promise<void>;
}

/** Registers the REGISTER handler on `srf` and returns the app's handle. */
export function createRegistrar(deps: RegistrarDeps): RegistrarApp {
  const { srf, db, redis, logger, options } = deps;
  const metrics = createRegistrarMetrics(deps.metrics);
  const alerts = deps.alerts ?? createLogAlertSink(logger, deps.metrics);
  const network = parseNetworks(options.networkCidrs);
  const registrations = new RegistrationStore(redis, options.durability);
  const nonces = new NonceManager({
    secret: options.auth.nonceSecret,
    maxAgeSeconds: options.auth.nonceMaxAgeSeconds,
  });
  const replayGuard = new NonceStore(redis);
  const bans = createSourceBanPolicy({
    store: new SourceBans(redis, { key: options.bans.key }),
    config: options.bans,
    exempt: parseNetworks([...options.networkCidrs, ...options.bans.allow]),
    metrics: deps.metrics,
    alerts,
    logger,
  });
  let engine: EngineInfo | undefined;
  let privateAddress: string | undefined;

  srf.register(
    createRegisterHandler({
      db,
      registrations,
      logger,
      metrics,
      alerts,
      options: options.register,
      auth: { ...options.auth, nonces, replayGuard, retryAfterSeconds: options.register.retryAfterSeconds },
      privateSipAddress: () => privateAddress,
      bans,
      ...(deps.clock !== undefined && { clock: deps.clock }),
    }),
  );

  const sbcAddresses = new SbcAddressKeeper(db, options.sbcAddresses, logger, (result) =>
    metrics.sbcAddressRefreshes.inc({ result }),
  );
  const regbot = options.regbot
    ? new RegbotManager({
        srf,
        db,
        redis,
        logger,
        metrics,
        alerts,
        options: options.regbot,
        engine: () => engine,
        ...(deps.resolver !== undefined && { resolver: deps.resolver }),
        ...(deps.regbotToken !== undefined && { token: deps.regbotToken }),
      })
    : undefined;

  const usersGauge = createPeriodicTask({
    intervalMs: options.usersGaugeIntervalMs,
    run: async () => metrics.registeredUsers.set(await registrations.count()),
    onError: (err) => logger.debug({ err }, 'cannot count registered users'),
  });
  const purge = createPeriodicTask({
    intervalMs: options.purgeIntervalMs,
    run: () => registrations.purgeExpired().then(() => undefined),
    onError: (err) => logger.debug({ err }, 'cannot purge expired registrations'),
  });
  usersGauge.start();
  purge.start();
  bans.start();

  return {
    metrics,
    alerts,
    registrations,
    nonces,
    regbot,
    sbcAddresses,
    engine: () => engine,
    async engineConnected(info) {
      engine = info;
      privateAddress = privateSipAddress(info, network);
      logger.info({ hostports: info.hostports, privateSipAddress: privateAddress }, 'SIP engine addresses');
      await sbcAddresses.start(info);
      void usersGauge.runNow();
      regbot?.start();
    },
    async stop(stopOptions = {}) {
      await Promise.all([
        usersGauge.stop(),
        purge.stop(),
        bans.stop(),
        sbcAddresses.stop(),
        regbot?.stop(stopOptions),
      ]);
      registrations.close();
    },
  };
}
