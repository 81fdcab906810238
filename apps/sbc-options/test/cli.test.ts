import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRedisClient, type Redis } from '@sbc/redis';
import { freePort, startRedis, waitUntil, type EngineService, type RedisService } from '@sbc/testkit';
import {
  engineEnv,
  fsPing,
  redisEnv,
  runCli,
  spawnApp,
  startTestMysql,
  withEngine,
  type AppProcess,
  type TestMysql,
} from './helpers.js';

/**
 * The drain CLI: the real binary (`node dist/cli.js`, what `npm run cli` runs) against a running
 * `node dist/index.js`, with sipp feature servers on 127.0.1.5 and 127.0.1.6.
 */
const CLUSTER = 'cli';
let redis: RedisService;
let mysql: TestMysql;
let engine: EngineService;
let client: Redis;
let app: AppProcess;
let cliEnv: Record<string, string>;
const fs5 = { ip: '127.0.1.5', port: 0 };
const fs6 = { ip: '127.0.1.6', port: 0 };
const member = (server: { ip: string; port: number }): string => `${server.ip}:${server.port}`;
const KNOWN =
  'JAMBONES_LOGLEVEL, EXPIRES_INTERVAL, CHECK_EXPIRES_INTERVAL, SEND_OPTIONS_PING_INTERVAL, OPTIONS_PING_TTL, OPTIONS_RESPONSE_REMOVE';

beforeAll(async () => {
  [redis, mysql, engine] = await Promise.all([startRedis(), startTestMysql(), withEngine()]);
  for (const server of [fs5, fs6]) server.port = await freePort(server.ip);
  client = createRedisClient({ host: redis.host, port: redis.port });
  app = await spawnApp({
    ...engineEnv(engine),
    ...redisEnv(redis),
    ...mysql.env,
    JAMBONES_CLUSTER_ID: CLUSTER,
    JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
    JAMBONES_LOGLEVEL: 'info',
  });
  cliEnv = { SBC_SOCKET_PATH: app.socketPath };
  for (const server of [fs5, fs6]) {
    const { result, members } = await fsPing(engine.sipTarget, server, 'open');
    expect(result.ok, result.describe()).toBe(true);
    expect(members).toBeGreaterThan(0);
  }
});

afterAll(async () => {
  await app?.stop();
  client?.disconnect();
  await engine?.stop();
  await Promise.all([redis?.stop(), mysql?.stop()]);
});

const cli = (...args: string[]) => runCli(args, cliEnv);

