import {
  connect as netConnect,
  createServer as createNetServer,
  isIP,
  type Server,
  type Socket,
} from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { SipStreamFramer } from '@sbc/sip';
import { familyOf, isWildcard } from './addresses.js';
import { asError, type Connection, type LayerContext } from './context.js';
import { PeerUnreachableError, TransportBindError, TransportConfigError } from './errors.js';
import type { TransportTlsOptions } from './options.js';
import type { LocalEndpoint, Peer } from './types.js';

const CRLF = Buffer.from('\r\n');

/** A TCP or TLS connection carrying SIP framed by Content-Length (RFC 3261 §18.3). */
export class StreamConnection implements Connection {
  readonly id: string;
  readonly protocol: 'tcp' | 'tls';
  lastActivity = Date.now();
  waitingSince: number | undefined;
  private readonly framer: SipStreamFramer;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    readonly peer: Peer,
    readonly local: LocalEndpoint,
    readonly outbound: boolean,
    private readonly ctx: LayerContext,
  ) {
    this.protocol = peer.protocol === 'tls' ? 'tls' : 'tcp';
    this.id = ctx.nextConnectionId(this.protocol);
    this.framer = new SipStreamFramer(ctx.limits);
    this.waitingSince = outbound ? undefined : this.lastActivity;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.ctx.socketError(this.protocol, err, { connection: this.id, peer }));
    socket.on('close', () => {
      this.closed = true;
      this.ctx.unregister(this);
    });
  }

  get open(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  private onData(chunk: Buffer): void {
    try {
      this.frame(chunk);
    } catch (err) {
      this.ctx.socketError(this.protocol, err, { connection: this.id, peer: this.peer });
    }
  }

  private frame(chunk: Buffer): void {
    const now = Date.now();
    this.lastActivity = now;
    const items = this.framer.push(chunk);
    if (items.length > 0) this.waitingSince = undefined;
    if (this.framer.buffered > 0) this.waitingSince ??= now;
    for (const item of items) {
      switch (item.kind) {
        case 'message':
          this.ctx.receive(item.data, this.peer, this.local, this.id);
          break;
        case 'ping':
          // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong
          if (this.open) this.socket.write(CRLF);
          break;
        case 'pong':
          break;
        case 'error':
          this.ctx.streamFailed(this, item.reason, item.head);
          break;
      }
    }
  }

  send(data: Buffer): Promise<void> {
    if (!this.open) return Promise.reject(new PeerUnreachableError(`connection ${this.id} is closed`));
    this.lastActivity = Date.now();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(graceful = false): void {
    this.closed = true;
    if (graceful) {
      this.socket.end();
      this.socket.setTimeout(2000, () => this.socket.destroy());
    } else {
      this.socket.destroy();
    }
  }
}

/** A TCP or TLS listener: every accepted socket becomes a StreamConnection. */
export class StreamListener {
  private server: Server | undefined;

  constructor(
    readonly endpoint: LocalEndpoint,
    private readonly ctx: LayerContext,
    private readonly tls: TransportTlsOptions | undefined,
  ) {}

  async start(): Promise<void> {
    const { protocol, address, port } = this.endpoint;
    const accept = (socket: Socket): void => {
      if (socket.remoteAddress === undefined || socket.remotePort === undefined) {
        socket.destroy();
        return;
      }
      const peer: Peer = { protocol, address: socket.remoteAddress, port: socket.remotePort };
      this.ctx.register(new StreamConnection(socket, peer, this.endpoint, false, this.ctx));
    };
    let server: Server;
    if (protocol === 'tls') {
      if (!this.tls)
        throw new TransportConfigError(`tls listener ${address}:${port} needs a key and certificate`);
      const tlsServer = createTlsServer({ key: this.tls.key, cert: this.tls.cert }, accept);
      tlsServer.on('tlsClientError', (err, socket) => {
        this.ctx.socketError('tls', err, { peer: socket.remoteAddress });
        socket.destroy();
      });
      server = tlsServer;
    } else {
      server = createNetServer(accept);
    }
    // blacklisted and rate-banned sources are cut before anything else (a TLS handshake included)
    server.prependListener('connection', (socket: Socket) => {
      if (socket.remoteAddress !== undefined && !this.ctx.admitConnection(socket.remoteAddress, protocol))
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
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

/** Opens a TCP or TLS connection to `peer` from the address of `local` (RFC 3261 §18.1.1). */
export function openStreamConnection(
  peer: Peer & { protocol: 'tcp' | 'tls' },
  local: LocalEndpoint,
  ctx: LayerContext,
  options: { tls: TransportTlsOptions | undefined; timeoutMs: number },
): Promise<StreamConnection> {
  const localAddress =
    !isWildcard(local.address) && familyOf(local.address) === familyOf(peer.address)
      ? local.address
      : undefined;
  return new Promise((resolve, reject) => {
    let socket: Socket;
    let tcp: Socket | undefined;
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.off('error', done);
      tcp?.off('error', done);
      if (err !== undefined) {
        socket.destroy();
        reject(
          new PeerUnreachableError(
            `cannot connect to ${peer.protocol}/${peer.address}:${peer.port}: ${asError(err).message}`,
            {
              cause: err,
            },
          ),
        );
        return;
      }
      const connectedPeer: Peer = { ...peer };
      resolve(new StreamConnection(socket, connectedPeer, local, true, ctx));
    };
    if (peer.protocol === 'tls') {
      if (!options.tls) {
        reject(new TransportConfigError('TLS connections need a key and certificate'));
        return;
      }
      tcp = netConnect({ host: peer.address, port: peer.port, localAddress });
      tcp.once('error', done);
      const tlsSocket: TLSSocket = tlsConnect({
        socket: tcp,
        key: options.tls.key,
        cert: options.tls.cert,
        ca: options.tls.ca,
        rejectUnauthorized: options.tls.rejectUnauthorized ?? false,
        servername: isIP(peer.address) ? undefined : peer.address,
      });
      tlsSocket.once('secureConnect', () => done());
      socket = tlsSocket;
    } else {
      socket = netConnect({ host: peer.address, port: peer.port, localAddress });
      socket.once('connect', () => done());
    }
    socket.once('error', done);
    socket.setTimeout(options.timeoutMs, () => done(new Error('connect timeout')));
  });
}
