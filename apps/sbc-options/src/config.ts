import {
  JAMBONZ_DEFAULT_NETWORK_CIDRS,
  clusterIdEnv,
  drachtioEnv,
  envVar,
  httpPortEnv,
  logLevelEnv,
  mysqlEnv,
  mysqlWriteEnv,
  networkCidrEnv,
  redisEnv,
  sourceBansEnv,
  timeSeriesEnv,
  parseSipStatusList,
  type ConfigOf,
  type ParseResult,
} from '@sbc/service';
import { DEFAULT_SOCKET_PATH } from './cli-protocol.js';

/** Seconds as jambonz multiplies them (`(X || 60) * 1000`): fractions allowed, must be positive. */
function parseSeconds(raw: string): ParseResult<number> {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0)
    return { ok: false, problem: 'is not a positive number of seconds' };
  return { ok: true, value };
}

/**
 * Every variable sbc-options reads: jambonz sbc-sip-sidecar's names, meanings and defaults
 * (reference §3.10). README.md has the table.
 */
export const configSchema = {
  drachtio: drachtioEnv(),
  mysql: mysqlEnv(),
  mysqlWrite: mysqlWriteEnv(),
  redis: redisEnv(),
  logLevel: logLevelEnv(),
  httpPort: httpPortEnv(),
  networkCidrs: networkCidrEnv({ default: JAMBONZ_DEFAULT_NETWORK_CIDRS }),
  clusterId: clusterIdEnv(),
  timeSeries: timeSeriesEnv({ required: false }),
  checkExpiresIntervalMs: envVar
    .int('CHECK_EXPIRES_INTERVAL', 'ms between sweeps of feature servers and rtpengines not heard from', {
      min: 10,
    })
    .default(20000),
  expiresIntervalMs: envVar
    .int('EXPIRES_INTERVAL', 'ms after its last OPTIONS a feature server or rtpengine is removed', {
      min: 10,
    })
    .default(60000),
  sendOptionsPingIntervalSeconds: envVar
    .custom('SEND_OPTIONS_PING_INTERVAL', 'seconds between OPTIONS pings to carrier gateways', parseSeconds)
    .default(60),
  optionsPingTtlSeconds: envVar
    .int('OPTIONS_PING_TTL', 'seconds a gateway that failed a ping stays blacklisted', { min: 1 })
    .default(300),
  optionsResponseRemove: envVar
    .custom('OPTIONS_RESPONSE_REMOVE', 'SIP status codes that turn pinging a gateway off', parseSipStatusList)
    .default([]),
  socketPath: envVar.string('SBC_SOCKET_PATH', 'Unix socket of the drain CLI').default(DEFAULT_SOCKET_PATH),
  /** The CLI's `ban` commands use its key (SBC_BLACKLIST_REDIS_KEY). */
  bans: sourceBansEnv(),
};

export type AppConfig = ConfigOf<typeof configSchema>;
