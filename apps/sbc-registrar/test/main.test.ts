/**
 * The built program, as deployments run it: `node dist/index.js`, configured by the environment only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAccount, seedClient, seedServiceProvider } from '@sbc/db';
import { freeTcpPort, runSipp, waitUntil } from '@sbc/testkit';
import { CIPHER, PHONE, scenario, stackEnv, startStack, type Stack } from './helpers.js';

const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function run(env: Record<string, string | undefined>): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return Object.assign(child, { output: () => output });
}

describe('configuration errors', () => {
  it('a missing required variable stops the program with one line naming it', async () => {
    const child = run({
      DRACHTIO_HOST: '127.0.0.1',
      JAMBONES_MYSQL_HOST: '127.0.0.1',
      JAMBONES_MYSQL_USER: 'u',
      JAMBONES_MYSQL_PASSWORD: 'p',
      JAMBONES_MYSQL_DATABASE: 'd',
      JAMBONES_REDIS_HOST: '127.0.0.1',
      JWT_SECRET: 'jwt-secret-of-the-cluster',
    });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(child.output()).toBe(
      'DRACHTIO_SECRET is required (shared secret of the SIP engine control connection)\n',
    );
  });
});

describe('running', () => {
  let stack: Stack;
  let child: ReturnType<typeof run>;
  let base: string;

  beforeAll(async () => {
    stack = await startStack();
    const sp = await seedServiceProvider(stack.db);
    const account = await seedAccount(stack.db, {
      service_provider_sid: sp.service_provider_sid,
      sip_realm: 'main.sbc.test',
    });
    await seedClient(
      stack.db,
      { account_sid: account.account_sid, username: 'alice', password: 'alice-pass' },
      CIPHER,
    );
    const httpPort = await freeTcpPort('127.0.0.1');
    base = `http://127.0.0.1:${httpPort}`;
    child = run({
      ...stackEnv(stack), // the app's own MySQL user (jambonz requires a password)
      HTTP_PORT: String(httpPort),
      SBC_DIGEST_ALGORITHMS: 'MD5',
      JAMBONES_LOGLEVEL: 'info',
    });
    await waitUntil(
      async () => {
        const res = await fetch(`${base}/readyz`);
        return res.status === 200;
      },
      { what: `sbc-registrar /readyz (output: ${child.output()})`, timeoutMs: 15_000 },
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await stack?.stop();
  });

  it('answers /livez, /readyz and a softphone-style REGISTER, and exports /metrics', async () => {
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as {
      checks: { name: string; ok: boolean }[];
    };
    expect(ready.checks.map((c) => [c.name, c.ok])).toEqual([
      ['drachtio', true],
      ['mysql', true],
      ['redis', true],
    ]);
    const result = await runSipp({
      scenario: scenario('uac-register-auth'),
      target: stack.engine.sipTarget,
      localAddress: PHONE,
      keys: { expires: 600 },
      users: { rows: [['alice', 'main.sbc.test', '[authentication username=alice password=alice-pass]']] },
    });
    expect(result.ok, result.describe()).toBe(true);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /sbc_registrations_total\{result="registered",reason="client",app="sbc-registrar"\} 1/,
    );
    expect(metrics).toContain('sbc_process_cpu_seconds_total');
    expect(child.output()).toContain('"msg":"registered"');
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  });
});
