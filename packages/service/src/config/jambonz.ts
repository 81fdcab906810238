import { createHmac } from 'node:crypto';
import { parseDigestAlgorithm, type DigestAlgorithm } from '@sbc/auth-hook';
import type { HostPort, Parser } from './parsers.js';
import { envVar, group, type ConfigPart } from './schema.js';

/**
 * The environment variables of jambonz's sbc-inbound and sbc-sip-sidecar, grouped the way apps use
 * them: same names, meanings and defaults (reference §2.14 and §3.10).
 */

/** How an app reaches the SIP engine: dial it (`DRACHTIO_HOST` set) or listen for it ("outbound mode"). */
export type DrachtioConfig =
  | { mode: 'dial'; host: string; port: number; secret: string }
  | { mode: 'listen'; port: number; secret: string };

/** TLS material as file contents (PEM), the shape mysql2 and ioredis take. */
export interface TlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
}

/** What `@sbc/db` takes to open its pool. */
export interface MysqlConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  connectionLimit?: number;
  ssl?: TlsConfig;
  /** Cache SELECT results this long (`JAMBONES_MYSQL_REFRESH_TTL`); no cache when unset. */
  refreshTtlSeconds?: number;
}

/** What `@sbc/redis` takes: one server (`host`/`port`) or sentinels plus the master's name. */
export interface RedisConfig {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  sentinels?: HostPort[];
  sentinelMasterName?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  tls?: TlsConfig;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface EncryptionConfig {
  /** `ENCRYPTION_SECRET`, else `JWT_SECRET`: the key of client passwords stored in MySQL. */
  secret: string | undefined;
  /** `LEGACY_CRYPTO`: stored secrets use aes-256-ctr instead of aes-256-cbc. */
  legacyCrypto: boolean;
}

export interface TimeSeriesConfig {
  host: string;
  port: number;
}

/** sbc-sip-sidecar's default for `JAMBONES_NETWORK_CIDR`. */
export const JAMBONZ_DEFAULT_NETWORK_CIDRS: readonly string[] = [
  '192.168.0.0/24',
  '172.16.0.0/16',
  '10.0.0.0/8',
];

/** Drops keys whose value is undefined, so results have exactly the keys that were configured. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * `DRACHTIO_HOST`, `DRACHTIO_PORT` (9022), `DRACHTIO_SECRET`. With `listenWhenK8s` (sbc-inbound's rule)
 * `K8S` forces listen mode even when `DRACHTIO_HOST` is set.
 */
export function drachtioEnv(options: { listenWhenK8s?: boolean } = {}): ConfigPart<DrachtioConfig> {
  const schema = {
    host: envVar
      .host('DRACHTIO_HOST', 'address of the SIP engine to dial; unset: listen for it on DRACHTIO_PORT')
      .optional(),
    port: envVar.port('DRACHTIO_PORT', 'SIP engine control port (dialled, or listened on)').default(9022),
    secret: envVar.secret('DRACHTIO_SECRET', 'shared secret of the SIP engine control connection').required(),
  };
  const toConfig = (
    v: { host: string | undefined; port: number; secret: string },
    k8s: boolean,
  ): DrachtioConfig =>
    v.host === undefined || k8s
      ? { mode: 'listen', port: v.port, secret: v.secret }
      : { mode: 'dial', host: v.host, port: v.port, secret: v.secret };
  if (!options.listenWhenK8s) return group(schema, (v) => toConfig(v, false));
  return group({ ...schema, k8s: k8sEnv() }, (v) => toConfig(v, v.k8s));
}

function mysqlSslEnv(): ConfigPart<TlsConfig | undefined> {
  return group(
    {
      rejectUnauthorized: envVar
        .bool('JAMBONES_MYSQL_REJECT_UNAUTHORIZED', 'verify the MySQL server certificate (0 to accept any)')
        .optional(),
      ca: envVar.file('JAMBONES_MYSQL_SSL_CA_FILE', 'CA certificate file for MySQL TLS').optional(),
      cert: envVar.file('JAMBONES_MYSQL_SSL_CERT_FILE', 'client certificate file for MySQL TLS').optional(),
      key: envVar.file('JAMBONES_MYSQL_SSL_KEY_FILE', 'client key file for MySQL TLS').optional(),
    },
    // As db-helpers: TLS when REJECT_UNAUTHORIZED is set or all three files are given.
    (v) =>
      v.rejectUnauthorized !== undefined ||
      (v.ca !== undefined && v.cert !== undefined && v.key !== undefined)
        ? defined<TlsConfig>(v)
        : undefined,
  );
}

/**
 * `JAMBONES_MYSQL_HOST/PORT(3306)/USER/PASSWORD/DATABASE/CONNECTION_LIMIT(10)`, the SSL variables and
 * `JAMBONES_MYSQL_REFRESH_TTL`.
 */
export function mysqlEnv(): ConfigPart<MysqlConfig> {
  return group(
    {
      host: envVar.host('JAMBONES_MYSQL_HOST', 'MySQL host name or address').required(),
      port: envVar.port('JAMBONES_MYSQL_PORT', 'MySQL port').default(3306),
      user: envVar.string('JAMBONES_MYSQL_USER', 'MySQL user name').required(),
      password: envVar.secret('JAMBONES_MYSQL_PASSWORD', 'MySQL password').required(),
      database: envVar.string('JAMBONES_MYSQL_DATABASE', 'MySQL database name').required(),
      connectionLimit: envVar
        .int('JAMBONES_MYSQL_CONNECTION_LIMIT', 'size of the MySQL connection pool', { min: 1 })
        .default(10),
      ssl: mysqlSslEnv(),
      refreshTtlSeconds: envVar
        .int('JAMBONES_MYSQL_REFRESH_TTL', 'seconds to cache MySQL SELECT results (unset: no cache)', {
          min: 1,
        })
        .optional(),
    },
    (v) => defined<MysqlConfig>(v),
  );
}

/**
 * The optional write pool: `JAMBONES_MYSQL_WRITE_HOST/PORT/USER/PASSWORD/DATABASE/CONNECTION_LIMIT`.
 * As in db-helpers it exists only when host, user, password and database are all set.
 */
export function mysqlWriteEnv(): ConfigPart<MysqlConfig | undefined> {
  return group(
    {
      host: envVar.host('JAMBONES_MYSQL_WRITE_HOST', 'MySQL host for writes').optional(),
      port: envVar.port('JAMBONES_MYSQL_WRITE_PORT', 'MySQL port for writes').default(3306),
      user: envVar.string('JAMBONES_MYSQL_WRITE_USER', 'MySQL user for writes').optional(),
      password: envVar.secret('JAMBONES_MYSQL_WRITE_PASSWORD', 'MySQL password for writes').optional(),
      database: envVar.string('JAMBONES_MYSQL_WRITE_DATABASE', 'MySQL database for writes').optional(),
      connectionLimit: envVar
        .int('JAMBONES_MYSQL_WRITE_CONNECTION_LIMIT', 'size of the MySQL write pool', { min: 1 })
        .default(10),
      ssl: mysqlSslEnv(),
    },
    ({ host, port, user, password, database, connectionLimit, ssl }) =>
      host !== undefined && user !== undefined && password !== undefined && database !== undefined
        ? defined<MysqlConfig>({ host, port, user, password, database, connectionLimit, ssl })
        : undefined,
  );
}

/**
 * `JAMBONES_REDIS_HOST/PORT(6379)/USERNAME/PASSWORD`, or `JAMBONES_REDIS_SENTINELS` ("h[:p],…", port
 * 26379) with `JAMBONES_REDIS_SENTINEL_MASTER_NAME`; `ENABLE_JAMBONES_REDIS_TLS` and its files.
 * As in realtimedb-helpers, with sentinels `_SENTINEL_USERNAME`/`_SENTINEL_PASSWORD` authenticate to the
 * master and `_SENTINEL_SERVER_PASSWORD` to the sentinels themselves.
 */
export function redisEnv(): ConfigPart<RedisConfig> {
  return group(
    {
      host: envVar
        .host('JAMBONES_REDIS_HOST', 'Redis host name or address, unless JAMBONES_REDIS_SENTINELS is set')
        .optional(),
      port: envVar.port('JAMBONES_REDIS_PORT', 'Redis port').default(6379),
      username: envVar.string('JAMBONES_REDIS_USERNAME', 'Redis ACL user name').optional(),
      password: envVar.secret('JAMBONES_REDIS_PASSWORD', 'Redis password').optional(),
      sentinels: envVar
        .hostPortList('JAMBONES_REDIS_SENTINELS', 'Redis sentinels as host[:port],… (port 26379)', {
          defaultPort: 26379,
        })
        .optional(),
      masterName: envVar
        .string('JAMBONES_REDIS_SENTINEL_MASTER_NAME', 'name of the Redis master the sentinels watch')
        .optional(),
      masterUsername: envVar
        .string('JAMBONES_REDIS_SENTINEL_USERNAME', 'user name on the master found through sentinels')
        .optional(),
      masterPassword: envVar
        .secret('JAMBONES_REDIS_SENTINEL_PASSWORD', 'password of the master found through sentinels')
        .optional(),
      sentinelPassword: envVar
        .secret('JAMBONES_REDIS_SENTINEL_SERVER_PASSWORD', 'password of the sentinels themselves')
        .optional(),
      tlsEnabled: envVar.bool('ENABLE_JAMBONES_REDIS_TLS', 'connect to Redis over TLS').default(false),
      ca: envVar.file('JAMBONES_REDIS_TLS_CA_FILE', 'CA certificate file for Redis TLS').optional(),
      cert: envVar.file('JAMBONES_REDIS_TLS_CERT_FILE', 'client certificate file for Redis TLS').optional(),
      key: envVar.file('JAMBONES_REDIS_TLS_KEY_FILE', 'client key file for Redis TLS').optional(),
    },
    (v, context): RedisConfig => {
      const tls = v.tlsEnabled ? defined<TlsConfig>({ ca: v.ca, cert: v.cert, key: v.key }) : undefined;
      if (v.sentinels !== undefined) {
        if (v.masterName === undefined) {
          context.problem(
            'JAMBONES_REDIS_SENTINEL_MASTER_NAME',
            'JAMBONES_REDIS_SENTINEL_MASTER_NAME is required with JAMBONES_REDIS_SENTINELS (name of the Redis master the sentinels watch)',
          );
        }
        return defined<RedisConfig>({
          sentinels: v.sentinels,
          sentinelMasterName: v.masterName,
          username: v.masterUsername,
          password: v.masterPassword,
          sentinelPassword: v.sentinelPassword,
          tls,
        });
      }
      if (v.host === undefined) {
        context.problem(
          'JAMBONES_REDIS_HOST',
          'JAMBONES_REDIS_HOST is required (Redis host name or address; or set JAMBONES_REDIS_SENTINELS)',
        );
      }
      return defined<RedisConfig>({
        host: v.host,
        port: v.port,
        username: v.username,
        password: v.password,
        tls,
      });
    },
  );
}

/** `JAMBONES_LOGLEVEL` (info). */
export function logLevelEnv(): ConfigPart<LogLevel> {
  return envVar.oneOf('JAMBONES_LOGLEVEL', 'log level', LOG_LEVELS).default('info');
}

/** `HTTP_PORT` (3000 in sbc-inbound): where /livez, /readyz and /metrics are served. */
export function httpPortEnv(options: { default?: number } = {}): ConfigPart<number> {
  return envVar
    .port('HTTP_PORT', 'port of the HTTP server (/livez, /readyz, /metrics)')
    .default(options.default ?? 3000);
}

/**
 * `JAMBONES_NETWORK_CIDR`: the private network(s) of feature servers and SBCs, comma-separated.
 * Required (sbc-inbound) unless a default is given (sbc-sip-sidecar: `JAMBONZ_DEFAULT_NETWORK_CIDRS`).
 */
export function networkCidrEnv(options?: { default?: readonly string[] }): ConfigPart<string[]>;
export function networkCidrEnv(options: { optional: true }): ConfigPart<string[] | undefined>;
export function networkCidrEnv(
  options: { default?: readonly string[]; optional?: boolean } = {},
): ConfigPart<string[] | undefined> {
  const builder = envVar.cidrList(
    'JAMBONES_NETWORK_CIDR',
    'private network of feature servers, as CIDRs, comma-separated',
  );
  if (options.default) return builder.default([...options.default]);
  return options.optional ? builder.optional() : builder.required();
}

/** `JAMBONES_CLUSTER_ID` (default): the prefix of the cluster's Redis keys (`<cluster>:active-sip`). */
export function clusterIdEnv(): ConfigPart<string> {
  return envVar.string('JAMBONES_CLUSTER_ID', 'cluster id, prefix of shared Redis keys').default('default');
}

/** `ENCRYPTION_SECRET` (else `JWT_SECRET`) and `LEGACY_CRYPTO`. */
export function encryptionEnv(options: { required: true }): ConfigPart<EncryptionConfig & { secret: string }>;
export function encryptionEnv(options?: { required?: boolean }): ConfigPart<EncryptionConfig>;
export function encryptionEnv(options: { required?: boolean } = {}): ConfigPart<EncryptionConfig> {
  return group(
    {
      encryptionSecret: envVar
        .secret('ENCRYPTION_SECRET', 'key of the secrets jambonz stores encrypted in MySQL')
        .optional(),
      jwtSecret: envVar.secret('JWT_SECRET', 'used as ENCRYPTION_SECRET when that is unset').optional(),
      legacyCrypto: envVar
        .bool('LEGACY_CRYPTO', 'stored secrets use the legacy aes-256-ctr format')
        .default(false),
    },
    (v, context): EncryptionConfig => {
      const secret = v.encryptionSecret ?? v.jwtSecret;
      if (options.required && secret === undefined) {
        context.problem(
          'ENCRYPTION_SECRET',
          'ENCRYPTION_SECRET (or JWT_SECRET) is required (key of the secrets jambonz stores encrypted in MySQL)',
        );
      }
      return { secret, legacyCrypto: v.legacyCrypto };
    },
  );
}

/** `JAMBONES_TIME_SERIES_HOST` (required by default, as in jambonz) and `JAMBONES_TIME_SERIES_PORT` (8086). */
export function timeSeriesEnv(options?: { required?: true }): ConfigPart<TimeSeriesConfig>;
export function timeSeriesEnv(options: { required: false }): ConfigPart<TimeSeriesConfig | undefined>;
export function timeSeriesEnv(
  options: { required?: boolean } = {},
): ConfigPart<TimeSeriesConfig | undefined> {
  const hostVar = envVar.host('JAMBONES_TIME_SERIES_HOST', 'InfluxDB host for cdrs, alerts and call counts');
  return group(
    {
      host: options.required === false ? hostVar.optional() : hostVar.required(),
      port: envVar.port('JAMBONES_TIME_SERIES_PORT', 'InfluxDB port').default(8086),
    },
    ({ host, port }) => (host === undefined ? undefined : { host, port }),
  );
}

/** `K8S`: running in Kubernetes (outbound drachtio mode, no JAMBONES_NETWORK_CIDR needed). */
export function k8sEnv(): ConfigPart<boolean> {
  return envVar.bool('K8S', 'running in Kubernetes').default(false);
}

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

/** The label the nonce key is derived under when only ENCRYPTION_SECRET / JWT_SECRET is set. */
const NONCE_KEY_LABEL = 'sbc-registrar digest nonce v1';

/**
 * The nonce key derived from ENCRYPTION_SECRET || JWT_SECRET: HMAC-SHA256(secret, label), so every
 * instance of a cluster, and every app (REGISTER and INVITE), signs and checks the same nonces.
 */
export function deriveNonceSecret(encryptionSecret: string): string {
  return createHmac('sha256', encryptionSecret).update(NONCE_KEY_LABEL).digest('hex');
}

/** What `@sbc/auth-hook`'s digest step is configured with (`digestAuthEnv()`). */
export interface DigestAuthConfig {
  /** SBC_NONCE_SECRET, else derived from ENCRYPTION_SECRET / JWT_SECRET. */
  nonceSecret: string;
  nonceMaxAgeSeconds: number;
  /** Offered with local credentials (clients table, auth trunks). */
  algorithms: DigestAlgorithm[];
  /** Offered when an auth hook decides. */
  hookAlgorithms: DigestAlgorithm[];
  hookTimeoutMs: number;
}

/**
 * Digest authentication (sbc-registrar for REGISTER, sbc-inbound for INVITE): `SBC_NONCE_SECRET`
 * (else derived from ENCRYPTION_SECRET / JWT_SECRET, one of them required), `SBC_NONCE_MAX_AGE`
 * (300), `SBC_DIGEST_ALGORITHMS` (MD5,SHA-256), `SBC_HOOK_DIGEST_ALGORITHMS` (MD5),
 * `SBC_AUTH_HOOK_TIMEOUT_MS` (5000).
 */
export function digestAuthEnv(): ConfigPart<DigestAuthConfig> {
  return group(
    {
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
    (v, context): DigestAuthConfig => {
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
  );
}