describe('drain and undrain through the CLI', () => {
  it('serves the CLI on SBC_SOCKET_PATH, mode 0600', () => {
    expect(statSync(app.socketPath).isSocket()).toBe(true);
    expect(statSync(app.socketPath).mode & 0o777).toBe(0o600);
  });

  it('fs active and fs list show both feature servers as active', async () => {
    const active = await cli('fs', 'active');
    expect(active).toMatchObject({ code: 0, stderr: '' });
    expect(active.stdout).toBe(`Available feature servers:\n  🟢 ${member(fs5)}\n  🟢 ${member(fs6)}\n`);
    const list = await cli('fs', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      `Feature servers:\n  🟢 ${member(fs5)} (active)\n  🟢 ${member(fs6)} (active)\n`,
    );
  });

  it('fs drain <ip> drains by bare IP (jambonz format) and takes the server out at once', async () => {
    const drain = await cli('fs', 'drain', fs5.ip);
    expect(drain).toEqual({
      code: 0,
      stdout: `✓ Drained ${fs5.ip}\nDrained servers: [${fs5.ip}]\n`,
      stderr: '',
    });
    expect(await client.smembers(`${CLUSTER}:drained-fs`)).toEqual([fs5.ip]);
    expect(await client.smembers(`${CLUSTER}:active-fs`)).toEqual([member(fs6)]);
    expect((await cli('fs', 'active')).stdout).toBe(`Available feature servers:\n  🟢 ${member(fs6)}\n`);
    expect((await cli('fs', 'drained')).stdout).toBe(`Drained servers:\n  🔴 ${fs5.ip}\n`);
  });

  it('keeps the drained server out while it pings open, and lists it as drained-and-still-pinging', async () => {
    const { result, members } = await fsPing(engine.sipTarget, fs5, 'open');
    expect(result.ok, result.describe()).toBe(true);
    expect(members).toBe(1);
    const list = await cli('fs', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({
      success: true,
      drained: [fs5.ip],
      servers: [
        { server: member(fs5), status: 'drained-and-still-pinging' },
        { server: member(fs6), status: 'active' },
      ],
    });
  });

  it('fs undrain puts a server that still pings back at once', async () => {
    const undrain = await cli('fs', 'undrain', fs5.ip);
    expect(undrain).toEqual({ code: 0, stdout: `✓ Undrained ${fs5.ip}\nDrained servers: []\n`, stderr: '' });
    expect((await client.smembers(`${CLUSTER}:active-fs`)).sort()).toEqual([member(fs5), member(fs6)]);
    expect((await cli('fs', 'drained')).stdout).toBe('No servers are currently drained\n');
  });

  it('drains by ip:port too, and shows a drained entry nobody pings as drained', async () => {
    const byHostPort = await cli('fs', 'drain', member(fs6));
    expect(byHostPort.code).toBe(0);
    const ghost = await cli('fs', 'drain', '127.0.1.7');
    expect(ghost.code).toBe(0);
    const { members } = await fsPing(engine.sipTarget, fs6, 'open');
    expect(members).toBe(1);
    const list = await cli('fs', 'list');
    expect(list.stdout).toContain(`  🟢 ${member(fs5)} (active)\n`);
    expect(list.stdout).toContain(`  🔴 ${member(fs6)} (drained-and-still-pinging)\n`);
    expect(list.stdout).toContain('  🔴 127.0.1.7 (drained)\n');
    expect((await cli('fs', 'active')).stdout).toBe(`Available feature servers:\n  🟢 ${member(fs5)}\n`);
    await cli('fs', 'undrain', member(fs6));
    await cli('fs', 'undrain', '127.0.1.7');
    expect((await cli('fs', 'drained')).stdout).toBe('No servers are currently drained\n');
  });

  it('works from the repository root as `npm run cli` runs it (node apps/sbc-options/dist/cli.js)', async () => {
    const drain = await runCli(['fs', 'drain', fs6.ip], cliEnv, { fromRoot: true });
    expect(drain).toEqual({
      code: 0,
      stdout: `✓ Drained ${fs6.ip}\nDrained servers: [${fs6.ip}]\n`,
      stderr: '',
    });
    const undrain = await runCli(['fs', 'undrain', fs6.ip], cliEnv, { fromRoot: true });
    expect(undrain.code).toBe(0);
    expect(await client.smembers(`${CLUSTER}:drained-fs`)).toEqual([]);
  });
});

describe('jambonz sbc-sip-sidecar cli-tests.js, with loopback addresses', () => {
  // jambonz seeds bare IPs into active-fs and drains one of them.
  const seeded = ['127.0.9.10', '127.0.9.11', '127.0.9.12'];
  beforeAll(async () => {
    await client.sadd(`${CLUSTER}:active-fs`, ...seeded);
    await client.sadd(`${CLUSTER}:drained-fs`, '127.0.9.11');
  });
  afterAll(async () => {
    await client.srem(`${CLUSTER}:active-fs`, ...seeded);
    await client.srem(`${CLUSTER}:drained-fs`, ...seeded);
    await client.hdel(`${CLUSTER}:drained-fs:pinging`, ...seeded);
  });

  it('help, fs active, fs drained, fs drain, fs undrain, fs list', async () => {
    expect((await cli()).stdout).toContain('SBC Runtime CLI');
    const active = (await cli('fs', 'active')).stdout;
    expect(active).toContain('Available feature servers');
    expect(active).toContain('127.0.9.10');
    expect(active).not.toContain('127.0.9.11');
    expect((await cli('fs', 'drained')).stdout).toContain('127.0.9.11');
    expect((await cli('fs', 'drain', '127.0.9.10')).stdout).toContain('✓ Drained 127.0.9.10');
    expect((await cli('fs', 'drained')).stdout).toContain('127.0.9.10');
    expect((await cli('fs', 'undrain', '127.0.9.10')).stdout).toContain('✓ Undrained 127.0.9.10');
    const list = (await cli('fs', 'list')).stdout;
    expect(list).toContain('Feature servers');
    expect(list).toContain('127.0.9.10');
  });

  it('errors: Invalid IP, Unknown command, requires server (stderr, exit 1)', async () => {
    const invalid = await cli('fs', 'drain', 'invalid-ip');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('Invalid IP');
    const unknown = await cli('unknown-command');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown command');
    const missing = await cli('fs', 'drain');
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'Error: drain requires server IP address\n' });
  });

  it('set / get / list print `key = "value"` and "Runtime Configuration" (with a key sbc-options knows)', async () => {
    expect((await cli('set', 'JAMBONES_LOGLEVEL', 'debug')).stdout).toBe('✓ JAMBONES_LOGLEVEL = "debug"\n');
    expect((await cli('get', 'JAMBONES_LOGLEVEL')).stdout).toBe('JAMBONES_LOGLEVEL = "debug"\n');
    const list = await cli('list');
    expect(list.stdout).toContain('Runtime Configuration:\n');
    expect(list.stdout).toContain('  JAMBONES_LOGLEVEL = "debug"\n');
    expect(list.stdout).toContain('  EXPIRES_INTERVAL = 60000 (from the environment)\n');
    const unset = await cli('unset', 'JAMBONES_LOGLEVEL');
    expect(unset.stdout).toBe('✓ JAMBONES_LOGLEVEL = "info" (from the environment)\n');
  });
});

