import { createServer, type Server } from 'node:net';
import { freeTcpPort } from '@sbc/testkit';
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
  type SrfResponse,
} from '../src/index.js';
import { runFixture } from './helpers/child.js';
import { DrachtioPeer } from './helpers/drachtio-peer.js';
import { LogCapture } from './helpers/log-capture.js';

const SECRET = 'cymru';
const ENGINE = {
  secret: SECRET,
  hostports: 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060,wss/[::1]:8443',
  localHostports: 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060',
  version: 'v0.9.4',
};

const OPTIONS_PING = [
  'OPTIONS sip:127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.1.5:5060;branch=z9hG4bK-fs-1;rport',
  'From: <sip:fs@127.0.1.5>;tag=fs-tag-1',
  'To: <sip:127.0.0.1>',
  'Call-ID: options-ping-1@127.0.1.5',
  'CSeq: 7 OPTIONS',
  'X-FS-Status: open',
  'X-FS-Calls: 3',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

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
    viaPort: req.getParsedHeader('via')[0]?.port,
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

async function startPeer(options = ENGINE): Promise<{ peer: DrachtioPeer; port: number }> {
  const peer = new DrachtioPeer(options);
  const port = await peer.listen('127.0.0.1');
  cleanups.push(() => peer.close());
  return { peer, port };
}

describe('srf itself', () => {
  it('parses SIP and tel URIs with srf’s parser', () => {
    expect(parseSipUri('sip:alice:pw@127.0.0.2:5061;transport=tls;lr')).toEqual({
      family: 'ipv4',
      scheme: 'sip',
      user: 'alice',
      password: 'pw',
      host: '127.0.0.2',
      port: 5061,
      params: { transport: 'tls', lr: null },
      headers: {},
    });
    expect(parseSipUri('tel:+16173333456;phone-context=example.com')).toEqual({
      scheme: 'tel',
      number: '+16173333456',
      context: 'example.com',
      params: { 'phone-context': 'example.com' },
    });
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
    const { peer, port } = await startPeer();
    const srf = createSrf();
    srf.options((_req: SrfRequest, res: SrfResponse) => res.send(200));
    const connection = track(
      connectDrachtio(srf, { mode: 'dial', host: '127.0.0.1', port, secret: SECRET }, logger),
    );
    const engine = await connection.connected();
    expect(engine).toEqual({
      hostports: [
        { protocol: 'udp', host: '127.0.0.1', port: 5060 },
        { protocol: 'tcp', host: '127.0.0.1', port: 5060 },
        { protocol: 'wss', host: '::1', port: 8443 },
      ],
      localHostports: [
        { protocol: 'udp', host: '127.0.0.1', port: 5060 },
        { protocol: 'tcp', host: '127.0.0.1', port: 5060 },
      ],
      version: 'v0.9.4',
    });
    expect(connection.isConnected()).toBe(true);
    expect(connection.engine).toEqual(engine);
    await expect(connection.connected()).resolves.toEqual(engine);
    await expect(drachtioReadinessCheck(connection).check()).resolves.toBeUndefined();
    expect((await peer.waitFor((c) => c.command === 'authenticate')).tokens[2]).toBe(SECRET);
    expect((await peer.waitFor((c) => c.command === 'route')).tokens[2]).toBe('options');
    expect(await capture.waitForMsg('connected to the SIP engine')).toMatchObject({
      hostports: ENGINE.hostports,
    });
  });

  it('hands requests to handlers with the fields the declarations promise, and sends the response', async () => {
    const { logger } = setup();
    const { peer, port } = await startPeer();
    const srf = createSrf();
    const seen = new Promise<ReturnType<typeof describeRequest>>((resolve) => {
      srf.options((req, res) => {
        resolve(describeRequest(req));
        res.send(200, { headers: { 'X-SBC-Seen': req.get('X-FS-Calls') ?? 'none' } });
      });
    });
    const connection = track(
      connectDrachtio(srf, { mode: 'dial', host: '127.0.0.1', port, secret: SECRET }, logger),
    );
    await connection.connected();
    const auth = await peer.waitFor((c) => c.command === 'authenticate');
    peer.sendRequest(auth.socket, OPTIONS_PING, {
      transactionId: 'txn-options-1',
      protocol: 'udp',
      address: '127.0.1.5',
      port: 5060,
      receivedOn: '127.0.0.1:5060',
    });
    expect(await seen).toEqual({
      method: 'OPTIONS',
      uri: 'sip:127.0.0.1:5060',
      source: 'network',
      sourceAddress: '127.0.1.5',
      sourcePort: 5060,
      protocol: 'udp',
      receivedOn: '127.0.0.1:5060',
      callId: 'options-ping-1@127.0.1.5',
      fromTag: 'fs-tag-1',
      fromUri: 'sip:fs@127.0.1.5',
      viaHost: '127.0.1.5',
      viaPort: 5060,
      cseq: { seq: 7, method: 'OPTIONS' },
      fsStatus: 'open',
      hasCalls: true,
      hasContact: false,
      isNewInvite: false,
      body: '',
      engine: ENGINE.hostports,
    });
    const response = await peer.waitFor((c) => c.command === 'sip');
    expect(response.tokens[2]).toBe('txn-options-1');
    expect(response.sip).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(response.sip).toContain('X-SBC-Seen: 3\r\n');
    expect(response.sip).toContain('Call-ID: options-ping-1@127.0.1.5\r\n');
  });

  it('logs a lost engine, reports not connected, then reconnects on its own', async () => {
    const { capture, logger } = setup();
    const { peer, port } = await startPeer();
    const srf = createSrf();
    srf.register((_req, res) => res.send(200));
    const connection = track(
      connectDrachtio(srf, { mode: 'dial', host: '127.0.0.1', port, secret: SECRET }, logger, {
        retryMaxDelayMs: 200,
      }),
    );
    await connection.connected();
    peer.dropConnections();
    expect(await capture.waitForMsg('lost the connection to the SIP engine')).toMatchObject({
      level: 40,
      port,
    });
    expect(connection.isConnected()).toBe(false);
    await capture.waitForMsg('reconnected to the SIP engine');
    expect(connection.isConnected()).toBe(true);
    // Authenticated and routed again on the new connection.
    expect(peer.received.filter((c) => c.command === 'authenticate')).toHaveLength(2);
    await peer.waitFor(
      (c) => c.command === 'route' && peer.received.filter((r) => r.command === 'route').length >= 2,
    );
  });

  it('logs an engine that refuses the secret and stays not connected', async () => {
    const { capture, logger } = setup();
    const { port } = await startPeer({ ...ENGINE, secret: 'another-secret' });
    const connection = track(
      connectDrachtio(createSrf(), { mode: 'dial', host: '127.0.0.1', port, secret: SECRET }, logger, {
        retryMaxDelayMs: 200,
      }),
    );
    expect(await capture.waitForMsg('the SIP engine refused DRACHTIO_SECRET')).toMatchObject({ level: 50 });
    expect(connection.isConnected()).toBe(false);
    expect(JSON.stringify(capture.lines)).not.toContain(SECRET);
  });

  it('closes an established connection', async () => {
    const { capture, logger } = setup();
    const { peer, port } = await startPeer();
    const connection = connectDrachtio(
      createSrf(),
      { mode: 'dial', host: '127.0.0.1', port, secret: SECRET },
      logger,
    );
    const auth = await peer.waitFor((c) => c.command === 'authenticate');
    await connection.connected();
    const closedByApp = new Promise<void>((resolve) => auth.socket.once('close', () => resolve()));
    await connection.close();
    await closedByApp;
    expect(connection.isConnected()).toBe(false);
    await capture.waitForMsg('closed the SIP engine connection');
    expect(capture.messages()).not.toContain('lost the connection to the SIP engine');
  });
});

describe('connectDrachtio, listen mode (no DRACHTIO_HOST: the engine dials the app)', () => {
  it('listens, accepts the engine, authenticates and handles its request', async () => {
    const { capture, logger } = setup();
    const srf = createSrf();
    const seen = new Promise<string | undefined>((resolve) => {
      srf.options((req, res) => {
        resolve(req.get('Call-ID'));
        res.send(200);
      });
    });
    const connection = track(
      connectDrachtio(srf, { mode: 'listen', port: 0, secret: SECRET }, logger, {
        listenAddress: '127.0.0.1',
      }),
    );
    const { address, port } = await connection.listening();
    expect(address).toBe('127.0.0.1');
    expect(connection.mode).toBe('listen');
    expect(connection.isConnected()).toBe(true);
    await expect(drachtioReadinessCheck(connection).check()).resolves.toBeUndefined();
    expect(await capture.waitForMsg('listening for the SIP engine (outbound mode)')).toMatchObject({ port });

    const peer = new DrachtioPeer(ENGINE);
    cleanups.push(() => peer.close());
    const socket = await peer.dial(port);
    expect((await peer.waitFor((c) => c.command === 'authenticate')).tokens[2]).toBe(SECRET);
    const engine = await connection.connected();
    expect(engine.hostports[0]).toEqual({ protocol: 'udp', host: '127.0.0.1', port: 5060 });
    peer.sendRequest(socket, OPTIONS_PING, {
      transactionId: 'txn-options-2',
      protocol: 'tcp',
      address: '127.0.1.5',
      port: 5060,
      receivedOn: '127.0.0.1:5060',
    });
    expect(await seen).toBe('options-ping-1@127.0.1.5');
    const response = await peer.waitFor((c) => c.command === 'sip');
    expect(response.sip).toMatch(/^SIP\/2\.0 200 OK\r\n/);

    await connection.close();
    expect(connection.isConnected()).toBe(false);
    await expect(drachtioReadinessCheck(connection).check()).rejects.toThrow(
      'not listening for the SIP engine',
    );
    await expect(new DrachtioPeer(ENGINE).dial(port)).rejects.toThrow(/ECONNREFUSED/);
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
