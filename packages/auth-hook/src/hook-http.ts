import { buildConnector, Client, type Dispatcher } from 'undici';

/** How one HTTP exchange ended, before its body is interpreted. */
export type Exchange =
  | { kind: 'answer'; status: number; text: string }
  | { kind: 'too-large' }
  | { kind: 'timeout' }
  | { kind: 'error'; err: unknown };

export interface ExchangeRequest {
  /** `http(s)://host[:port]` */
  origin: string;
  /** Path and query string. */
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  maxBytes: number;
}

/** Kept-alive connections per origin (host and port), as node:http's Agent maxSockets. */
const MAX_CONNECTIONS = 64;

/**
 * undici's own connect / headers / body timeouts are off: each call has one deadline. One
 * connector for all connections, so TLS sessions are resumed across them.
 */
const CLIENT_OPTIONS: Client.Options = {
  connect: buildConnector({ timeout: 0 }),
  headersTimeout: 0,
  bodyTimeout: 0,
};

/**
 * One kept-alive connection (an undici Client carrying one request at a time). It counts the
 * answers carried since it last connected, so a request knows whether it went out on a reused
 * connection (node's `req.reusedSocket`).
 */
class HookConnection {
  readonly client: Client;
  answered = 0;
  connected = false;
  idle = false;
  dropped = false;

  constructor(readonly pool: OriginPool) {
    this.client = new Client(pool.origin, CLIENT_OPTIONS);
    this.client.on('connect', () => {
      this.connected = true;
      this.answered = 0;
    });
    this.client.on('connectionError', () => {
      this.connected = false;
    });
    this.client.on('disconnect', () => {
      this.connected = false;
      if (this.idle) pool.drop(this);
    });
  }
}

/**
 * The connections to one origin. A call takes the most recently used idle connection, else
 * opens one (up to MAX_CONNECTIONS), else waits in line. Connections whose socket closed are
 * dropped, not kept.
 */
class OriginPool {
  private readonly idle: HookConnection[] = [];
  private readonly waiting = new Set<HookExchange>();
  private open = 0;

  constructor(readonly origin: string) {}

  acquire(exchange: HookExchange): void {
    if (this.waiting.size > 0) this.waiting.add(exchange);
    else this.assign(exchange);
  }

  private assign(exchange: HookExchange): void {
    const connection = this.idle.pop();
    if (connection) {
      connection.idle = false;
      exchange.sendOn(connection);
    } else if (this.open < MAX_CONNECTIONS) {
      this.open++;
      exchange.sendOn(new HookConnection(this));
    } else {
      this.waiting.add(exchange);
    }
  }

  /** A call gave up before it got a connection. */
  cancel(exchange: HookExchange): void {
    this.waiting.delete(exchange);
  }

  /** The request on this connection is over (answered, failed or aborted). */
  release(connection: HookConnection): void {
    if (connection.dropped) {
      // Already counted out.
    } else if (!connection.connected || connection.client.destroyed) {
      this.drop(connection);
    } else {
      connection.idle = true;
      this.idle.push(connection);
    }
    // Hand over outside undici's callback that released it.
    if (this.waiting.size > 0) process.nextTick(() => this.serveWaiting());
  }

  drop(connection: HookConnection): void {
    if (connection.dropped) return;
    connection.dropped = true;
    this.open--;
    if (connection.idle) {
      connection.idle = false;
      this.idle.splice(this.idle.indexOf(connection), 1);
    }
    connection.client.destroy().catch(() => undefined);
    if (this.waiting.size > 0) process.nextTick(() => this.serveWaiting());
  }

  private serveWaiting(): void {
    while (this.waiting.size > 0 && (this.idle.length > 0 || this.open < MAX_CONNECTIONS)) {
      const next = this.waiting.values().next().value!;
      this.waiting.delete(next);
      this.assign(next);
    }
  }
}

const POOLS = new Map<string, OriginPool>();

function poolOf(origin: string): OriginPool {
  let pool = POOLS.get(origin);
  if (!pool) {
    pool = new OriginPool(origin);
    POOLS.set(origin, pool);
  }
  return pool;
}

/**
 * One request with a deadline covering connect, answer and body, driven through undici's
 * (original) handler interface: no stream, no header object per answer, and `onResponseStarted`
 * tells whether any answer arrived. A non-200 answer ends the exchange at its headers (the body is
 * drained and the connection kept); a body over `maxBytes` ends the connection. A request whose
 * reused connection closed before any answer is retried once on another connection (the hook may
 * have closed an idle connection just as it was reused), as node's documentation advises.
 */
class HookExchange implements Dispatcher.DispatchHandler {
  private connection: HookConnection | undefined;
  private abort: ((err?: Error) => void) | undefined;
  private reused = false;
  private answerStarted = false;
  private retried = false;
  private settled = false;
  private status = 0;
  private total = 0;
  private chunks: Buffer[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly request: ExchangeRequest,
    private readonly resolve: (result: Exchange) => void,
  ) {
    this.timer = setTimeout(() => this.onTimeout(), request.timeoutMs);
  }

  start(): void {
    poolOf(this.request.origin).acquire(this);
  }

  /** Called by the pool with a connection for this request alone. */
  sendOn(connection: HookConnection): void {
    this.connection = connection;
    const { path, method, headers, body } = this.request;
    connection.client.dispatch({ path, method, headers, body }, this);
  }

  private onTimeout(): void {
    this.finish({ kind: 'timeout' });
    if (this.abort) this.abort();
    // Still connecting: close the connection, as node:http destroys the socket.
    else if (this.connection) this.connection.pool.drop(this.connection);
    else poolOf(this.request.origin).cancel(this);
  }

  private finish(result: Exchange): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(result);
  }

  /** The request is over on its connection: give the connection back. */
  private release(): HookConnection | undefined {
    const connection = this.connection;
    this.connection = undefined;
    this.abort = undefined;
    if (connection) connection.pool.release(connection);
    return connection;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) return abort();
    this.abort = abort;
    this.reused = (this.connection?.answered ?? 0) > 0;
  }

  onResponseStarted(): void {
    this.answerStarted = true;
  }

  onHeaders(status: number): boolean {
    if (status < 200) return true;
    this.status = status;
    if (status !== 200) this.finish({ kind: 'answer', status, text: '' });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    this.total += chunk.byteLength;
    if (this.total > this.request.maxBytes) {
      this.finish({ kind: 'too-large' });
      this.abort?.();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.connection) this.connection.answered++;
    this.release();
    if (this.settled) return;
    const chunks = this.chunks;
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.finish({ kind: 'answer', status: this.status, text });
  }

  onError(err: Error): void {
    this.release();
    if (this.settled) return;
    if (this.reused && !this.answerStarted && !this.retried) {
      this.retried = true;
      this.reused = false;
      process.nextTick(() => {
        if (!this.settled) this.start();
      });
      return;
    }
    this.finish({ kind: 'error', err });
  }
}

/** Sends one request; never rejects. */
export function exchange(request: ExchangeRequest): Promise<Exchange> {
  return new Promise((resolve) => new HookExchange(request, resolve).start());
}
