import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { freeTcpPort, startEngine, type EngineService } from '@sbc/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DrachtioClosedError,
  DrachtioConnectTimeoutError,
  DrachtioListenError,
  SipErrorClass,
  connectDrachtio,
  createLogger,
  createSrf,
  drachtioReadinessCheck,
  isSipError,
  parseEngineHostports,
  parseSipUri,
  type DrachtioConnection,
  type SrfRequest,
} from '../src/index.js';
import { runFixture } from './helpers/child.js';
import { LogCapture } from './helpers/log-capture.js';

const SECRET = 'cymru';
const FEATURE_SERVER = '127.0.1.5';

/** An OPTIONS ping as a feature server sends it to the SBC (reference §1). */
function optionsPing(target: string, port: number): string {
  return [
    `OPTIONS sip:${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${FEATURE_SERVER}:${port};branch=z9hG4bK-fs-${port};rport`,
    'Max-Forwards: 70',
    `From: <sip:fs@${FEATURE_SERVER}>;tag=fs-tag-1`,
    `To: <sip:${target}>`,
    `Call-ID: options-ping-${port}@${FEATURE_SERVER}`,
    'CSeq: 7 OPTIONS',
    'X-FS-Status: open',
    'X-FS-Calls: 3',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends one OPTIONS from the feature server's address over UDP and resolves with the response text. */
async function ping(engine: EngineService): Promise<{ response: string; port: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, FEATURE_SERVER, resolve));
  const { port } = socket.address();
  const [host, sipPort] = engine.sipTarget.split(':') as [string, string];
  const response = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
  socket.send(optionsPing(engine.sipTarget, port), Number(sipPort), host);
  const text = await response;
  socket.close();
  return { response: text, port };
}

