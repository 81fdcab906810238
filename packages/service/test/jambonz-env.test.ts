import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  JAMBONZ_DEFAULT_NETWORK_CIDRS,
  clusterIdEnv,
  configVariables,
  drachtioEnv,
  encryptionEnv,
  httpPortEnv,
  k8sEnv,
  loadConfig,
  logLevelEnv,
  mysqlEnv,
  mysqlWriteEnv,
  networkCidrEnv,
  redisEnv,
  timeSeriesEnv,
  type Env,
} from '../src/index.js';

/** The environment sbc-inbound's own `npm test` runs with (jambonz/sbc-inbound package.json). */
const SBC_INBOUND_TEST_ENV = Object.fromEntries(
  `NODE_ENV=test HTTP_PORT=3050 JAMBONES_NETWORK_CIDR=127.0.0.1/32 JAMBONES_HOSTING=1 JWT_SECRET=foobarbazzle
   SBC_ACCOUNT_SID=ed649e33-e771-403a-8c99-1780eabbc803 JAMBONES_TIME_SERIES_HOST=127.0.0.1
   JAMBONES_MYSQL_HOST=127.0.0.1 JAMBONES_MYSQL_USER=jambones_test JAMBONES_MYSQL_PASSWORD=jambones_test
   JAMBONES_MYSQL_DATABASE=jambones_test JAMBONES_REDIS_HOST=localhost JAMBONES_REDIS_PORT=16379
   JAMBONES_LOGLEVEL=error DRACHTIO_SECRET=cymru DRACHTIO_HOST=127.0.0.1 DRACHTIO_PORT=9060
   JAMBONES_RTPENGINES=127.0.0.1:12222 JAMBONES_FEATURE_SERVERS=172.38.0.11`
    .split(/\s+/)
    .map((pair) => pair.split('=') as [string, string]),
) as Env;

/** sbc-inbound's variables, as an app would declare them. */
const inboundSchema = {
  drachtio: drachtioEnv({ listenWhenK8s: true }),
  mysql: mysqlEnv(),
  mysqlWrite: mysqlWriteEnv(),
  redis: redisEnv(),
  logLevel: logLevelEnv(),
  httpPort: httpPortEnv(),
  networkCidrs: networkCidrEnv(),
  clusterId: clusterIdEnv(),
  encryption: encryptionEnv(),
  timeSeries: timeSeriesEnv(),
  k8s: k8sEnv(),
};

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'sbc-service-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("sbc-inbound's test environment", () => {
  it('reads into the shapes the libraries take', () => {
    expect(loadConfig(inboundSchema, SBC_INBOUND_TEST_ENV)).toEqual({
      drachtio: { mode: 'dial', host: '127.0.0.1', port: 9060, secret: 'cymru' },
      mysql: {
        host: '127.0.0.1',
        port: 3306,
        user: 'jambones_test',
        password: 'jambones_test',
        database: 'jambones_test',
        connectionLimit: 10,
      },
      mysqlWrite: undefined,
      redis: { host: 'localhost', port: 16379 },
      logLevel: 'error',
      httpPort: 3050,
      networkCidrs: ['127.0.0.1/32'],
      clusterId: 'default',
      encryption: { secret: 'foobarbazzle', legacyCrypto: false },
      timeSeries: { host: '127.0.0.1', port: 8086 },
      k8s: false,
    });
  });

  it('names every missing required variable with what it is', () => {
    expect(problemsOf(() => loadConfig(inboundSchema, {}))).toEqual([
      'DRACHTIO_SECRET is required (shared secret of the SIP engine control connection)',
      'JAMBONES_MYSQL_HOST is required (MySQL host name or address)',
      'JAMBONES_MYSQL_USER is required (MySQL user name)',
      'JAMBONES_MYSQL_PASSWORD is required (MySQL password)',
      'JAMBONES_MYSQL_DATABASE is required (MySQL database name)',
      'JAMBONES_REDIS_HOST is required (Redis host name or address; or set JAMBONES_REDIS_SENTINELS)',
      'JAMBONES_NETWORK_CIDR is required (private network of feature servers, as CIDRs, comma-separated)',
      'JAMBONES_TIME_SERIES_HOST is required (InfluxDB host for cdrs, alerts and call counts)',
    ]);
  });

  it('lists its variables with their jambonz defaults', () => {
    const variables = configVariables(inboundSchema);
    const defaults = Object.fromEntries(variables.map((v) => [v.name, v.default]));
    expect(defaults).toMatchObject({
      DRACHTIO_PORT: '9022',
      JAMBONES_MYSQL_PORT: '3306',
      JAMBONES_MYSQL_CONNECTION_LIMIT: '10',
      JAMBONES_REDIS_PORT: '6379',
      JAMBONES_LOGLEVEL: 'info',
      HTTP_PORT: '3000',
      JAMBONES_CLUSTER_ID: 'default',
      JAMBONES_TIME_SERIES_PORT: '8086',
      K8S: 'false',
    });
    // K8S is read by both drachtioEnv({listenWhenK8s}) and k8sEnv(); listed once.
    expect(variables.filter((v) => v.name === 'K8S')).toHaveLength(1);
    expect(variables.filter((v) => v.secret).map((v) => v.name)).toEqual([
      'DRACHTIO_SECRET',
      'JAMBONES_MYSQL_PASSWORD',
      'JAMBONES_MYSQL_WRITE_PASSWORD',
      'JAMBONES_REDIS_PASSWORD',
      'JAMBONES_REDIS_SENTINEL_PASSWORD',
      'JAMBONES_REDIS_SENTINEL_SERVER_PASSWORD',
      'ENCRYPTION_SECRET',
      'JWT_SECRET',
    ]);
  });
});

