/**
 * sbc-inbound as operators run it: `node dist/index.js` configured by the environment. Its HTTP
 * endpoints (ours and jambonz's), system_information applied at run time, and SIGTERM: the SBC
 * leaves active-sip, refuses new calls with 503, and exits once its last call has ended.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSystemInformation } from '@sbc/db';
import { DaemonExitedError, freeTcpPort, SipPhone, startDaemon, waitUntil, type Daemon } from '@sbc/testkit';
import {
  featureServerUp,
  placeCall,
  stackEnv,
  startFeatureServer,
  startInboundStack,
  type InboundStack,
} from './support/inbound.js';

const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let stack: InboundStack;
let app: Daemon;
let http: string;

beforeAll(async () => {
  stack = await startInboundStack();
  const port = await freeTcpPort('127.0.0.1');
  http = `http://127.0.0.1:${port}`;
  app = startDaemon({
    name: 'sbc-inbound',
    command: process.execPath,
    args: [ENTRY],
    env: {
      ...process.env,
      ...stackEnv(stack),
      HTTP_PORT: String(port),
      JAMBONES_LOGLEVEL: 'info',
      SBC_SYSTEM_INFO_INTERVAL_MS: '1000',
      SBC_DRAIN_GRACE_SECONDS: '20',
    },
  });
  await waitUntil(async () => (await fetch(`${http}/readyz`).catch(() => undefined))?.status === 200, {
    what: 'sbc-inbound /readyz',
    abort: app.exited,
    timeoutMs: 15_000,
  });
});
afterAll(async () => {
  await app?.stop();
  await stack?.stop();
});

describe('sbc-inbound as a process', () => {
  it('answers jambonz’s GET / and GET /system-health with the call count, and /metrics', async () => {
    expect(await (await fetch(`${http}/`)).json()).toEqual({ calls: 0 });
    const health = await fetch(`${http}/system-health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ calls: 0 });
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toMatch(/sbc_calls_in_progress\{app="sbc-inbound"\} 0/);
    // The SIP engine's private address joined <cluster>:active-sip.
    expect((await stack.sets.members('active-sip')).length).toBe(1);
  });

  it('applies system_information at run time (log level)', async () => {
    await seedSystemInformation(stack.db, { log_level: 'debug' });
    await waitUntil(() => Promise.resolve(app.output().includes('log level from system_information')), {
      what: 'the log level change',
      timeoutMs: 5000,
    });
  });

  it('on SIGTERM leaves active-sip, refuses new calls with 503, and exits when the last call ends', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 20_000 });
    await featureServerUp(stack, fs.hostport);
    const call = placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 2500 });
    await waitUntil(async () => ((await (await fetch(`${http}/`)).json()) as { calls: number }).calls === 1, {
      what: 'the call to be up',
    });

    process.kill(app.pid, 'SIGTERM');
    await waitUntil(async () => (await stack.sets.members('active-sip')).length === 0, {
      what: 'leaving active-sip',
    });
    const phone = await SipPhone.open('127.0.38.20', stack.engine.sipTarget);
    try {
      const res = await phone.send(
        [
          'INVITE sip:+16173333456@jambonz.org SIP/2.0',
          `Via: SIP/2.0/UDP ${phone.address}:${phone.port};branch=z9hG4bKdrain1;rport`,
          'Max-Forwards: 70',
          `From: <sip:15085551212@${phone.address}>;tag=drain1`,
          'To: <sip:+16173333456@jambonz.org>',
          'Call-ID: drain-1@127.0.38.20',
          'CSeq: 1 INVITE',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      expect(res.status).toBe(503);
      expect(res.header('Retry-After')).toBe('30');
    } finally {
      phone.close();
    }

    // The call in progress is not cut: it ends when the caller hangs up, then the process exits 0.
    expect((await call).ok).toBe(true);
    const exit = await app.exited.catch((err: unknown) => err);
    expect(exit).toBeInstanceOf(DaemonExitedError);
    expect((exit as DaemonExitedError).code).toBe(0);
    expect(app.output()).toMatch(/draining: leaving active-sip, refusing new calls/);
  });
});