describe('runtime configuration: kept in Redis, shared, applied at run time', () => {
  const configKey = `${CLUSTER}:runtime-config`;
  afterAll(async () => {
    await client.del(configKey);
  });

  it('JAMBONES_LOGLEVEL changes the running log level, child loggers included', async () => {
    onTestFinished(() => cli('unset', 'JAMBONES_LOGLEVEL').then(() => undefined));
    const cliDebugLines = (): number =>
      app.logs.filter((l) => l.level === 20 && l.component === 'cli').length;
    const atInfo = cliDebugLines();
    await cli('fs', 'drained');
    await new Promise((r) => setTimeout(r, 300));
    expect(cliDebugLines()).toBe(atInfo);
    await cli('set', 'JAMBONES_LOGLEVEL', 'debug');
    expect(await client.hget(configKey, 'JAMBONES_LOGLEVEL')).toBe('debug');
    await cli('fs', 'drained');
    await waitUntil(() => Promise.resolve(cliDebugLines() > atInfo), {
      what: 'a debug line from the CLI',
      timeoutMs: 3000,
    });
    await cli('set', 'JAMBONES_LOGLEVEL', 'info');
    // The set command's own debug line may still be on its way from the app's log.
    await new Promise((r) => setTimeout(r, 300));
    const atDebug = cliDebugLines();
    await cli('fs', 'drained');
    await new Promise((r) => setTimeout(r, 300));
    expect(cliDebugLines()).toBe(atDebug);
    await cli('unset', 'JAMBONES_LOGLEVEL');
  });

  it('EXPIRES_INTERVAL and CHECK_EXPIRES_INTERVAL change the expiry of feature servers at once', async () => {
    expect((await client.smembers(`${CLUSTER}:active-fs`)).sort()).toEqual([member(fs5), member(fs6)]);
    expect((await cli('set', 'EXPIRES_INTERVAL', '300')).stdout).toBe('✓ EXPIRES_INTERVAL = 300\n');
    expect((await cli('set', 'CHECK_EXPIRES_INTERVAL', '100')).stdout).toBe(
      '✓ CHECK_EXPIRES_INTERVAL = 100\n',
    );
    await waitUntil(async () => (await client.scard(`${CLUSTER}:active-fs`)) === 0, {
      what: 'the silent feature servers to expire',
      timeoutMs: 3000,
    });
    await cli('unset', 'EXPIRES_INTERVAL');
    await cli('unset', 'CHECK_EXPIRES_INTERVAL');
    for (const server of [fs5, fs6]) await fsPing(engine.sipTarget, server, 'open');
    expect(await client.scard(`${CLUSTER}:active-fs`)).toBe(2);
  });

  it('add / remove on a list key; every instance sees the values, a new instance starts with them', async () => {
    expect((await cli('add', 'OPTIONS_RESPONSE_REMOVE', '403')).stdout).toBe(
      '✓ Added 403 to OPTIONS_RESPONSE_REMOVE\nOPTIONS_RESPONSE_REMOVE = [403]\n',
    );
    expect((await cli('add', 'OPTIONS_RESPONSE_REMOVE', '404')).stdout).toBe(
      '✓ Added 404 to OPTIONS_RESPONSE_REMOVE\nOPTIONS_RESPONSE_REMOVE = [403,404]\n',
    );
    expect((await cli('add', 'OPTIONS_RESPONSE_REMOVE', '404')).stdout).toBe(
      '404 is already in OPTIONS_RESPONSE_REMOVE\nOPTIONS_RESPONSE_REMOVE = [403,404]\n',
    );
    await cli('set', 'SEND_OPTIONS_PING_INTERVAL', '15');
    // A second instance on the same Redis (as after a restart) starts with the cluster's values.
    const second = await spawnApp({
      ...engineEnv(engine),
      ...redisEnv(redis),
      ...mysql.env,
      JAMBONES_CLUSTER_ID: CLUSTER,
      JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
    });
    try {
      const other = (...args: string[]) => runCli(args, { SBC_SOCKET_PATH: second.socketPath });
      expect((await other('get', 'OPTIONS_RESPONSE_REMOVE')).stdout).toBe(
        'OPTIONS_RESPONSE_REMOVE = [403,404]\n',
      );
      expect((await other('get', 'SEND_OPTIONS_PING_INTERVAL')).stdout).toBe(
        'SEND_OPTIONS_PING_INTERVAL = 15\n',
      );
      // A change made through it reaches the first instance within the reload interval.
      expect((await other('remove', 'OPTIONS_RESPONSE_REMOVE', '403')).stdout).toBe(
        '✓ Removed 403 from OPTIONS_RESPONSE_REMOVE\nOPTIONS_RESPONSE_REMOVE = [404]\n',
      );
      await waitUntil(
        async () =>
          (await cli('get', 'OPTIONS_RESPONSE_REMOVE')).stdout === 'OPTIONS_RESPONSE_REMOVE = [404]\n',
        { what: 'the first instance to see the change', timeoutMs: 5000, intervalMs: 200 },
      );
    } finally {
      await second.stop();
    }
    await cli('unset', 'OPTIONS_RESPONSE_REMOVE');
    await cli('unset', 'SEND_OPTIONS_PING_INTERVAL');
    expect(await client.hgetall(configKey)).toEqual({});
  });
});

