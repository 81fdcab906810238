import { createSocket, type Socket } from 'node:dgram';
import { existsSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runSipp, scenarioPath, startSipp } from '../src/index.js';

/** A minimal UDP SIP responder: answers every request with `status`, copying the RFC 3261 §8.2.6.2 headers. */
async function startResponder(status: number | null, host = '127.0.0.2') {
  const socket: Socket = createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const text = msg.toString();
    received.push(text);
    if (status === null) return;
    const lines = text.split('\r\n');
    const copy = lines.filter((l) => /^(via|from|call-id|cseq|v|f|i):/i.test(l));
    const to = lines.find((l) => /^(to|t):/i.test(l)) ?? 'To: <sip:unknown>';
    const reason = status === 200 ? 'OK' : 'Service Unavailable';
    const response = [
      `SIP/2.0 ${status} ${reason}`,
      ...copy,
      `${to};tag=responder`,
      'Content-Length: 0',
      '',
      '',
    ];
    socket.send(response.join('\r\n'), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  return {
    target: `${host}:${port}`,
    received,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

describe('runSipp', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('counts successful OPTIONS round trips against a UDP responder', async () => {
    const responder = await startResponder(200);
    cleanups.push(responder.close);
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: responder.target,
      localAddress: '127.0.0.3',
      count: 5,
      rate: 50,
      traceRtt: true,
    });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(result.successfulCalls).toBe(5);
    expect(result.failedCalls).toBe(0);
    expect(result.retransmissions).toBe(0);
    expect(responder.received).toHaveLength(5);
    expect(responder.received[0]).toMatch(/^OPTIONS sip:127\.0\.0\.2:\d+ SIP\/2\.0/);
    expect(result.responseTimes['1']).toHaveLength(5);
    expect(existsSync(result.logDir)).toBe(false);
  });

  it('reports a failed call and keeps the messages for the failing test', async () => {
    const responder = await startResponder(503);
    cleanups.push(responder.close);
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: responder.target,
      localAddress: '127.0.0.3',
      timeoutMs: 5000,
    });
    cleanups.push(() => rmSync(result.logDir, { recursive: true, force: true }));
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.failedCalls).toBe(1);
    expect(result.messages).toContain('SIP/2.0 503 Service Unavailable');
    expect(result.describe()).toContain('1 failed');
    expect(existsSync(result.logDir)).toBe(true);
  });

  it('fails by its timeout when nobody answers', async () => {
    const responder = await startResponder(null);
    cleanups.push(responder.close);
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: responder.target,
      localAddress: '127.0.0.3',
      timeoutMs: 2000,
    });
    cleanups.push(() => rmSync(result.logDir, { recursive: true, force: true }));
    expect(result.ok).toBe(false);
    expect(result.successfulCalls).toBe(0);
    expect(responder.received.length).toBeGreaterThan(1); // sipp retransmitted
  });

  it('runs a UAS that a UAC calls, then stops it', async () => {
    const uas = await startSipp({
      scenario: scenarioPath('options-uas'),
      localAddress: '127.0.0.4',
      count: 2,
    });
    const uac = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: `127.0.0.4:${uas.localPort}`,
      localAddress: '127.0.0.3',
      count: 2,
    });
    expect(uac.ok, uac.describe()).toBe(true);
    const served = await uas.done;
    expect(served.ok, served.describe()).toBe(true);
    expect(served.successfulCalls).toBe(2);
  });
});
