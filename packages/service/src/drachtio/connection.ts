import type { AddressInfo, Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { DrachtioConfig } from '../config/jambonz.js';
import type { ReadinessCheck } from '../health.js';
import type { Srf } from './types.js';

/** One SIP listening transport of the engine, from `proto/host:port`. */
export interface EngineHostport {
  /** `udp`, `tcp`, `tls`, `ws` or `wss`. */
  protocol: string;
  host: string;
  port: number;
}

/** What the engine tells an app when it authenticates. */
export interface EngineInfo {
  /** Advertised SIP addresses (the external IP where one is configured). */
  hostports: EngineHostport[];
  /** The addresses the engine's transports are bound to. */
  localHostports: EngineHostport[];
  /** e.g. `v0.9.4`. */
  version: string | undefined;
}

/** `connected()` did not see an engine in time. */
export class DrachtioConnectTimeoutError extends Error {
  override readonly name = 'DrachtioConnectTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no SIP engine connected within ${timeoutMs} ms`);
  }
}

/** Listen mode could not bind the control port (e.g. EADDRINUSE). */
export class DrachtioListenError extends Error {
  override readonly name = 'DrachtioListenError';
  constructor(
    readonly port: number,
    override readonly cause: Error,
  ) {
    super(`cannot listen for the SIP engine on port ${port}: ${cause.message}`);
  }
}

/** The connection was closed while something still waited for it. */
export class DrachtioClosedError extends Error {
  override readonly name = 'DrachtioClosedError';
  constructor() {
    super('the SIP engine connection was closed');
  }
}

export interface DrachtioConnectionOptions {
  /** Dial mode: longest wait between reconnect attempts (default 5000 ms; srf alone has no cap). */
  retryMaxDelayMs?: number;
  /** Listen mode: address to bind (all interfaces when unset, as jambonz). */
  listenAddress?: string;
}

export interface DrachtioConnection {
  readonly mode: DrachtioConfig['mode'];
  /**
   * For /readyz. Dial mode: an authenticated connection to the engine is up. Listen mode: the control
   * port is bound (the engine opens a connection per new request, so none may be open while idle).
   */
  isConnected(): boolean;
  /** The engine's addresses, from its latest successful authentication. */
  readonly engine: EngineInfo | undefined;
  /**
   * Calls `listener` with the engine's addresses on every (re)connect, and at once when an engine
   * is already connected. Returns a function that removes it. A listener that throws is logged.
   */
  onEngine(listener: (engine: EngineInfo) => void): () => void;
  /**
   * Resolves when an engine has authenticated (at once if one already has), with its addresses.
   * Rejects with `DrachtioConnectTimeoutError` after `timeoutMs` (no limit when omitted),
   * `DrachtioListenError` when listen mode cannot bind, `DrachtioClosedError` on `close()`.
   */
  connected(timeoutMs?: number): Promise<EngineInfo>;
  /** Listen mode: resolves with the bound address (port 0 picks one). Dial mode: rejects. */
  listening(): Promise<{ address: string; port: number }>;
  /** Stops dialing / listening and closes the engine connection(s). */
  close(): Promise<void>;
}

/** Parses `udp/1.2.3.4:5060,tcp/[::1]:5060` (entries that do not match are skipped). */
export function parseEngineHostports(text: string | undefined): EngineHostport[] {
  if (!text) return [];
  return text.split(',').flatMap((entry) => {
    const match = /^([a-z]+)\/(.+):(\d+)$/i.exec(entry.trim());
    if (!match) return [];
    const [, protocol = '', host = '', port = ''] = match;
    return [{ protocol: protocol.toLowerCase(), host: host.replace(/^\[(.*)\]$/, '$1'), port: Number(port) }];
  });
}

/** The parts of drachtio-srf 5.x's internals this helper relies on (no public API exists for them). */
interface SrfInternals {
  _app?: {
    client?: {
      wp?: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } };
    };
  };
}

/** Dial mode without a connection: stop srf's pending reconnect timer and any further attempt. */
function stopReconnecting(srf: Srf): void {
  const wp = (srf as unknown as SrfInternals)._app?.client?.wp;
  if (!wp) return;
  wp.closing = true;
  if (wp.reconnectVars?.retryTimer) {
    clearTimeout(wp.reconnectVars.retryTimer);
    wp.reconnectVars.retryTimer = null;
  }
}

function errorCode(err: Error): string {
  return 'code' in err && typeof err.code === 'string' ? err.code : err.message;
}

/**
 * Connects `srf` to the SIP engine the way `config` says: dials `host:port` (inbound mode) or listens
 * on `port` for the engine to dial in (outbound mode). Logs connects, refusals, reconnect attempts and
 * disconnects; srf itself keeps reconnecting in dial mode. Returns at once; await `connected()` for
 * the engine's addresses.
 */
