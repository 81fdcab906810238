import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@sbc/service';
import { configSchema } from './config.js';

const required = {
  DRACHTIO_HOST: '127.0.0.1',
  DRACHTIO_SECRET: 'cymru',
  JAMBONES_MYSQL_HOST: '127.0.0.1',
  JAMBONES_MYSQL_USER: 'jambones',
  JAMBONES_MYSQL_PASSWORD: 'jambones-pass',
  JAMBONES_MYSQL_DATABASE: 'jambones',
  JAMBONES_REDIS_HOST: '127.0.0.1',
};

describe('configuration (jambonz sbc-sip-sidecar variables)', () => {
  it('has jambonz defaults', () => {
    const config = loadConfig(configSchema, required);
    expect(config).toMatchObject({
      checkExpiresIntervalMs: 20000,
      expiresIntervalMs: 60000,
      sendOptionsPingIntervalSeconds: 60,
      optionsPingTtlSeconds: 300,
      optionsResponseRemove: [],
      socketPath: '/tmp/sbc-sip-sidecar.sock',
      clusterId: 'default',
      networkCidrs: ['192.168.0.0/24', '172.16.0.0/16', '10.0.0.0/8'],
      httpPort: 3000,
      timeSeries: undefined,
    });
    expect(config.drachtio).toEqual({ mode: 'dial', host: '127.0.0.1', port: 9022, secret: 'cymru' });
  });

  it('reads the options variables', () => {
    const config = loadConfig(configSchema, {
      ...required,
      OPTIONS_RESPONSE_REMOVE: '403, 404,488',
      SEND_OPTIONS_PING_INTERVAL: '0.5',
      JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
    });
    expect(config.optionsResponseRemove).toEqual([403, 404, 488]);
    expect(config.sendOptionsPingIntervalSeconds).toBe(0.5);
    expect(config.networkCidrs).toEqual(['127.0.1.0/24']);
  });

  it('names each bad variable', () => {
    let error: unknown;
    try {
      loadConfig(configSchema, {
        ...required,
        OPTIONS_RESPONSE_REMOVE: '403,abc',
        SEND_OPTIONS_PING_INTERVAL: '-1',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([
      'SEND_OPTIONS_PING_INTERVAL',
      'OPTIONS_RESPONSE_REMOVE',
    ]);
  });
});
