import { describe, expect, it } from 'vitest';
import { ConfigError, exitOnConfigError, type ExitTarget } from '../src/index.js';
import { runFixture } from './helpers/child.js';

describe('exitOnConfigError in a real app process', () => {
  it('prints one line per bad variable on stderr and exits 1', async () => {
    const run = runFixture('config-app.mjs', {
      DRACHTIO_PORT: 'abc',
      JAMBONES_MYSQL_HOST: '127.0.0.1',
      JAMBONES_MYSQL_PASSWORD: 'do-not-print-me',
      JAMBONES_REDIS_HOST: '127.0.0.1',
      JAMBONES_LOGLEVEL: 'chatty',
    });
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.stdout()).toBe('');
    expect(run.stderr()).toBe(
      [
        'DRACHTIO_PORT=abc is not a port (1-65535)',
        'DRACHTIO_SECRET is required (shared secret of the SIP engine control connection)',
        'JAMBONES_MYSQL_USER is required (MySQL user name)',
        'JAMBONES_MYSQL_DATABASE is required (MySQL database name)',
        'JAMBONES_LOGLEVEL=chatty is not one of fatal, error, warn, info, debug, trace, silent',
        '',
      ].join('\n'),
    );
    expect(run.stderr()).not.toContain('do-not-print-me');
  });

  it('starts normally when the environment is complete', async () => {
    const run = runFixture('config-app.mjs', {
      DRACHTIO_SECRET: 'cymru',
      JAMBONES_MYSQL_HOST: '127.0.0.1',
      JAMBONES_MYSQL_USER: 'jambones',
      JAMBONES_MYSQL_PASSWORD: 'pw',
      JAMBONES_MYSQL_DATABASE: 'jambones',
      JAMBONES_REDIS_HOST: '127.0.0.1',
    });
    const { code } = await run.exited;
    expect({ code, stderr: run.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout())).toEqual({
      drachtio: { mode: 'listen', port: 9022, secret: 'cymru' },
      mysql: {
        host: '127.0.0.1',
        port: 3306,
        user: 'jambones',
        password: 'pw',
        database: 'jambones',
        connectionLimit: 10,
      },
      redis: { host: '127.0.0.1', port: 6379 },
      logLevel: 'info',
    });
  });
});

describe('exitOnConfigError with an injected target', () => {
  function target(): ExitTarget & { written: string[]; codes: number[] } {
    const written: string[] = [];
    const codes: number[] = [];
    return {
      written,
      codes,
      stderr: { write: (text: string) => written.push(text) },
      exit: (code) => void codes.push(code),
    };
  }

  it('returns the config when loading succeeds', () => {
    const t = target();
    expect(exitOnConfigError(() => ({ port: 1 }), t)).toEqual({ port: 1 });
    expect(t.codes).toEqual([]);
  });

  it('rethrows errors that are not configuration problems', () => {
    const t = target();
    expect(() =>
      exitOnConfigError(() => {
        throw new RangeError('bug');
      }, t),
    ).toThrow(RangeError);
    expect(t.codes).toEqual([]);
  });

  it('writes the lines and exits 1 on a ConfigError', () => {
    const t = target();
    const error = new ConfigError([{ variable: 'A', message: 'A is required (a)' }]);
    expect(() =>
      exitOnConfigError(() => {
        throw error;
      }, t),
    ).toThrow(error);
    expect(t.written).toEqual(['A is required (a)\n']);
    expect(t.codes).toEqual([1]);
  });
});
