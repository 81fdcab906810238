import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configVariables, envVar, group, loadConfig } from '../src/index.js';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'sbc-service-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('envVar types', () => {
  it('parses each type from its text', () => {
    const certPath = join(dir, 'ca.pem');
    writeFileSync(certPath, '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    const config = loadConfig(
      {
        name: envVar.string('NAME', 'a name').required(),
        count: envVar.int('COUNT', 'a count', { min: 0, max: 10 }).required(),
        negative: envVar.int('NEGATIVE', 'a signed number').required(),
        port: envVar.port('PORT', 'a port').required(),
        on: envVar.bool('ON', 'a flag').required(),
        off: envVar.bool('OFF', 'a flag').required(),
        yes: envVar.bool('YES', 'a flag').required(),
        list: envVar.list('LIST', 'a list').required(),
        host: envVar.host('HOST', 'a host').required(),
        v6host: envVar.host('V6HOST', 'a host').required(),
        cidr: envVar.cidr('CIDR', 'a network').required(),
        cidrs: envVar.cidrList('CIDRS', 'networks').required(),
        target: envVar.hostPort('TARGET', 'host and port').required(),
        sentinels: envVar.hostPortList('SENTINELS', 'sentinels', { defaultPort: 26379 }).required(),
        hook: envVar.url('HOOK', 'a URL').required(),
        level: envVar.oneOf('LEVEL', 'a level', ['info', 'debug']).required(),
        ca: envVar.file('CA', 'a file').required(),
      },
      {
        NAME: 'sbc-inbound',
        COUNT: ' 7 ',
        NEGATIVE: '-3',
        PORT: '5060',
        ON: '1',
        OFF: 'false',
        YES: 'Yes',
        LIST: 'a, b,,c ',
        HOST: 'redis.local',
        V6HOST: '[::1]',
        CIDR: '127.0.1.0/24',
        CIDRS: '127.0.1.0/24, 127.0.0.2,::1/128',
        TARGET: '127.0.0.1:22222',
        SENTINELS: '127.0.0.5:26380,127.0.0.6,[::1]:26381',
        HOOK: 'http://127.0.0.1:4000/auth',
        LEVEL: 'debug',
        CA: certPath,
      },
    );
    expect(config).toEqual({
      name: 'sbc-inbound',
      count: 7,
      negative: -3,
      port: 5060,
      on: true,
      off: false,
      yes: true,
      list: ['a', 'b', 'c'],
      host: 'redis.local',
      v6host: '::1',
      cidr: '127.0.1.0/24',
      cidrs: ['127.0.1.0/24', '127.0.0.2/32', '::1/128'],
      target: { host: '127.0.0.1', port: 22222 },
      sentinels: [
        { host: '127.0.0.5', port: 26380 },
        { host: '127.0.0.6', port: 26379 },
        { host: '::1', port: 26381 },
      ],
      hook: 'http://127.0.0.1:4000/auth',
      level: 'debug',
      ca: '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n',
    });
  });

  it('says what each type expects when the text is wrong', () => {
    const lines = problemsOf(() =>
      loadConfig(
        {
          count: envVar.int('COUNT', 'a count', { min: 1, max: 10 }).required(),
          big: envVar.int('BIG', 'a count', { min: 1, max: 10 }).required(),
          port: envVar.port('HTTP_PORT', 'a port').required(),
          zero: envVar.port('ZERO_PORT', 'a port').required(),
          flag: envVar.bool('K8S', 'a flag').required(),
          host: envVar.host('HOST', 'a host').required(),
          cidr: envVar.cidr('CIDR', 'a network').required(),
          cidrs: envVar.cidrList('CIDRS', 'networks').required(),
          target: envVar.hostPort('TARGET', 'host and port').required(),
          hook: envVar.url('HOOK', 'a URL').required(),
          ws: envVar.url('WS', 'a URL', { protocols: ['ws'] }).required(),
          level: envVar.oneOf('LEVEL', 'a level', ['info', 'debug']).required(),
          file: envVar.file('CA', 'a file').required(),
        },
        {
          COUNT: '1.5',
          BIG: '11',
          HTTP_PORT: 'abc',
          ZERO_PORT: '0',
          K8S: 'maybe',
          HOST: 'not a host',
          CIDR: '10.0.0.0/33',
          CIDRS: '127.0.1.0/24,nonsense',
          TARGET: '127.0.0.1',
          HOOK: 'ftp://127.0.0.1/x',
          WS: 'http://127.0.0.1/',
          LEVEL: 'loud',
          CA: join(dir, 'missing.pem'),
        },
      ),
    );
    expect(lines).toEqual([
      'COUNT=1.5 is not an integer (1-10)',
      'BIG=11 is not an integer in range (1-10)',
      'HTTP_PORT=abc is not a port (1-65535)',
      'ZERO_PORT=0 is not a port (1-65535)',
      'K8S=maybe is not a boolean (1/true/yes or 0/false/no)',
      'HOST="not a host" is not a host name or IP address',
      'CIDR=10.0.0.0/33 is not a CIDR network (e.g. 10.0.0.0/8)',
      'CIDRS=127.0.1.0/24,nonsense is not a comma-separated list of CIDR networks: item 2 is not a CIDR network (e.g. 10.0.0.0/8)',
      'TARGET=127.0.0.1 is not host:port (port missing)',
      'HOOK=ftp://127.0.0.1/x is not a URL (http or https)',
      'WS=http://127.0.0.1/ is not a URL (ws)',
      'LEVEL=loud is not one of info, debug',
      `CA=${join(dir, 'missing.pem')} is not a readable file (ENOENT)`,
    ]);
  });
});

