import {
  clusterIdEnv,
  configVariables,
  digestAuthEnv,
  drachtioEnv,
  encryptionEnv,
  envVar,
  httpPortEnv,
  JAMBONZ_DEFAULT_NETWORK_CIDRS,
  logLevelEnv,
  loadConfig,
  mysqlEnv,
  networkCidrEnv,
  parseSipStatusList,
  redisEnv,
  sourceBansEnv,
  timeSeriesEnv,
  type ConfigOf,
  type Env,
} from '@sbc/service';

/**
 * Every variable sbc-registrar reads: jambonz sbc-sip-sidecar's names and defaults, plus a few of ours
 * (SBC_*), documented in README.md.
 */
export const registrarSchema = {
  drachtio: drachtioEnv(),
  mysql: mysqlEnv(),
  redis: redisEnv(),
  logLevel: logLevelEnv(),
  httpPort: httpPortEnv(),
  networkCidrs: networkCidrEnv({ default: JAMBONZ_DEFAULT_NETWORK_CIDRS }),
  clusterId: clusterIdEnv(),
  encryption: encryptionEnv(),
  timeSeries: timeSeriesEnv({ required: false }),
  hosting: envVar
    .bool('JAMBONES_HOSTING', 'hosted platform: enforce device limits of account subscriptions')
    .default(false),
  httpUserAgent: envVar
    .string('JAMBONES_HTTP_USER_AGENT_HEADER', 'User-Agent of requests to auth hooks')
    .optional(),
  sbcAddresses: {
    keepAliveMs: envVar
      .int('SBC_PUBLIC_ADDRESS_KEEP_ALIVE_IN_MILISECOND', 'how often public SBC addresses are refreshed', {
        min: 1000,
      })
      .default(900_000),
    deadSeconds: envVar
      .int('DEAD_SBC_IN_SECOND', 'sbc_addresses rows not refreshed for this long are deleted', { min: 1 })
      .default(3600),
  },
  auth: digestAuthEnv(),
  bans: sourceBansEnv(),
  register: {
    cachedRefresh: envVar
      .bool('SBC_REGISTER_CACHED_REFRESH', 'answer re-REGISTERs from the same ip:port without auth')
      .default(true),
    natExpires: envVar
      .int('SBC_NAT_EXPIRES', 'expires returned to UDP clients (jambonz NAT_EXPIRES)', { min: 1 })
      .default(30),
    retryAfterSeconds: envVar
      .int('SBC_RETRY_AFTER', 'Retry-After of 503 answers when a dependency is down', { min: 1 })
      .default(30),
  },
  durability: {
    minReplicas: envVar
      .int(
        'SBC_REDIS_MIN_REPLICAS',
        'replicas that must acknowledge a binding (Redis WAIT) before the 200; 0: no WAIT (jambonz)',
        { min: 0 },
      )
      .default(0),
    replicaWaitMs: envVar
      .int('SBC_REDIS_REPLICA_WAIT_MS', 'longest WAIT for those replicas, then 503 + Retry-After (ms)', {
        min: 1,
      })
      .default(500),
  },
  regbot: {
    defaultExpires: envVar
      .int('JAMBONES_REGBOT_DEFAULT_EXPIRES_INTERVAL', 'expires requested from carriers (s)', { min: 1 })
      .default(3600),
    minExpires: envVar
      .int('JAMBONES_REGBOT_MIN_EXPIRES_INTERVAL', 'shortest expires accepted from carriers (s)', {
        min: 1,
      })
      .default(30),
    contactUseIp: envVar
      .bool('JAMBONES_REGBOT_CONTACT_USE_IP', 'put the SBC public address in the Contact of every carrier')
      .default(false),
    userAgent: envVar
      .string('JAMBONES_REGBOT_USER_AGENT', 'User-Agent of REGISTERs sent to carriers')
      .optional(),
    batchSize: envVar
      .int('JAMBONES_REGBOT_BATCH_SIZE', 'registrations started at once', { min: 1 })
      .default(10),
    batchSleepMs: envVar
      .int('JAMBONES_REGBOT_BATCH_SLEEP_MS', 'pause between batches of registrations (ms)', { min: 0 })
      .default(250),
    failureRetrySeconds: envVar
      .int('JAMBONES_REGBOT_FAILURE_RETRY_INTERVAL', 'retry a failed registration after this many s', {
        min: 1,
      })
      .default(300),
    failureThreshold: envVar
      .int(
        'JAMBONES_REGBOT_REGISTER_FAILURE_THRESHOLD',
        'consecutive REGISTER_RESPONSE_REMOVE answers that disable a carrier',
        { min: 1 },
      )
      .default(3),
    removeOnStatus: envVar
      .custom(
        'REGISTER_RESPONSE_REMOVE',
        'carrier answers (e.g. 403) that count towards disabling its registration',
        parseSipStatusList,
      )
      .default([]),
    initialDelayMs: envVar
      .int('JAMBONES_REGBOT_INITIAL_DELAY_MS', 'longest random wait before the first leader bid (ms)', {
        min: 0,
      })
      .default(14_000),
    checkIntervalSeconds: envVar
      .int('SBC_REGBOT_CHECK_INTERVAL', 'leader renewal and carrier re-read interval (s)', { min: 1 })
      .default(60),
    requestTimeoutSeconds: envVar
      .int('SBC_REGBOT_REQUEST_TIMEOUT', 'a REGISTER to a carrier without final answer fails after (s)', {
        min: 1,
      })
      .default(32),
    enabled: envVar.bool('SBC_REGBOT', 'register to carriers from this instance').default(true),
  },
};

export type RegistrarConfig = ConfigOf<typeof registrarSchema>;

export function loadRegistrarConfig(env: Env): RegistrarConfig {
  return loadConfig(registrarSchema, env);
}

/** Name, default and meaning of every variable (for the README table and `--help`). */
export function registrarVariables() {
  return configVariables(registrarSchema);
}