describe('source bans through the CLI (npm run cli ban …)', () => {
  it('ban add / list / remove change the blacklist set every SIP engine reads', async () => {
    const add = await runCli(['ban', 'add', '127.0.0.90', '600'], cliEnv, { fromRoot: true });
    expect(add).toEqual({ code: 0, stdout: '✓ Banned 127.0.0.90 for 600 s\n', stderr: '' });
    expect(await cli('ban', 'add', '127.0.0.91')).toMatchObject({
      code: 0,
      stdout: '✓ Banned 127.0.0.91 until removed\n',
    });
    expect(await client.smembers('blacklist-sip-ips')).toEqual(
      expect.arrayContaining(['127.0.0.90', '127.0.0.91']),
    );
    const ends = Number(await client.zscore('blacklist-sip-ips:expires', '127.0.0.90'));
    expect(ends - Date.now()).toBeGreaterThan(590_000);

    const list = await cli('ban', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      `Banned sources:\n  ⛔ 127.0.0.90 until ${new Date(ends).toISOString()} (manual)\n  ⛔ 127.0.0.91 until removed (manual)\n`,
    );
    const json = await cli('ban', 'list', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      success: true,
      bans: [{ ip: '127.0.0.90', reason: 'manual' }, { ip: '127.0.0.91' }],
    });

    expect(await cli('ban', 'remove', '127.0.0.90')).toMatchObject({
      code: 0,
      stdout: '✓ Ban on 127.0.0.90 lifted\n',
    });
    expect(await cli('ban', 'remove', '127.0.0.90')).toMatchObject({
      code: 0,
      stdout: '127.0.0.90 is not banned\n',
    });
    expect(await cli('ban', 'remove', '127.0.0.91')).toMatchObject({ code: 0 });
    expect(await cli('ban', 'list')).toMatchObject({ code: 0, stdout: 'No banned sources\n' });
    expect(await client.exists('blacklist-sip-ips')).toBe(0);
  });

  it.each([
    [['ban', 'add', 'not-an-ip'], 'Error: Invalid IP address: not-an-ip\n'],
    [['ban', 'add', '127.0.0.92', 'soon'], 'Error: ban add: soon is not a number of seconds\n'],
    [['ban', 'remove'], 'Error: ban remove requires an IP address\n'],
    [['ban', 'drop', '127.0.0.92'], 'Error: Unknown ban command: drop. Use: list, add, remove\n'],
  ])('%j', async (args, stderr) => {
    expect(await cli(...args)).toEqual({ code: 1, stdout: '', stderr });
  });
});

