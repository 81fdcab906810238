import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { AppConnection, type ConnectionLogger } from './app-connection.js';
import { AppRegistry } from './app-registry.js';
import type { AppMessage } from './wire.js';

/** The version we report: srf enables pings only for `^v(\d+)\.(\d+)\.(\d+)` ≥ v0.8.2 (PROTOCOL.md §2.3). */
export const ENGINE_VERSION = 'v0.9.6';

export interface ControlServerOptions {
  address: string;
  /** Plain TCP port for apps (drachtio `--port`, default 9022); 0 picks a free one; omit for TLS only. */
  port?: number;
  /** TLS port for apps (drachtio `--tls-port`), needs `tls`. */
  tlsPort?: number;
  secret: string;
  tls?: { key: Buffer | string; cert: Buffer | string };
  logger: ConnectionLogger & { info(obj: object, msg?: string): void };
}

/** What the engine core does with the commands that are about SIP. Each must answer exactly once. */
export interface ControlHandlers {
  hostports(): { hostports: string; localHostports: string };
  onSip(conn: AppConnection, msg: AppMessage): void;
  onProxy(conn: AppConnection, msg: AppMessage): void;
  onDisconnect(conn: AppConnection): void;
}

/**
 * The control channel (PROTOCOL.md §2, §3): accepts apps (inbound mode) and dials them (outbound mode),
 * requires `authenticate` first, answers route / remove_route / ping itself, passes sip / proxy on.
 */
export class ControlServer {
  readonly apps = new AppRegistry();
  private readonly servers: Server[] = [];
  /** Resolvers waiting for an outbound connection's authenticate. */
  private readonly pendingOutbound = new Map<AppConnection, (ok: boolean) => void>();

  constructor(
    private readonly options: ControlServerOptions,
    private readonly handlers: ControlHandlers,
  ) {}

  /** Opens the TCP and/or TLS listeners; resolves with the ports actually bound. */
  async listen(): Promise<{ address: string; port?: number; tlsPort?: number }> {
    const { tls, address } = this.options;
    const bound: { address: string; port?: number; tlsPort?: number } = { address };
    if (this.options.port !== undefined) {
      bound.port = await this.open(
        createTcpServer((socket) => this.accept(socket, false)),
        this.options.port,
      );
    }
    if (this.options.tlsPort !== undefined) {
      if (!tls) throw new Error('a TLS control port needs a key and a certificate');
      const server = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) =>
        this.accept(socket, false),
      );
      bound.tlsPort = await this.open(server, this.options.tlsPort);
    }
    this.options.logger.info(bound, 'control channel listening');
    return bound;
  }

  async close(): Promise<void> {
    for (const conn of this.apps.all()) conn.socket.destroy();
    await Promise.all(
      this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }

  private async open(server: Server, port: number): Promise<number> {
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return addr && typeof addr === 'object' ? addr.port : port;
  }

  /**
   * Outbound mode (PROTOCOL.md §2.4): dial an app listening at host:port, wait for its authenticate.
   * Resolves undefined when the connect or the authentication fails (the caller answers 480).
   */
  async dial(
    host: string,
    port: number,
    useTls: boolean,
    timeoutMs = 5000,
  ): Promise<AppConnection | undefined> {
    const socket = useTls
      ? tlsConnect({ host, port, rejectUnauthorized: false })
      : tcpConnect({ host, port });
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      socket.once(useTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!connected) {
      socket.destroy();
      return undefined;
    }
    const conn = this.accept(socket, true);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.pendingOutbound.set(conn, (authOk) => {
        clearTimeout(timer);
        resolve(authOk);
      });
      conn.onClose(() => resolve(false));
    });
    this.pendingOutbound.delete(conn);
    if (!ok) {
      conn.close();
      return undefined;
    }
    return conn;
  }

  private accept(socket: Socket, outbound: boolean): AppConnection {
    const conn = new AppConnection(socket, outbound, (c, m) => this.handle(c, m), this.options.logger);
    this.apps.add(conn);
    conn.onClose(() => {
      this.apps.remove(conn);
      this.pendingOutbound.get(conn)?.(false);
      this.handlers.onDisconnect(conn);
      this.options.logger.info({ conn: conn.id, remote: conn.remote }, 'app disconnected');
    });
    return conn;
  }

  private handle(conn: AppConnection, msg: AppMessage): void {
    if (msg.tokens.length < 2 || !msg.id) {
      conn.refuse(msg.id, 'Invalid message format');
      return;
    }
    if (msg.command === 'authenticate') {
      this.authenticate(conn, msg);
      return;
    }
    if (!conn.authenticated) {
      conn.refuse(msg.id, 'authenticate first');
      return;
    }
    switch (msg.command) {
      case 'route':
        if (msg.tokens[2]) conn.verbs.add(msg.tokens[2].toLowerCase());
        conn.reply(msg.id, ['OK']);
        return;
      case 'remove_route':
        if (msg.tokens[2]) conn.verbs.delete(msg.tokens[2].toLowerCase());
        conn.reply(msg.id, ['OK']);
        return;
      case 'ping':
        conn.reply(msg.id, ['OK', 'pong']);
        return;
      case 'sip':
        if (msg.tokens.length < 4) {
          conn.refuse(msg.id, 'Invalid message format');
          return;
        }
        this.handlers.onSip(conn, msg);
        return;
      case 'proxy':
        this.handlers.onProxy(conn, msg);
        return;
      default:
        conn.refuse(msg.id, 'Unknown message type');
    }
  }

  private authenticate(conn: AppConnection, msg: AppMessage): void {
    if (msg.tokens[2] !== this.options.secret) {
      this.options.logger.warn({ conn: conn.id, remote: conn.remote }, 'app sent an incorrect secret');
      this.pendingOutbound.get(conn)?.(false);
      conn.refuse(msg.id, 'incorrect secret');
      return;
    }
    conn.authenticated = true;
    conn.tags = (msg.tokens[3] ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => /^[A-Za-z0-9\-_+@:]{1,32}$/.test(t))
      .slice(0, 20);
    const { hostports, localHostports } = this.handlers.hostports();
    conn.reply(msg.id, ['OK', hostports, ENGINE_VERSION, localHostports]);
    this.options.logger.info({ conn: conn.id, remote: conn.remote, tags: conn.tags }, 'app authenticated');
    this.pendingOutbound.get(conn)?.(true);
  }
}