/** What an OPTIONS handler written against the declarations reads from a request. */
function describeRequest(req: SrfRequest) {
  return {
    method: req.method,
    uri: req.uri,
    source: req.source,
    sourceAddress: req.source_address,
    sourcePort: req.source_port,
    protocol: req.protocol,
    receivedOn: req.receivedOn,
    callId: req.get('Call-ID'),
    fromTag: req.getParsedHeader('From').params.tag,
    fromUri: req.getParsedHeader('from').uri,
    viaHost: req.getParsedHeader('Via')[0]?.host,
    cseq: req.getParsedHeader('CSeq'),
    fsStatus: req.get('X-FS-Status'),
    hasCalls: req.has('x-fs-calls'),
    hasContact: req.has('Contact'),
    isNewInvite: req.isNewInvite,
    body: req.body,
    engine: req.server?.hostport,
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(): { capture: LogCapture; logger: ReturnType<typeof createLogger> } {
  const capture = new LogCapture();
  return { capture, logger: createLogger({ level: 'debug', name: 'drachtio-test', destination: capture }) };
}

function track(connection: DrachtioConnection): DrachtioConnection {
  cleanups.push(() => connection.close());
  return connection;
}

/** Our drachtio-compatible SIP engine (or SBC_TEST_DRACHTIO's), stopped after the test. */
async function engineFor(options: Parameters<typeof startEngine>[0] = {}): Promise<EngineService> {
  const engine = await startEngine({ secret: SECRET, loglevel: 'warning', ...options });
  cleanups.push(() => engine.stop());
  return engine;
}

/** `proto/host:port` as the engine wrote it in its authenticate answer. */
function hostportsOf(engine: EngineService): string {
  return engine.sip.map((s) => `${s.protocol}/${s.host}:${s.port}`).join(',');
}

describe('srf itself', () => {
  it('parses SIP URIs with the one strict parser the apps share (not srf’s lenient one)', () => {
    expect(parseSipUri('sip:alice:pw@127.0.0.2:5061;transport=tls;lr')).toEqual({
      scheme: 'sip',
      user: 'alice',
      host: '127.0.0.2',
      port: 5061,
    });
    expect(parseSipUri('tel:+16173333456;phone-context=example.com')).toBeUndefined();
  });

  it('exposes srf’s SipError', () => {
    const err = new SipErrorClass(486, 'Busy Here');
    expect(isSipError(err)).toBe(true);
    expect([err.status, err.reason, err.name]).toEqual([486, 'Busy Here', 'SipError']);
    expect(isSipError(new Error('x'))).toBe(false);
  });

  it('parses the engine’s host:port lists', () => {
    expect(parseEngineHostports('udp/203.0.113.7:5060,tcp/[::1]:5060,garbage')).toEqual([
      { protocol: 'udp', host: '203.0.113.7', port: 5060 },
      { protocol: 'tcp', host: '::1', port: 5060 },
    ]);
    expect(parseEngineHostports(undefined)).toEqual([]);
  });
});

describe('connectDrachtio, dial mode (DRACHTIO_HOST set)', () => {
  it('reports not connected and logs its retries while nothing listens, without hanging', async () => {
    const { capture, logger } = setup();
    const port = await freeTcpPort('127.0.0.1');
    const connection = track(
      connectDrachtio(createSrf(), { mode: 'dial', host: '127.0.0.1', port, secret: SECRET }, logger, {
        retryMaxDelayMs: 200,
      }),
    );
    expect(connection.mode).toBe('dial');
    expect(await capture.waitForMsg('dialing the SIP engine')).toMatchObject({ host: '127.0.0.1', port });
    const retry = await capture.waitForMsg('SIP engine not connected, retrying');
    expect(retry).toMatchObject({ level: 40, component: 'drachtio', attempt: 2, cause: 'ECONNREFUSED' });
    expect(connection.isConnected()).toBe(false);
    expect(connection.engine).toBeUndefined();
    await expect(connection.connected(50)).rejects.toBeInstanceOf(DrachtioConnectTimeoutError);
    await expect(drachtioReadinessCheck(connection).check()).rejects.toThrow(
      'not connected to the SIP engine',
    );
    await expect(connection.listening()).rejects.toThrow('dial mode does not listen');
    const waiting = connection.connected();
    await connection.close();
    await expect(waiting).rejects.toBeInstanceOf(DrachtioClosedError);
    await expect(connection.connected()).rejects.toBeInstanceOf(DrachtioClosedError);
  });

  it('stops retrying on close: an app process with nothing else to do exits on its own', async () => {
    const port = await freeTcpPort('127.0.0.1');
    const run = runFixture('dial-close-app.mjs', { ENGINE_PORT: String(port) });
    cleanups.push(async () => {
      run.child.kill('SIGKILL');
      await run.exited;
    });
    const { code } = await run.exited;
    expect(code).toBe(0);
    const messages = run.jsonLines().map((l) => l.msg);
    expect(messages).toContain('SIP engine not connected, retrying');
    expect(messages.slice(-2)).toEqual(['closed the SIP engine connection', 'closed']);
  });

  it('authenticates, routes its verbs and resolves with the engine’s addresses', async () => {
    const { capture, logger } = setup();
    const engine = await engineFor();
    const srf = createSrf();
    srf.options((_req, res) => res.send(200, { headers: { 'X-Routed': 'yes' } }));
    const connection = track(
      connectDrachtio(srf, { mode: 'dial', host: engine.host, port: engine.port, secret: SECRET }, logger),
    );
    const info = await connection.connected();
    expect(info.hostports).toEqual(engine.sip);
    expect(info.version).toMatch(/^v\d+\.\d+\.\d+/);
    expect(connection.isConnected()).toBe(true);
    expect(connection.engine).toEqual(info);
    await expect(connection.connected()).resolves.toEqual(info);
    await expect(drachtioReadinessCheck(connection).check()).resolves.toBeUndefined();
    expect(await capture.waitForMsg('connected to the SIP engine')).toMatchObject({
      hostports: hostportsOf(engine),
    });
    // The options route is in place: the engine hands the ping to this app instead of answering 503.
    await new Promise((r) => setTimeout(r, 100));
    expect((await ping(engine)).response).toMatch(/^SIP\/2\.0 200 OK\r\n[\s\S]*X-Routed: yes\r\n/);
  });

  it('hands requests to handlers with the fields the declarations promise, and sends the response', async () => {
    const { logger } = setup();
    const engine = await engineFor();
    const srf = createSrf();
    const seen = new Promise<ReturnType<typeof describeRequest>>((resolve) => {
      srf.options((req, res) => {
        resolve(describeRequest(req));
        res.send(200, { headers: { 'X-SBC-Seen': req.get('X-FS-Calls') ?? 'none' } });
      });
    });
    const connection = track(
      connectDrachtio(srf, { mode: 'dial', host: engine.host, port: engine.port, secret: SECRET }, logger),
    );
    await connection.connected();
    await new Promise((r) => setTimeout(r, 100));
    const { response, port } = await ping(engine);
    expect(await seen).toEqual({
      method: 'OPTIONS',
      uri: `sip:${engine.sipTarget}`,
      source: 'network',
      sourceAddress: FEATURE_SERVER,
      sourcePort: port,
      protocol: 'udp',
      receivedOn: engine.sipTarget,
      callId: `options-ping-${port}@${FEATURE_SERVER}`,
      fromTag: 'fs-tag-1',
      fromUri: `sip:fs@${FEATURE_SERVER}`,
      viaHost: FEATURE_SERVER,
      cseq: { seq: 7, method: 'OPTIONS' },
      fsStatus: 'open',
      hasCalls: true,
      hasContact: false,
      isNewInvite: false,
      body: '',
      engine: hostportsOf(engine),
    });
    expect(response).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(response).toContain('X-SBC-Seen: 3\r\n');
    expect(response).toContain(`Call-ID: options-ping-${port}@${FEATURE_SERVER}\r\n`);
  });

  it('logs a lost engine, reports not connected, then reconnects on its own', async () => {
    const { capture, logger } = setup();
    const controlPort = await freeTcpPort();
    const first = await startEngine({ secret: SECRET, controlPort, loglevel: 'warning' });
    const srf = createSrf();
    srf.register((_req, res) => res.send(200));
    const connection = track(
      connectDrachtio(srf, { mode: 'dial', host: first.host, port: controlPort, secret: SECRET }, logger, {
        retryMaxDelayMs: 200,
      }),
    );
    await connection.connected();
    await first.stop();
    expect(await capture.waitForMsg('lost the connection to the SIP engine')).toMatchObject({
      level: 40,
      port: controlPort,
    });
    expect(connection.isConnected()).toBe(false);
    await expect(drachtioReadinessCheck(connection).check()).rejects.toThrow();
    await engineFor({ controlPort });
    await capture.waitForMsg('reconnected to the SIP engine');
    expect(connection.isConnected()).toBe(true);
    await expect(drachtioReadinessCheck(connection).check()).resolves.toBeUndefined();
  });

  it('logs an engine that refuses the secret and stays not connected', async () => {
    const { capture, logger } = setup();
    const engine = await engineFor({ secret: 'another-secret' });
    const connection = track(
      connectDrachtio(
        createSrf(),
        { mode: 'dial', host: engine.host, port: engine.port, secret: SECRET },
        logger,
        {
          retryMaxDelayMs: 200,
        },
      ),
    );
    expect(await capture.waitForMsg('the SIP engine refused DRACHTIO_SECRET')).toMatchObject({ level: 50 });
    expect(connection.isConnected()).toBe(false);
    expect(JSON.stringify(capture.lines)).not.toContain(SECRET);
  });

  it('closes an established connection', async () => {
    const { capture, logger } = setup();
    const engine = await engineFor();
    const srf = createSrf();
    srf.options((_req, res) => res.send(200));
    const connection = connectDrachtio(
      srf,
      { mode: 'dial', host: engine.host, port: engine.port, secret: SECRET },
      logger,
    );
    await connection.connected();
    await connection.close();
    expect(connection.isConnected()).toBe(false);
    await capture.waitForMsg('closed the SIP engine connection');
    expect(capture.messages()).not.toContain('lost the connection to the SIP engine');
    // With the app gone the engine has nobody for OPTIONS.
    await new Promise((r) => setTimeout(r, 100));
    expect((await ping(engine)).response).toMatch(/^SIP\/2\.0 503 /);
  });
});

describe('connectDrachtio, listen mode (no DRACHTIO_HOST: the engine dials the app)', () => {
  it('listens, is dialled by the engine for each request, authenticates and handles it', async () => {
    const { capture, logger } = setup();
    const srf = createSrf();
    const seen: (string | undefined)[] = [];
    srf.options((req, res) => {
      seen.push(req.get('X-FS-Status'));
      res.send(200, { headers: { 'X-Outbound': 'yes' } });
    });
    const appPort = await freeTcpPort();
    const connection = track(
      connectDrachtio(srf, { mode: 'listen', port: appPort, secret: SECRET }, logger, {
        listenAddress: '127.0.0.1',
      }),
    );
    const { address, port } = await connection.listening();
    expect({ address, port }).toEqual({ address: '127.0.0.1', port: appPort });
    expect(connection.mode).toBe('listen');
    expect(connection.isConnected()).toBe(true);
    await expect(drachtioReadinessCheck(connection).check()).resolves.toBeUndefined();
    expect(await capture.waitForMsg('listening for the SIP engine (outbound mode)')).toMatchObject({ port });

    const engine = await engineFor({ httpHandler: `tcp://127.0.0.1:${appPort}` });
    expect((await ping(engine)).response).toMatch(/^SIP\/2\.0 200 OK\r\n[\s\S]*X-Outbound: yes/);
    expect(seen).toEqual(['open']);
    const info = await connection.connected();
    expect(info.hostports).toEqual(engine.sip);

    await connection.close();
    expect(connection.isConnected()).toBe(false);
    await expect(drachtioReadinessCheck(connection).check()).rejects.toThrow(
      'not listening for the SIP engine',
    );
    // Nobody listens any more: the engine answers the next request 480 (spec §2.4).
    expect((await ping(engine)).response).toMatch(/^SIP\/2\.0 480 /);
  });

  it('fails with DrachtioListenError when the port is taken', async () => {
    const { capture, logger } = setup();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as { port: number }).port;
    const connection = track(
      connectDrachtio(createSrf(), { mode: 'listen', port, secret: SECRET }, logger, {
        listenAddress: '127.0.0.1',
      }),
    );
    const failure = await connection.connected().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(DrachtioListenError);
    expect((failure as DrachtioListenError).message).toMatch(
      new RegExp(`^cannot listen for the SIP engine on port ${port}: .*EADDRINUSE`),
    );
    await expect(connection.listening()).rejects.toBeInstanceOf(DrachtioListenError);
    expect(connection.isConnected()).toBe(false);
    expect(await capture.waitForMsg('cannot listen for the SIP engine')).toMatchObject({ level: 50, port });
  });
});
