import { isUtf8 } from 'node:buffer';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Connection, LayerContext } from './context.js';
import { PeerUnreachableError, TransportBindError, TransportConfigError } from './errors.js';
import type { TransportTlsOptions } from './options.js';
import type { LocalEndpoint, Peer } from './types.js';

/** The WebSocket subprotocol of RFC 7118 §4.1. */
export const SIP_WS_SUBPROTOCOL = 'sip';

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isBlank(data: Buffer): boolean {
  for (const b of data) if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  return true;
}

/** One WebSocket connection: each WebSocket message carries exactly one SIP message (RFC 7118 §5). */
export class WsConnection implements Connection {
  readonly id: string;
  readonly protocol: 'ws' | 'wss';
  readonly outbound = false;
  lastActivity = Date.now();
  waitingSince: number | undefined = this.lastActivity;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly peer: Peer,
    readonly local: LocalEndpoint,
    private readonly ctx: LayerContext,
  ) {
    this.protocol = peer.protocol === 'wss' ? 'wss' : 'ws';
    this.id = ctx.nextConnectionId(this.protocol);
    ws.on('message', (data: RawData) => {
      this.lastActivity = Date.now();
      this.waitingSince = undefined;
      const buf = toBuffer(data);
      if (isBlank(buf)) return; // keep-alive
      this.ctx.receive(buf, this.peer, this.local, this.id);
    });
    ws.on('ping', () => {
      this.lastActivity = Date.now();
    });
    ws.on('error', (err) => this.ctx.socketError(this.protocol, err, { connection: this.id, peer }));
    ws.on('close', () => {
      this.closed = true;
      this.ctx.unregister(this);
    });
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  send(data: Buffer): Promise<void> {
    if (!this.open) return Promise.reject(new PeerUnreachableError(`connection ${this.id} is closed`));
    this.lastActivity = Date.now();
    // RFC 7118 §5.1: text frames for UTF-8 messages, binary frames otherwise
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary: !isUtf8(data) }, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(graceful = false): void {
    this.closed = true;
    if (graceful) this.ws.close(1000);
    else this.ws.terminate();
  }
}

/** A WS or WSS listener: HTTP(S) server whose upgrades must offer the `sip` subprotocol. */
export class WsListener {
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;

  constructor(
    readonly endpoint: LocalEndpoint,
    private readonly ctx: LayerContext,
    private readonly tls: TransportTlsOptions | undefined,
  ) {}

  async start(): Promise<void> {
    const { protocol, address, port } = this.endpoint;
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.ctx.limits.maxMessageBytes,
      handleProtocols: (offered: Set<string>) =>
        offered.has(SIP_WS_SUBPROTOCOL) ? SIP_WS_SUBPROTOCOL : false,
    });
    wss.on('error', (err) => this.ctx.socketError(protocol, err, { local: this.endpoint }));
    const refuseHttp = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(426, { Connection: 'close', Upgrade: 'websocket' });
      res.end();
    };
    let server: Server;
    if (protocol === 'wss') {
      if (!this.tls)
        throw new TransportConfigError(`wss listener ${address}:${port} needs a key and certificate`);
      server = createHttpsServer({ key: this.tls.key, cert: this.tls.cert }, refuseHttp);
      server.on('tlsClientError', (err: Error) => this.ctx.socketError('wss', err, { local: this.endpoint }));
    } else {
      server = createHttpServer(refuseHttp);
    }
    // blacklisted and rate-banned sources are cut before anything else (a TLS handshake included)
    server.prependListener('connection', (socket: Socket) => {
      if (socket.remoteAddress !== undefined && !this.ctx.admitConnection(socket.remoteAddress, protocol))
        socket.destroy();
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(wss, req, socket, head),
    );
    server.on('clientError', (err: Error, socket: Duplex) => {
      this.ctx.socketError(protocol, err, { local: this.endpoint });
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new TransportBindError(protocol, address, port, err));
      server.once('error', onError);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const bound = server.address();
    if (bound && typeof bound === 'object') this.endpoint.port = bound.port;
    server.on('error', (err) => this.ctx.socketError(protocol, err, { local: this.endpoint }));
    this.server = server;
    this.wss = wss;
  }

  private upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.ctx.socketError(this.endpoint.protocol, err, { local: this.endpoint }));
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const address = req.socket.remoteAddress;
    const port = req.socket.remotePort;
    // RFC 7118 §4.1: the handshake must negotiate the "sip" subprotocol
    if (!offered.includes(SIP_WS_SUBPROTOCOL) || address === undefined || port === undefined) {
      this.ctx.logger?.debug({ offered, address }, 'WebSocket upgrade without the sip subprotocol refused');
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const peer: Peer = { protocol: this.endpoint.protocol, address, port };
      this.ctx.register(new WsConnection(ws, peer, this.endpoint, this.ctx));
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    const wss = this.wss;
    this.server = undefined;
    this.wss = undefined;
    if (wss) {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