describe('drachtio mode', () => {
  const secret = { DRACHTIO_SECRET: 'cymru' };

  it('dials the engine when DRACHTIO_HOST is set', () => {
    expect(loadConfig(drachtioEnv(), { ...secret, DRACHTIO_HOST: '127.0.0.1' })).toEqual({
      mode: 'dial',
      host: '127.0.0.1',
      port: 9022,
      secret: 'cymru',
    });
  });

  it('listens on DRACHTIO_PORT for the engine without DRACHTIO_HOST (outbound mode)', () => {
    expect(loadConfig(drachtioEnv(), { ...secret, DRACHTIO_PORT: '4000' })).toEqual({
      mode: 'listen',
      port: 4000,
      secret: 'cymru',
    });
  });

  it('listens under K8S only when asked to (sbc-inbound), dials otherwise (sbc-sip-sidecar)', () => {
    const env = { ...secret, DRACHTIO_HOST: '127.0.0.1', K8S: '1' };
    expect(loadConfig(drachtioEnv({ listenWhenK8s: true }), env).mode).toBe('listen');
    expect(loadConfig(drachtioEnv(), env).mode).toBe('dial');
  });

  it('rejects a bad port and hides the secret', () => {
    expect(
      problemsOf(() => loadConfig(drachtioEnv(), { DRACHTIO_HOST: 'no such host!', DRACHTIO_PORT: '90220' })),
    ).toEqual([
      'DRACHTIO_HOST="no such host!" is not a host name or IP address',
      'DRACHTIO_PORT=90220 is not a port (1-65535)',
      'DRACHTIO_SECRET is required (shared secret of the SIP engine control connection)',
    ]);
  });
});