describe('bad input: one line on stderr, exit status 1', () => {
  it.each([
    [['fs', 'drain', 'not-an-ip'], 'Error: Invalid IP address: not-an-ip\n'],
    [['fs', 'drain', '999.1.1.1'], 'Error: Invalid IP address: 999.1.1.1\n'],
    [['fs', 'drain', '127.0.1.5:70000'], 'Error: Invalid IP address: 127.0.1.5:70000\n'],
    [['fs', 'drain'], 'Error: drain requires server IP address\n'],
    [['fs', 'undrain'], 'Error: undrain requires server IP address\n'],
    [['fs'], 'Error: fs command requires an action\n'],
    [
      ['fs', 'frobnicate'],
      'Error: Unknown fs command: frobnicate. Use: drain, undrain, drained, active, list\n',
    ],
    [['unknown-command'], 'Error: Unknown command: unknown-command. Run without arguments for help.\n'],
    [['set', 'EXPIRES_INTERVAL'], 'Error: set requires key and value\n'],
    [['get'], 'Error: get requires key\n'],
    [['set', 'testKey', 'testValue'], `Error: Unknown key: testKey (known keys: ${KNOWN})\n`],
    [['get', 'testKey'], `Error: Unknown key: testKey (known keys: ${KNOWN})\n`],
    [
      ['set', 'EXPIRES_INTERVAL', 'soon'],
      'Error: Invalid value for EXPIRES_INTERVAL: must be a whole number of ms, 10 or more\n',
    ],
    [
      ['set', 'JAMBONES_LOGLEVEL', 'loud'],
      'Error: Invalid value for JAMBONES_LOGLEVEL: must be one of fatal, error, warn, info, debug, trace, silent\n',
    ],
    [
      ['add', 'EXPIRES_INTERVAL', '5'],
      'Error: EXPIRES_INTERVAL is not a list: use set EXPIRES_INTERVAL <value>\n',
    ],
    [
      ['add', 'OPTIONS_RESPONSE_REMOVE', '99'],
      'Error: Invalid item for OPTIONS_RESPONSE_REMOVE: must be a SIP status code (100-699)\n',
    ],
  ])('%j', async (args, stderr) => {
    expect(await cli(...args)).toEqual({ code: 1, stdout: '', stderr });
  });

  it('prints the usage with no arguments', async () => {
    const help = await cli();
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('SBC Runtime CLI');
    expect(help.stdout).toContain('npm run cli fs drain <ip>');
    expect(help.stdout).toContain('npm run cli set <key> <value>');
  });

  it('says the service is not running when the socket is absent (and the app removed it on exit)', async () => {
    const code = await app.stop();
    expect(code).toBe(0);
    expect(existsSync(app.socketPath)).toBe(false);
    const down = await cli('fs', 'list');
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(
      new RegExp(`^Error: Connection failed: no sbc-options at ${app.socketPath} \\(ENOENT\\)`),
    );
  });
});
