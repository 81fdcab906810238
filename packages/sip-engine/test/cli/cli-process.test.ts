import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  freeTcpPort,
  runSipp,
  scenarioPath,
  startDaemon,
  waitUntil,
  type Daemon,
} from '@sbc/testkit';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('sbc-sip-engine CLI', () => {
  it('prints its usage, and refuses a bad flag with exit 2 and the reason', () => {
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--contact URI');
    const bad = spawnSync(process.execPath, [cli, '--contact', 'nonsense'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--contact nonsense: expected sip:host/);
  });

  describe('running with no app connected', () => {
    let engine: Daemon;
    let sipPort: number;
    let metricsPort: number;
    beforeAll(async () => {
      sipPort = await freePort();
      metricsPort = await freeTcpPort();
      const controlPort = await freeTcpPort();
      engine = startDaemon({
        name: 'sbc-sip-engine',
        command: process.execPath,
        args: [
          cli,
          '--contact',
          `sip:127.0.0.1:${sipPort};transport=udp,tcp`,
          '--address',
          '127.0.0.1',
          '--port',
          String(controlPort),
          '--user-agent-options-auto-respond',
          'health-check',
          '--prometheus-scrape-port',
          `127.0.0.1:${metricsPort}`,
        ],
      });
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).ok, {
        what: 'the engine metrics endpoint',
        abort: engine.exited,
      });
    });
    afterAll(async () => {
      await engine?.stop();
    });

    it('answers OPTIONS 503 without an app, and 200 to the configured User-Agent', async () => {
      const refused = await runSipp({
        scenario: scenarioPath('options-uac'),
        target: `127.0.0.1:${sipPort}`,
        localAddress: '127.0.0.3',
        timeoutMs: 3000,
      });
      expect(refused.ok).toBe(false);
      expect(refused.messages).toMatch(/SIP\/2\.0 503 Service Unavailable/);
      const monitor = await runSipp({
        scenario: fileURLToPath(new URL('./scenarios/options-uac-user-agent.xml', import.meta.url)),
        target: `127.0.0.1:${sipPort}`,
        localAddress: '127.0.0.3',
        count: 2,
      });
      expect(monitor.ok, monitor.describe()).toBe(true);
    });

    it('counts messages and refusals in Prometheus format', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(text).toMatch(
        /sbc_sip_engine_messages_received_total\{kind="request",method="OPTIONS",status=""\} [1-9]/,
      );
      expect(text).toMatch(
        /sbc_sip_engine_messages_sent_total\{kind="response",method="OPTIONS",status="503"\} [1-9]/,
      );
      expect(text).toMatch(/sbc_sip_engine_requests_without_app_total\{method="OPTIONS",status="200"\} 2/);
      expect(text).toContain('sbc_sip_engine_app_connections 0');
    });

    it('stops on SIGTERM', async () => {
      const child = spawn(
        process.execPath,
        [
          cli,
          '--contact',
          `sip:127.0.0.1:${await freePort()};transport=udp`,
          '--address',
          '127.0.0.1',
          '--port',
          String(await freeTcpPort()),
        ],
        { stdio: 'pipe' },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      await waitUntil(() => Promise.resolve(out.includes('control channel listening')), {
        what: 'engine start',
      });
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
    });
  });
});
