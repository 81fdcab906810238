import { describe, expect, it } from 'vitest';
import { ConfigError, deriveNonceSecret } from '@sbc/service';
import { loadRegistrarConfig, registrarVariables } from './config.js';

const BASE = {
  DRACHTIO_HOST: '127.0.0.1',
  DRACHTIO_SECRET: 'cymru',
  JAMBONES_MYSQL_HOST: '127.0.0.1',
  JAMBONES_MYSQL_USER: 'jambones',
  JAMBONES_MYSQL_PASSWORD: 'jambones',
  JAMBONES_MYSQL_DATABASE: 'jambones',
  JAMBONES_REDIS_HOST: '127.0.0.1',
  JWT_SECRET: 'jwt-secret-of-the-cluster',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadRegistrarConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('loadRegistrarConfig', () => {
  it('has jambonz sbc-sip-sidecar defaults', () => {
    const config = loadRegistrarConfig(BASE);
    expect(config.networkCidrs).toEqual(['192.168.0.0/24', '172.16.0.0/16', '10.0.0.0/8']);
    expect(config.clusterId).toBe('default');
    expect(config.sbcAddresses).toEqual({ keepAliveMs: 900_000, deadSeconds: 3600 });
    expect(config.regbot).toMatchObject({
      defaultExpires: 3600,
      minExpires: 30,
      batchSize: 10,
      batchSleepMs: 250,
      failureRetrySeconds: 300,
      failureThreshold: 3,
      removeOnStatus: [],
      checkIntervalSeconds: 60,
    });
    expect(config.auth).toMatchObject({
      algorithms: ['MD5', 'SHA-256'],
      hookAlgorithms: ['MD5'],
      nonceMaxAgeSeconds: 300,
      hookTimeoutMs: 5000,
    });
    expect(config.register).toEqual({ cachedRefresh: true, natExpires: 30, retryAfterSeconds: 30 });
    expect(config.durability).toEqual({ minReplicas: 0, replicaWaitMs: 500 });
  });

  it('reads SBC_REDIS_MIN_REPLICAS / SBC_REDIS_REPLICA_WAIT_MS', () => {
    const config = loadRegistrarConfig({
      ...BASE,
      SBC_REDIS_MIN_REPLICAS: '1',
      SBC_REDIS_REPLICA_WAIT_MS: '250',
    });
    expect(config.durability).toEqual({ minReplicas: 1, replicaWaitMs: 250 });
    expect(problems({ ...BASE, SBC_REDIS_MIN_REPLICAS: '-1' }).join('\n')).toMatch(/SBC_REDIS_MIN_REPLICAS/);
    expect(problems({ ...BASE, SBC_REDIS_REPLICA_WAIT_MS: '0' }).join('\n')).toMatch(
      /SBC_REDIS_REPLICA_WAIT_MS/,
    );
  });

  it('derives the nonce key from JWT_SECRET / ENCRYPTION_SECRET unless SBC_NONCE_SECRET is set', () => {
    expect(loadRegistrarConfig(BASE).auth.nonceSecret).toBe(deriveNonceSecret('jwt-secret-of-the-cluster'));
    expect(loadRegistrarConfig({ ...BASE, ENCRYPTION_SECRET: 'enc-secret' }).auth.nonceSecret).toBe(
      deriveNonceSecret('enc-secret'),
    );
    expect(
      loadRegistrarConfig({ ...BASE, SBC_NONCE_SECRET: 'a-long-enough-nonce-key' }).auth.nonceSecret,
    ).toBe('a-long-enough-nonce-key');
  });

  it('names each missing or malformed variable on one line', () => {
    const { JWT_SECRET: _jwt, DRACHTIO_SECRET: _secret, ...rest } = BASE;
    expect(problems(rest)).toEqual([
      'DRACHTIO_SECRET is required (shared secret of the SIP engine control connection)',
      'SBC_NONCE_SECRET is required (key of digest nonces, shared by all instances), or set ENCRYPTION_SECRET / JWT_SECRET to derive it',
    ]);
    expect(problems({ ...BASE, SBC_DIGEST_ALGORITHMS: 'MD5,SHA-512' })).toEqual([
      'SBC_DIGEST_ALGORITHMS=MD5,SHA-512 is not a list of MD5, SHA-256 (SHA-512?)',
    ]);
    expect(problems({ ...BASE, REGISTER_RESPONSE_REMOVE: '403,abc' })).toEqual([
      'REGISTER_RESPONSE_REMOVE=403,abc is not a comma-separated list of SIP status codes',
    ]);
  });

  it('parses lists of algorithms and status codes', () => {
    const config = loadRegistrarConfig({
      ...BASE,
      SBC_HOOK_DIGEST_ALGORITHMS: 'sha-256, md5',
      REGISTER_RESPONSE_REMOVE: '403, 404',
    });
    expect(config.auth.hookAlgorithms).toEqual(['SHA-256', 'MD5']);
    expect(config.regbot.removeOnStatus).toEqual([403, 404]);
  });

  it('lists its variables for the README', () => {
    const names = registrarVariables().map((v) => v.name);
    expect(names).toContain('JAMBONES_REGBOT_DEFAULT_EXPIRES_INTERVAL');
    expect(names).toContain('SBC_NONCE_SECRET');
    expect(new Set(names).size).toBe(names.length);
  });
});