describe('loadConfig', () => {
  const schema = {
    mysql: {
      host: envVar.string('JAMBONES_MYSQL_HOST', 'MySQL host name or address').required(),
      port: envVar.port('JAMBONES_MYSQL_PORT', 'MySQL port').default(3306),
    },
    httpPort: envVar.port('HTTP_PORT', 'port of /livez').default(3000),
    tag: envVar.string('TAG', 'a tag').optional(),
    secret: envVar.secret('DRACHTIO_SECRET', 'shared secret').required(),
  };

  it('applies defaults, keeps nesting and leaves optional variables undefined', () => {
    const config = loadConfig(schema, { JAMBONES_MYSQL_HOST: '127.0.0.1', DRACHTIO_SECRET: 'cymru' });
    expect(config).toEqual({
      mysql: { host: '127.0.0.1', port: 3306 },
      httpPort: 3000,
      tag: undefined,
      secret: 'cymru',
    });
  });

  it('treats an empty value as unset, as jambonz does', () => {
    const config = loadConfig(schema, {
      JAMBONES_MYSQL_HOST: 'db',
      JAMBONES_MYSQL_PORT: '',
      DRACHTIO_SECRET: 'x',
    });
    expect(config.mysql.port).toBe(3306);
    expect(problemsOf(() => loadConfig(schema, { JAMBONES_MYSQL_HOST: '', DRACHTIO_SECRET: 'x' }))).toEqual([
      'JAMBONES_MYSQL_HOST is required (MySQL host name or address)',
    ]);
  });

  it('collects every problem, one line per variable, in schema order', () => {
    let error: unknown;
    try {
      loadConfig(schema, { HTTP_PORT: 'abc' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.message).toBe(
      [
        'JAMBONES_MYSQL_HOST is required (MySQL host name or address)',
        'HTTP_PORT=abc is not a port (1-65535)',
        'DRACHTIO_SECRET is required (shared secret)',
      ].join('\n'),
    );
    expect(configError.problems.map((p) => p.variable)).toEqual([
      'JAMBONES_MYSQL_HOST',
      'HTTP_PORT',
      'DRACHTIO_SECRET',
    ]);
  });

  it('never echoes the value of a secret', () => {
    const lines = problemsOf(() =>
      loadConfig(
        {
          password: envVar
            .secret('JAMBONES_MYSQL_PASSWORD', 'MySQL password')
            .check((v) => v.length >= 8, 'must be at least 8 characters')
            .required(),
          port: envVar.port('SECRET_PORT', 'a port').secret().required(),
        },
        { JAMBONES_MYSQL_PASSWORD: 'hunter2', SECRET_PORT: 'hunter3' },
      ),
    );
    expect(lines).toEqual([
      'JAMBONES_MYSQL_PASSWORD must be at least 8 characters',
      'SECRET_PORT is not a port (1-65535)',
    ]);
    expect(lines.join('\n')).not.toMatch(/hunter/);
  });

  it('runs custom checks after parsing, in order', () => {
    const part = envVar
      .int('EXPIRES_INTERVAL', 'registration expiry (ms)')
      .check((v) => v > 0, 'must be positive')
      .check((v) => v % 1000 === 0, 'must be whole seconds')
      .required();
    expect(loadConfig({ v: part }, { EXPIRES_INTERVAL: '60000' })).toEqual({ v: 60000 });
    expect(problemsOf(() => loadConfig({ v: part }, { EXPIRES_INTERVAL: '-5' }))).toEqual([
      'EXPIRES_INTERVAL=-5 must be positive',
    ]);
    expect(problemsOf(() => loadConfig({ v: part }, { EXPIRES_INTERVAL: '1500' }))).toEqual([
      'EXPIRES_INTERVAL=1500 must be whole seconds',
    ]);
  });

  it('quotes and shortens odd values in messages', () => {
    const lines = problemsOf(() =>
      loadConfig(
        { a: envVar.port('A', 'a port').required(), b: envVar.port('B', 'a port').required() },
        { A: 'x y', B: '9'.repeat(100) },
      ),
    );
    expect(lines).toEqual([
      'A="x y" is not a port (1-65535)',
      `B=${'9'.repeat(57)}... is not a port (1-65535)`,
    ]);
  });

  it('lets groups add rules that span variables', () => {
    const range = group(
      {
        min: envVar.int('RTP_MIN', 'lowest RTP port').default(40000),
        max: envVar.int('RTP_MAX', 'highest RTP port').default(60000),
      },
      ({ min, max }, context) => {
        if (min >= max) context.problem('RTP_MAX', `RTP_MAX must be above RTP_MIN (${min})`);
        return { min, max, size: max - min };
      },
    );
    expect(loadConfig({ rtp: range }, {})).toEqual({ rtp: { min: 40000, max: 60000, size: 20000 } });
    expect(problemsOf(() => loadConfig({ rtp: range }, { RTP_MIN: '50000', RTP_MAX: '100' }))).toEqual([
      'RTP_MAX must be above RTP_MIN (50000)',
    ]);
    // The rule runs only once its variables parsed: no second line about the same variables.
    expect(problemsOf(() => loadConfig({ rtp: range }, { RTP_MIN: 'x', RTP_MAX: '100' }))).toEqual([
      'RTP_MIN=x is not an integer',
    ]);
  });

  it('lists the variables a schema reads, once each', () => {
    expect(configVariables(schema)).toEqual([
      {
        name: 'JAMBONES_MYSQL_HOST',
        description: 'MySQL host name or address',
        required: true,
        default: undefined,
        secret: false,
      },
      {
        name: 'JAMBONES_MYSQL_PORT',
        description: 'MySQL port',
        required: false,
        default: '3306',
        secret: false,
      },
      { name: 'HTTP_PORT', description: 'port of /livez', required: false, default: '3000', secret: false },
      { name: 'TAG', description: 'a tag', required: false, default: undefined, secret: false },
      {
        name: 'DRACHTIO_SECRET',
        description: 'shared secret',
        required: true,
        default: undefined,
        secret: true,
      },
    ]);
  });
});