export function connectDrachtio(
  srf: Srf,
  config: DrachtioConfig,
  logger: Logger,
  options: DrachtioConnectionOptions = {},
): DrachtioConnection {
  const log = logger.child({ component: 'drachtio' });
  const waiters = new Set<{ resolve: (engine: EngineInfo) => void; reject: (err: Error) => void }>();
  const engineListeners = new Set<(engine: EngineInfo) => void>();
  const notify = (listener: (engine: EngineInfo) => void, info: EngineInfo): void => {
    try {
      listener(info);
    } catch (err) {
      log.error({ err }, 'SIP engine listener failed');
    }
  };
  let engine: EngineInfo | undefined;
  let dialConnected = false;
  let everConnected = false;
  let closed = false;
  let lastError: string | undefined;
  let listenFailure: DrachtioListenError | undefined;

  const failWaiters = (err: Error): void => {
    for (const waiter of waiters) waiter.reject(err);
    waiters.clear();
  };

  srf.on('connect', (err, hostports, version, localHostports) => {
    if (err) {
      log.error({ err: err.message }, 'the SIP engine refused DRACHTIO_SECRET');
      return;
    }
    if (closed) {
      // A dial that was already under way when close() ran.
      if (config.mode === 'dial') srf.disconnect();
      return;
    }
    engine = {
      hostports: parseEngineHostports(hostports),
      localHostports: parseEngineHostports(localHostports),
      version,
    };
    lastError = undefined;
    if (config.mode === 'dial') {
      dialConnected = true;
      log.info(
        { hostports, version },
        everConnected ? 'reconnected to the SIP engine' : 'connected to the SIP engine',
      );
    } else if (!everConnected) {
      log.info({ hostports, version }, 'first SIP engine connection');
    } else {
      log.debug({ hostports }, 'SIP engine connection');
    }
    everConnected = true;
    for (const waiter of waiters) waiter.resolve(engine);
    waiters.clear();
    for (const listener of engineListeners) notify(listener, engine);
  });

  // Without an 'error' listener srf would throw it and end the process.
  srf.on('error', (err) => {
    lastError = errorCode(err);
    log.debug({ err: err.message }, 'SIP engine connection error');
  });

  srf.on('reconnecting', ({ delay, attempt }) => {
    if (closed) return;
    log.warn({ attempt, delayMs: delay, cause: lastError }, 'SIP engine not connected, retrying');
  });

  srf.on('close', () => {
    if (config.mode === 'dial' && dialConnected) {
      dialConnected = false;
      if (!closed)
        log.warn({ host: config.host, port: config.port }, 'lost the connection to the SIP engine');
    }
  });

  let server: Server | undefined;
  const engineSockets = new Set<Socket>();
  let listeningPromise: Promise<{ address: string; port: number }>;

  if (config.mode === 'dial') {
    log.info({ host: config.host, port: config.port }, 'dialing the SIP engine');
    srf.connect({
      host: config.host,
      port: config.port,
      secret: config.secret,
      reconnect: { retryMaxDelay: options.retryMaxDelayMs ?? 5000 },
    });
    listeningPromise = Promise.reject(new TypeError('dial mode does not listen'));
    listeningPromise.catch(() => undefined);
  } else {
    const listenServer = srf.listen({
      port: config.port,
      host: options.listenAddress,
      secret: config.secret,
    });
    server = listenServer;
    listenServer.on('connection', (socket: Socket) => {
      engineSockets.add(socket);
      socket.once('close', () => engineSockets.delete(socket));
    });
    listeningPromise = new Promise((resolve, reject) => {
      listenServer.once('listening', () => {
        const { address, port } = listenServer.address() as AddressInfo;
        log.info({ address, port }, 'listening for the SIP engine (outbound mode)');
        resolve({ address, port });
      });
      listenServer.on('error', (err: Error) => {
        listenFailure = new DrachtioListenError(config.port, err);
        log.error({ port: config.port, err: err.message }, 'cannot listen for the SIP engine');
        reject(listenFailure);
        failWaiters(listenFailure);
      });
    });
    listeningPromise.catch(() => undefined);
  }

  return {
    mode: config.mode,
    get engine() {
      return engine;
    },
    onEngine(listener) {
      engineListeners.add(listener);
      if (engine && !closed) notify(listener, engine);
      return () => engineListeners.delete(listener);
    },
    isConnected() {
      if (closed) return false;
      return config.mode === 'dial' ? dialConnected : server?.listening === true;
    },
    connected(timeoutMs) {
      if (closed) return Promise.reject(new DrachtioClosedError());
      if (listenFailure) return Promise.reject(listenFailure);
      if (engine && (config.mode === 'listen' || dialConnected)) return Promise.resolve(engine);
      return new Promise<EngineInfo>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const waiter = {
          resolve: (info: EngineInfo) => {
            clearTimeout(timer);
            resolve(info);
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        waiters.add(waiter);
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            waiters.delete(waiter);
            reject(new DrachtioConnectTimeoutError(timeoutMs));
          }, timeoutMs);
        }
      });
    },
    listening() {
      return listeningPromise;
    },
    async close() {
      if (closed) return;
      closed = true;
      failWaiters(new DrachtioClosedError());
      if (config.mode === 'dial') {
        stopReconnecting(srf);
        if (dialConnected) {
          const gone = new Promise<void>((resolve) => {
            srf.once('close', () => resolve());
            // An engine that never answers our FIN must not hold up shutdown.
            setTimeout(resolve, 2000).unref();
          });
          srf.disconnect();
          await gone;
          dialConnected = false;
        }
        log.info('closed the SIP engine connection');
        return;
      }
      if (server?.listening) {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of engineSockets) socket.destroy();
        await stopped;
      }
      log.info('stopped listening for the SIP engine');
    },
  };
}

/** The /readyz check for the engine connection (see `isConnected`). */
export function drachtioReadinessCheck(connection: DrachtioConnection): ReadinessCheck {
  return {
    name: 'drachtio',
    check: () =>
      connection.isConnected()
        ? Promise.resolve()
        : Promise.reject(
            new Error(
              connection.mode === 'dial'
                ? 'not connected to the SIP engine'
                : 'not listening for the SIP engine',
            ),
          ),
  };
}