describe('MySQL', () => {
  const base = {
    JAMBONES_MYSQL_HOST: '127.0.0.1',
    JAMBONES_MYSQL_USER: 'jambones',
    JAMBONES_MYSQL_PASSWORD: 'secret-pw',
    JAMBONES_MYSQL_DATABASE: 'jambones',
  };

  it('reads port, pool size and the SELECT cache TTL', () => {
    expect(
      loadConfig(mysqlEnv(), {
        ...base,
        JAMBONES_MYSQL_PORT: '3307',
        JAMBONES_MYSQL_CONNECTION_LIMIT: '25',
        JAMBONES_MYSQL_REFRESH_TTL: '30',
      }),
    ).toEqual({
      host: '127.0.0.1',
      port: 3307,
      user: 'jambones',
      password: 'secret-pw',
      database: 'jambones',
      connectionLimit: 25,
      refreshTtlSeconds: 30,
    });
  });

  it('turns on TLS like db-helpers: REJECT_UNAUTHORIZED set, or all three files given', () => {
    const ca = pem('mysql-ca.pem', 'CA');
    const cert = pem('mysql-cert.pem', 'CERT');
    const key = pem('mysql-key.pem', 'KEY');
    expect(loadConfig(mysqlEnv(), { ...base, JAMBONES_MYSQL_REJECT_UNAUTHORIZED: '0' }).ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(
      loadConfig(mysqlEnv(), {
        ...base,
        JAMBONES_MYSQL_SSL_CA_FILE: ca,
        JAMBONES_MYSQL_SSL_CERT_FILE: cert,
        JAMBONES_MYSQL_SSL_KEY_FILE: key,
      }).ssl,
    ).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY' });
    expect(loadConfig(mysqlEnv(), { ...base, JAMBONES_MYSQL_SSL_CA_FILE: ca }).ssl).toBeUndefined();
    expect(
      loadConfig(mysqlEnv(), {
        ...base,
        JAMBONES_MYSQL_SSL_CA_FILE: ca,
        JAMBONES_MYSQL_REJECT_UNAUTHORIZED: '1',
      }).ssl,
    ).toEqual({ ca: 'CA', rejectUnauthorized: true });
  });

  it('reports an unreadable certificate file once, even when two groups read it', () => {
    const missing = join(dir, 'nope.pem');
    expect(
      problemsOf(() =>
        loadConfig(
          { mysql: mysqlEnv(), write: mysqlWriteEnv() },
          { ...base, JAMBONES_MYSQL_SSL_CA_FILE: missing },
        ),
      ),
    ).toEqual([`JAMBONES_MYSQL_SSL_CA_FILE=${missing} is not a readable file (ENOENT)`]);
  });

  it('has a write pool only when its host, user, password and database are all set', () => {
    expect(loadConfig(mysqlWriteEnv(), { JAMBONES_MYSQL_WRITE_HOST: '127.0.0.9' })).toBeUndefined();
    expect(
      loadConfig(mysqlWriteEnv(), {
        JAMBONES_MYSQL_WRITE_HOST: '127.0.0.9',
        JAMBONES_MYSQL_WRITE_USER: 'w',
        JAMBONES_MYSQL_WRITE_PASSWORD: 'wp',
        JAMBONES_MYSQL_WRITE_DATABASE: 'jambones',
      }),
    ).toEqual({
      host: '127.0.0.9',
      port: 3306,
      user: 'w',
      password: 'wp',
      database: 'jambones',
      connectionLimit: 10,
    });
  });

  it('rejects a bad pool size without showing the password', () => {
    const lines = problemsOf(() => loadConfig(mysqlEnv(), { ...base, JAMBONES_MYSQL_CONNECTION_LIMIT: '0' }));
    expect(lines).toEqual(['JAMBONES_MYSQL_CONNECTION_LIMIT=0 is not an integer in range (1 or more)']);
  });
});

describe('Redis', () => {
  it('reads one server with credentials', () => {
    expect(
      loadConfig(redisEnv(), {
        JAMBONES_REDIS_HOST: '127.0.0.1',
        JAMBONES_REDIS_USERNAME: 'sbc',
        JAMBONES_REDIS_PASSWORD: 'pw',
      }),
    ).toEqual({ host: '127.0.0.1', port: 6379, username: 'sbc', password: 'pw' });
  });

  it('reads sentinels "h[:p],…" (port 26379) with the master name and credentials as realtimedb-helpers maps them', () => {
    expect(
      loadConfig(redisEnv(), {
        JAMBONES_REDIS_SENTINELS: '127.0.0.5:26380,127.0.0.6',
        JAMBONES_REDIS_SENTINEL_MASTER_NAME: 'mymaster',
        JAMBONES_REDIS_SENTINEL_USERNAME: 'sbc',
        JAMBONES_REDIS_SENTINEL_PASSWORD: 'master-pw',
        JAMBONES_REDIS_SENTINEL_SERVER_PASSWORD: 'sentinel-pw',
        JAMBONES_REDIS_HOST: 'ignored-with-sentinels',
      }),
    ).toEqual({
      sentinels: [
        { host: '127.0.0.5', port: 26380 },
        { host: '127.0.0.6', port: 26379 },
      ],
      sentinelMasterName: 'mymaster',
      username: 'sbc',
      password: 'master-pw',
      sentinelPassword: 'sentinel-pw',
    });
  });

  it('needs the master name with sentinels', () => {
    expect(problemsOf(() => loadConfig(redisEnv(), { JAMBONES_REDIS_SENTINELS: '127.0.0.5' }))).toEqual([
      'JAMBONES_REDIS_SENTINEL_MASTER_NAME is required with JAMBONES_REDIS_SENTINELS (name of the Redis master the sentinels watch)',
    ]);
  });

  it('reads TLS files only when ENABLE_JAMBONES_REDIS_TLS is on', () => {
    const ca = pem('redis-ca.pem', 'REDIS-CA');
    const env = { JAMBONES_REDIS_HOST: '127.0.0.1', JAMBONES_REDIS_TLS_CA_FILE: ca };
    expect(loadConfig(redisEnv(), env).tls).toBeUndefined();
    expect(loadConfig(redisEnv(), { ...env, ENABLE_JAMBONES_REDIS_TLS: '1' }).tls).toEqual({
      ca: 'REDIS-CA',
    });
    expect(
      loadConfig(redisEnv(), { JAMBONES_REDIS_HOST: '127.0.0.1', ENABLE_JAMBONES_REDIS_TLS: 'true' }).tls,
    ).toEqual({});
  });

  it('rejects a malformed sentinel list', () => {
    expect(
      problemsOf(() =>
        loadConfig(redisEnv(), {
          JAMBONES_REDIS_SENTINELS: '127.0.0.5:x',
          JAMBONES_REDIS_SENTINEL_MASTER_NAME: 'm',
        }),
      ),
    ).toEqual([
      'JAMBONES_REDIS_SENTINELS=127.0.0.5:x is not a comma-separated list of host[:port]: item 1 is not host[:port] (bad port)',
    ]);
  });
});

describe('other jambonz variables', () => {
  it('uses the sidecar default for JAMBONES_NETWORK_CIDR when given', () => {
    expect(loadConfig(networkCidrEnv({ default: JAMBONZ_DEFAULT_NETWORK_CIDRS }), {})).toEqual([
      '192.168.0.0/24',
      '172.16.0.0/16',
      '10.0.0.0/8',
    ]);
    expect(loadConfig(networkCidrEnv({ optional: true }), {})).toBeUndefined();
    expect(loadConfig(networkCidrEnv(), { JAMBONES_NETWORK_CIDR: '127.0.1.0/24, 127.0.0.1' })).toEqual([
      '127.0.1.0/24',
      '127.0.0.1/32',
    ]);
  });

  it('prefers ENCRYPTION_SECRET to JWT_SECRET and can require one of them', () => {
    expect(
      loadConfig(encryptionEnv(), { ENCRYPTION_SECRET: 'enc', JWT_SECRET: 'jwt', LEGACY_CRYPTO: '1' }),
    ).toEqual({
      secret: 'enc',
      legacyCrypto: true,
    });
    expect(loadConfig(encryptionEnv(), {})).toEqual({ secret: undefined, legacyCrypto: false });
    expect(problemsOf(() => loadConfig(encryptionEnv({ required: true }), {}))).toEqual([
      'ENCRYPTION_SECRET (or JWT_SECRET) is required (key of the secrets jambonz stores encrypted in MySQL)',
    ]);
  });

  it('reads the log level from JAMBONES_LOGLEVEL (info) and refuses unknown ones', () => {
    expect(loadConfig(logLevelEnv(), {})).toBe('info');
    expect(loadConfig(logLevelEnv(), { JAMBONES_LOGLEVEL: 'debug' })).toBe('debug');
    expect(problemsOf(() => loadConfig(logLevelEnv(), { JAMBONES_LOGLEVEL: 'verbose' }))).toEqual([
      'JAMBONES_LOGLEVEL=verbose is not one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('makes the time-series host optional on request', () => {
    expect(loadConfig(timeSeriesEnv({ required: false }), {})).toBeUndefined();
    expect(
      loadConfig(timeSeriesEnv(), {
        JAMBONES_TIME_SERIES_HOST: '127.0.0.1',
        JAMBONES_TIME_SERIES_PORT: '18086',
      }),
    ).toEqual({
      host: '127.0.0.1',
      port: 18086,
    });
  });

  it('reads HTTP_PORT with an app-chosen default, the cluster id and K8S', () => {
    expect(loadConfig(httpPortEnv({ default: 3001 }), {})).toBe(3001);
    expect(loadConfig(clusterIdEnv(), { JAMBONES_CLUSTER_ID: 'east' })).toBe('east');
    expect(loadConfig(k8sEnv(), { K8S: 'true' })).toBe(true);
  });
});
