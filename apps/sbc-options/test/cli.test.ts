import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, type Redis } from '@sbc/redis';
import { freePort, startRedis, type EngineService, type RedisService } from '@sbc/testkit';
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
    expect(active.stdout).toBe(`Available feature servers:\n  - ${member(fs5)}\n  - ${member(fs6)}\n`);
    const list = await cli('fs', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${member(fs5)}\\s+active\\n`));
    expect(list.stdout).toMatch(new RegExp(`${member(fs6)}\\s+active\\n`));
  });

  it('fs drain <ip> drains by bare IP (jambonz format) and takes the server out at once', async () => {
    const drain = await cli('fs', 'drain', fs5.ip);
    expect(drain).toEqual({ code: 0, stdout: `✓ Drained ${fs5.ip}\nDrained: [${fs5.ip}]\n`, stderr: '' });
    expect(await client.smembers(`${CLUSTER}:drained-fs`)).toEqual([fs5.ip]);
    expect(await client.smembers(`${CLUSTER}:active-fs`)).toEqual([member(fs6)]);
    expect((await cli('fs', 'active')).stdout).toBe(`Available feature servers:\n  - ${member(fs6)}\n`);
    expect((await cli('fs', 'drained')).stdout).toBe(`Drained servers:\n  - ${fs5.ip}\n`);
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
    expect(undrain).toEqual({ code: 0, stdout: `✓ Undrained ${fs5.ip}\nDrained: []\n`, stderr: '' });
    expect((await client.smembers(`${CLUSTER}:active-fs`)).sort()).toEqual([member(fs5), member(fs6)]);
    expect((await cli('fs', 'drained')).stdout).toBe('No servers drained\n');
  });

  it('drains by ip:port too, and shows a drained entry nobody pings as drained', async () => {
    const byHostPort = await cli('fs', 'drain', member(fs6));
    expect(byHostPort.code).toBe(0);
    const ghost = await cli('fs', 'drain', '127.0.1.7');
    expect(ghost.code).toBe(0);
    const { members } = await fsPing(engine.sipTarget, fs6, 'open');
    expect(members).toBe(1);
    const list = await cli('fs', 'list');
    expect(list.stdout).toMatch(new RegExp(`${member(fs5)}\\s+active\\n`));
    expect(list.stdout).toMatch(new RegExp(`${member(fs6)}\\s+drained-and-still-pinging\\n`));
    expect(list.stdout).toMatch(/127\.0\.1\.7\s+drained\n/);
    expect((await cli('fs', 'active')).stdout).toBe(`Available feature servers:\n  - ${member(fs5)}\n`);
    await cli('fs', 'undrain', member(fs6));
    await cli('fs', 'undrain', '127.0.1.7');
    expect((await cli('fs', 'drained')).stdout).toBe('No servers drained\n');
  });

  it('works from the repository root as `npm run cli` runs it (node apps/sbc-options/dist/cli.js)', async () => {
    const drain = await runCli(['fs', 'drain', fs6.ip], cliEnv, { fromRoot: true });
    expect(drain).toEqual({ code: 0, stdout: `✓ Drained ${fs6.ip}\nDrained: [${fs6.ip}]\n`, stderr: '' });
    const undrain = await runCli(['fs', 'undrain', fs6.ip], cliEnv, { fromRoot: true });
    expect(undrain.code).toBe(0);
    expect(await client.smembers(`${CLUSTER}:drained-fs`)).toEqual([]);
  });
});

describe('bad input: one line on stderr, exit status 1', () => {
  it.each([
    [['fs', 'drain', 'not-an-ip'], 'Error: Invalid IP address: not-an-ip\n'],
    [['fs', 'drain', '999.1.1.1'], 'Error: Invalid IP address: 999.1.1.1\n'],
    [['fs', 'drain', '127.0.1.5:70000'], 'Error: Invalid IP address: 127.0.1.5:70000\n'],
    [['fs', 'drain'], 'Error: drain requires a server IP address\n'],
    [['fs', 'frobnicate'], 'Error: Unknown command: fs frobnicate\n'],
    [['reboot'], 'Error: Unknown command: reboot\n'],
  ])('%j', async (args, stderr) => {
    expect(await cli(...args)).toEqual({ code: 1, stdout: '', stderr });
  });

  it('prints the usage with no arguments', async () => {
    const help = await cli();
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('SBC Runtime CLI');
    expect(help.stdout).toContain('fs drain <ip|ip:port>');
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
      new RegExp(`^Error: cannot reach sbc-options at ${app.socketPath} \\(ENOENT\\)`),
    );
  });
});
