/**
 * Apps decide, engines enforce, Redis shares: authentication failures per source IP are counted in
 * Redis (REGISTER in sbc-registrar, INVITE in sbc-inbound); past the limit, or when the auth hook
 * answers `blacklist: true`, the IP goes into the blacklist set that every SIP engine of the cluster
 * reads (drachtio-server's `--blacklist-redis-key`, and ours). Bans end on their own: each app
 * removes the ones that are over every few seconds. A ban is counted in /metrics and alerted once.
 */
import type { SipDigestRefusal } from '@sbc/auth-hook';
import type { NetworkSet } from '@sbc/net';
import type { AlertSink } from './alerts.js';
import { envVar, group, type ConfigPart } from './config/schema.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { createPeriodicTask } from './periodic-task.js';

export interface SourceBansConfig {
  /** Failures from one IP within the window that ban it; 0 turns the app's bans off. */
  limit: number;
  windowSeconds: number;
  banSeconds: number;
  /** The Redis set the engines read (their `--blacklist-redis-key`). */
  key: string;
  /** Sources never banned besides JAMBONES_NETWORK_CIDR. */
  allow: string[];
}

/** `SBC_AUTH_FAILURE_LIMIT` (20), `SBC_AUTH_FAILURE_WINDOW` (60 s), `SBC_BAN_SECONDS` (3600), `SBC_BLACKLIST_REDIS_KEY`, `SBC_BAN_ALLOW`. */
export function sourceBansEnv(): ConfigPart<SourceBansConfig> {
  return group(
    {
      limit: envVar
        .int(
          'SBC_AUTH_FAILURE_LIMIT',
          'authentication failures from one IP within SBC_AUTH_FAILURE_WINDOW that ban it (0: no bans)',
          { min: 0 },
        )
        .default(20),
      windowSeconds: envVar
        .int('SBC_AUTH_FAILURE_WINDOW', 'seconds over which authentication failures are counted', { min: 1 })
        .default(60),
      banSeconds: envVar
        .int('SBC_BAN_SECONDS', 'how long a banned source IP is dropped by the SIP engines (s)', { min: 1 })
        .default(3600),
      key: envVar
        .string('SBC_BLACKLIST_REDIS_KEY', "the Redis set of banned IPs (the engines' --blacklist-redis-key)")
        .default('blacklist-sip-ips'),
      allow: envVar
        .cidrList('SBC_BAN_ALLOW', 'networks never banned, besides JAMBONES_NETWORK_CIDR (CIDRs)')
        .default([]),
    },
    (v) => v,
  );
}

/** What the policy needs of the store (`SourceBans` of @sbc/redis). */
export interface BanStore {
  authFailure(
    ip: string,
    limits: { limit: number; windowMs: number; banMs: number },
  ): Promise<{ failures: number; banned: boolean }>;
  ban(ip: string, reason: 'hook-blacklist', banMs: number): Promise<boolean>;
  expire(): Promise<string[]>;
}

export interface SourceBansDeps {
  store: BanStore;
  config: SourceBansConfig;
  /** JAMBONES_NETWORK_CIDR and SBC_BAN_ALLOW. */
  exempt: NetworkSet;
  metrics: Metrics;
  alerts: AlertSink;
  logger: Logger;
}

export interface SourceBanPolicy {
  /**
   * A request was refused by the digest step: a 403 to credentials (not a challenge, not the
   * customer's broken hook) counts against its source, and a hook's `blacklist: true` bans it. Never
   * throws and never waits: one Redis round trip in the background, and only on a failure.
   */
  refused(
    sourceIp: string,
    method: string,
    refusal: Pick<SipDigestRefusal, 'kind' | 'reason' | 'blacklist'>,
  ): void;
  /** Starts removing bans that are over (every 5 s). */
  start(): void;
  stop(): Promise<void>;
}

/** How often ended bans are taken out of the set. */
const EXPIRE_INTERVAL_MS = 5000;

export function createSourceBanPolicy(deps: SourceBansDeps): SourceBanPolicy {
  const { store, config, exempt, alerts, logger } = deps;
  const failures = deps.metrics.counter(
    'sbc_auth_failures_total',
    'authentication failures counted against their source IP (403 to credentials), by method',
    ['method'],
  );
  const bans = deps.metrics.counter(
    'sbc_source_bans_total',
    'source IPs this instance put in the blacklist set, by reason (auth-failures, hook-blacklist)',
    ['reason'],
  );
  const expired = deps.metrics.counter(
    'sbc_source_bans_expired_total',
    'bans this instance lifted when they ended',
  );
  const limits = {
    limit: config.limit,
    windowMs: config.windowSeconds * 1000,
    banMs: config.banSeconds * 1000,
  };

  const banned = (
    ip: string,
    reason: 'auth-failures' | 'hook-blacklist',
    method: string,
    count?: number,
  ): void => {
    bans.inc({ reason });
    const why =
      reason === 'hook-blacklist'
        ? 'the auth hook answered blacklist: true'
        : `${count} authentication failures within ${config.windowSeconds} s`;
    alerts.alert({
      alert_type: 'source-banned',
      message: `SIP source ${ip} banned for ${config.banSeconds} s: ${why}`,
      detail: { source: ip, reason, method, banSeconds: config.banSeconds, key: config.key },
    });
  };
  const failed = (err: unknown): void =>
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'cannot record an authentication failure',
    );

  const expiry = createPeriodicTask({
    intervalMs: EXPIRE_INTERVAL_MS,
    run: async () => {
      const ips = await store.expire();
      for (const ip of ips) logger.info({ source: ip }, 'ban over: source IP taken out of the blacklist');
      if (ips.length > 0) expired.inc(ips.length);
    },
    onError: (err) => logger.debug({ err }, 'cannot expire bans'),
  });

  return {
    refused(sourceIp, method, refusal) {
      if (config.limit === 0 || refusal.kind !== 'forbidden' || refusal.reason === 'hook_garbage') return;
      if (exempt.contains(sourceIp)) return;
      failures.inc({ method });
      if (refusal.blacklist) {
        store
          .ban(sourceIp, 'hook-blacklist', limits.banMs)
          .then((added) => added && banned(sourceIp, 'hook-blacklist', method), failed);
        return;
      }
      store
        .authFailure(sourceIp, limits)
        .then((count) => count.banned && banned(sourceIp, 'auth-failures', method, count.failures), failed);
    },
    start() {
      if (config.limit > 0) expiry.start();
    },
    stop: () => expiry.stop(),
  };
}
