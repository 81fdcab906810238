import { describe, expect, it } from 'vitest';
import { callLogger, createLogger, loadConfig, mysqlEnv, redisEnv } from '../src/index.js';
import { LogCapture } from './helpers/log-capture.js';

describe('createLogger', () => {
  it('writes JSON lines with the app name at the configured level', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'warn', name: 'sbc-inbound', destination: capture });
    logger.info('not shown');
    logger.warn({ carrier: 'westco' }, 'gateway blacklisted');
    expect(capture.lines).toHaveLength(1);
    expect(capture.lines[0]).toMatchObject({
      level: 40,
      name: 'sbc-inbound',
      carrier: 'westco',
      msg: 'gateway blacklisted',
    });
  });

  it('redacts passwords and secrets at any of the first levels of nesting', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'sbc', destination: capture });
    logger.info(
      {
        password: 'p0',
        hook: { url: 'http://127.0.0.1:4000/auth', username: 'foo', password: 'p1' },
        config: {
          drachtio: { secret: 'cymru' },
          redis: { sentinelPassword: 'p2', tls: { key: 'PRIVATE KEY' } },
        },
        carrier: { register_password: 'p3', webhook_secret: 'p4' },
      },
      'started',
    );
    const line = capture.lines[0];
    expect(line).toMatchObject({
      password: '[redacted]',
      hook: { url: 'http://127.0.0.1:4000/auth', username: 'foo', password: '[redacted]' },
      config: {
        drachtio: { secret: '[redacted]' },
        redis: { sentinelPassword: '[redacted]', tls: { key: '[redacted]' } },
      },
      carrier: { register_password: '[redacted]', webhook_secret: '[redacted]' },
    });
    expect(JSON.stringify(capture.lines)).not.toMatch(/p[0-4]"|cymru|PRIVATE KEY/);
  });

  it('redacts the secrets of a loaded jambonz config logged whole', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'sbc', destination: capture });
    const config = loadConfig(
      { mysql: mysqlEnv(), redis: redisEnv() },
      {
        JAMBONES_MYSQL_HOST: '127.0.0.1',
        JAMBONES_MYSQL_USER: 'jambones',
        JAMBONES_MYSQL_PASSWORD: 'mysql-pw',
        JAMBONES_MYSQL_DATABASE: 'jambones',
        JAMBONES_REDIS_HOST: '127.0.0.1',
        JAMBONES_REDIS_PASSWORD: 'redis-pw',
      },
    );
    logger.info({ config }, 'config');
    expect(capture.lines[0]?.config).toEqual({
      mysql: {
        host: '127.0.0.1',
        port: 3306,
        user: 'jambones',
        password: '[redacted]',
        database: 'jambones',
        connectionLimit: 10,
      },
      redis: { host: '127.0.0.1', port: 6379, password: '[redacted]' },
    });
  });

  it('redacts inside arrays, errors and child bindings, and leaves the logged objects untouched', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'sbc', destination: capture });
    const gateways = [{ host: '127.0.0.2', password: 'p5' }];
    const err = Object.assign(new Error('connect refused'), { options: { password: 'p6', port: 6379 } });
    const child = callLogger(logger, 'call-1', { hook: { url: 'u', secret: 'p7' } });
    child.error({ gateways, err }, 'failed');
    const line = capture.lines[0];
    expect(line).toMatchObject({
      callId: 'call-1',
      hook: { url: 'u', secret: '[redacted]' },
      gateways: [{ host: '127.0.0.2', password: '[redacted]' }],
      err: { type: 'Error', message: 'connect refused', options: { password: '[redacted]', port: 6379 } },
    });
    expect(String(line?.err && (line.err as { stack?: string }).stack)).toMatch(/^Error: connect refused/);
    expect(JSON.stringify(capture.lines)).not.toMatch(/p[5-7]"/);
    expect(gateways[0]?.password).toBe('p5');
    expect(err.options.password).toBe('p6');
  });

  it("searches four levels: a secret deeper down is the caller's business", () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'sbc', destination: capture });
    logger.info({ a: { b: { c: { password: 'x', d: { password: 'deep' } } } } }, 'nested');
    expect(capture.lines[0]?.a).toEqual({ b: { c: { password: '[redacted]', d: { password: 'deep' } } } });
  });

  it('takes extra redaction paths', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'sbc', destination: capture, redact: ['hook.token'] });
    logger.info({ hook: { token: 't', url: 'u' } }, 'hook');
    expect(capture.lines[0]?.hook).toEqual({ token: '[redacted]', url: 'u' });
  });
});

describe('callLogger', () => {
  it('puts the Call-ID on every line of a call', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'debug', name: 'sbc-inbound', destination: capture });
    const log = callLogger(logger, 'a84b4c76e66710@pc33.atlanta.example.com', { accountSid: 'ed649e33' });
    log.debug('classified as carrier');
    log.info({ status: 200 }, 'call answered');
    expect(capture.lines.map((l) => [l.callId, l.accountSid, l.msg])).toEqual([
      ['a84b4c76e66710@pc33.atlanta.example.com', 'ed649e33', 'classified as carrier'],
      ['a84b4c76e66710@pc33.atlanta.example.com', 'ed649e33', 'call answered'],
    ]);
  });
});
