import { createSocket, type Socket } from 'node:dgram';
import { startEngine, type EngineService } from '@sbc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDrachtio,
  createLogger,
  createSrf,
  sendRequest,
  type EngineInfo,
  type Srf,
} from '../src/index.js';

/** A UDP peer on loopback that answers OPTIONS with `status`, or swallows them (null). */
async function peer(status: number | null): Promise<{ socket: Socket; uri: string }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.2', resolve));
  socket.on('message', (msg, from) => {
    if (status === null) return;
    const lines = msg.toString().split('\r\n');
    const keep = lines.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
    const answer = [`SIP/2.0 ${status} Answer`, ...keep, 'Content-Length: 0', '', ''].join('\r\n');
    socket.send(answer, from.port, from.address);
  });
  return { socket, uri: `sip:127.0.0.2:${socket.address().port}` };
}

let engine: EngineService;
let srf: Srf;
let close: () => Promise<void>;
let reported: EngineInfo[] = [];

beforeAll(async () => {
  engine = await startEngine({ loglevel: 'warning' });
  srf = createSrf();
  const connection = connectDrachtio(
    srf,
    { mode: 'dial', host: engine.host, port: engine.port, secret: engine.secret },
    createLogger({ level: 'silent', name: 'send-request-test' }),
  );
  connection.onEngine((info) => reported.push(info));
  await connection.connected(5000);
  close = () => connection.close();
});

afterAll(async () => {
  await close();
  await engine.stop();
});

it('the connection reports the engine’s parsed addresses through onEngine', () => {
  expect(reported).toHaveLength(1);
  const udp = engine.sip.find((s) => s.protocol === 'udp')!;
  expect(reported[0]?.hostports).toContainEqual({ protocol: 'udp', host: udp.host, port: udp.port });
  reported = [];
});

describe('sendRequest', () => {
  it('resolves with the final response', async () => {
    const { socket, uri } = await peer(486);
    const outcome = await sendRequest(srf, uri, { method: 'OPTIONS' }, { timeoutMs: 5000 });
    socket.close();
    expect(outcome.kind).toBe('response');
    if (outcome.kind === 'response') expect(outcome.res.status).toBe(486);
  });

  it('gives up after timeoutMs when nobody answers', async () => {
    const { socket, uri } = await peer(null);
    const started = Date.now();
    const outcome = await sendRequest(srf, uri, { method: 'OPTIONS' }, { timeoutMs: 300 });
    socket.close();
    expect(outcome).toEqual({ kind: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('ends at once when its signal aborts', async () => {
    const { socket, uri } = await peer(null);
    const abort = new AbortController();
    const pending = sendRequest(srf, uri, { method: 'OPTIONS' }, { timeoutMs: 10_000, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    expect(await pending).toEqual({ kind: 'aborted' });
    socket.close();
  });

  it('reports a request srf cannot send', async () => {
    const outcome = await sendRequest(srf, 'not a uri', { method: 'OPTIONS' }, { timeoutMs: 2000 });
    expect(['error', 'timeout']).toContain(outcome.kind);
  });
});
