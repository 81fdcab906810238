import { createHmac } from 'node:crypto';
import { parseDigestAlgorithm, type DigestAlgorithm } from '@sbc/auth-hook';
import {
  clusterIdEnv,
  configVariables,
  drachtioEnv,
  encryptionEnv,
  envVar,
  group,
  httpPortEnv,
  JAMBONZ_DEFAULT_NETWORK_CIDRS,
  logLevelEnv,
  loadConfig,
  mysqlEnv,
  networkCidrEnv,
  redisEnv,
  type ConfigOf,
  type Env,
  type Parser,
} from '@sbc/service';

/** `SBC_DIGEST_ALGORITHMS=MD5,SHA-256`: the challenges offered, in this order (one WWW-Authenticate each). */
const parseAlgorithms: Parser<DigestAlgorithm[]> = (raw) => {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const algorithms: DigestAlgorithm[] = [];
  for (const name of names) {
    const algorithm = parseDigestAlgorithm(name);
    if (algorithm === undefined) return { ok: false, problem: `is not a list of MD5, SHA-256 (${name}?)` };
    if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
  }
  if (algorithms.length === 0) return { ok: false, problem: 'is not a list of MD5, SHA-256' };
  return { ok: true, value: algorithms };
};

/** `REGISTER_RESPONSE_REMOVE=403,404`: SIP status codes. */
const parseStatusList: Parser<number[]> = (raw) => {
  const codes = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!codes.every((c) => /^[1-6]\d\d$/.test(c)))
    return { ok: false, problem: 'is not a comma-separated list of SIP status codes' };
  return { ok: true, value: codes.map(Number) };
};

/** The label the nonce secret is derived under when only ENCRYPTION_SECRET / JWT_SECRET is set. */
const NONCE_KEY_LABEL = 'sbc-registrar digest nonce v1';

/**
 * The nonce key: `SBC_NONCE_SECRET`, else HMAC-SHA256(ENCRYPTION_SECRET || JWT_SECRET, label) so every
 * instance of a cluster (which shares those secrets) signs and checks the same nonces.
 */
export function deriveNonceSecret(encryptionSecret: string): string {
  return createHmac('sha256', encryptionSecret).update(NONCE_KEY_LABEL).digest('hex');
}

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
  auth: group(
    {
      // Read here too (the same variables), to derive the nonce key from them.
      encryption: encryptionEnv(),
      nonceSecret: envVar
        .secret('SBC_NONCE_SECRET', 'key signing digest nonces, the same on every instance')
        .check((v) => Buffer.byteLength(v) >= 16, 'must be at least 16 bytes')
        .optional(),
      nonceMaxAgeSeconds: envVar
        .int('SBC_NONCE_MAX_AGE', 'seconds a digest nonce stays fresh (then stale=true)', { min: 5 })
        .default(300),
      algorithms: envVar
        .custom('SBC_DIGEST_ALGORITHMS', 'digest algorithms offered with local credentials', parseAlgorithms)
        .default(['MD5', 'SHA-256']),
      hookAlgorithms: envVar
        .custom(
          'SBC_HOOK_DIGEST_ALGORITHMS',
          'digest algorithms offered when an auth hook decides',
          parseAlgorithms,
        )
        .default(['MD5']),
      hookTimeoutMs: envVar
        .int('SBC_AUTH_HOOK_TIMEOUT_MS', 'give up on the auth hook after this many ms (then 503)', {
          min: 100,
          max: 60_000,
        })
        .default(5000),
    },
    (v, context) => {
      const { encryption, ...auth } = v;
      const base = auth.nonceSecret ?? encryption.secret;
      if (base === undefined) {
        context.problem(
          'SBC_NONCE_SECRET',
          'SBC_NONCE_SECRET is required (key of digest nonces, shared by all instances), or set ENCRYPTION_SECRET / JWT_SECRET to derive it',
        );
      }
      return { ...auth, nonceSecret: auth.nonceSecret ?? deriveNonceSecret(base ?? '') };
    },
  ),
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
        parseStatusList,
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
