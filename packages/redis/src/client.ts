import { Redis, type RedisOptions } from 'ioredis';
import {
  RedisConfigError,
  guard,
  registerClientContext,
  scrubSecrets,
  type ClientContext,
} from './errors.js';

export interface RedisTlsOptions {
  /** PEM text (not a file path) of the CA that signed the server certificate. */
  ca?: string;
  /** PEM client certificate and key, for servers that require client certificates. */
  cert?: string;
  key?: string;
  /** Default true. */
  rejectUnauthorized?: boolean;
}

export interface RedisClientOptions {
  /** Default `localhost` (jambonz's default). Ignored when `sentinels` is set. */
  host?: string;
  /** Default 6379. Ignored when `sentinels` is set. */
  port?: number;
  username?: string;
  password?: string;
  /** Database index, default 0. */
  db?: number;
  /** Sentinel mode: the master is discovered through these. Requires `sentinelMasterName`. */
  sentinels?: { host: string; port: number }[];
  sentinelMasterName?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** TLS for the data connection (and, in sentinel mode, for the sentinel connections too). */
  tls?: RedisTlsOptions;
  /** Not supported: the jambonz key names are absolute. */
  keyPrefix?: never;
  /** Upper bound for any single command, including time queued while (re)connecting. Default 2000. */
  commandTimeoutMs?: number;
  /**
   * Send the commands issued in one event-loop tick (e.g. by several SIP requests handled together)
   * in one write (ioredis `enableAutoPipelining`). Default false.
   */
  autoPipelining?: boolean;
  /**
   * Send the commands issued in one event-loop tick in one write, by holding the socket's writes
   * (cork) until the tick's callbacks have run: the batching of `autoPipelining` without its cost
   * (ioredis builds a Pipeline object per tick, which about doubles the CPU of a command; see
   * sbc-registrar's README, Benchmark). Default false.
   */
  batchWrites?: boolean;
}

/** Structured logger subset (pino-compatible). */
export interface RedisLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

/**
 * Fail-fast policy. A SIP request must get a deliberate answer when Redis is down, never hang:
 * - the offline queue is on only until the first connection attempt has finished (see
 *   createRedisClient), so commands issued right at app start wait for the connection; after
 *   that, a command issued while disconnected is rejected at once (RedisUnavailableError);
 * - `commandTimeout` bounds every command, including one sent just before a connection died;
 * - `maxRetriesPerRequest: 1` rejects commands queued at start after one failed reconnect;
 * - reconnecting never stops (backoff up to 2 s), so the client heals when Redis returns.
 */
export function toIoredisOptions(options: RedisClientOptions): RedisOptions {
  if ((options as { keyPrefix?: unknown }).keyPrefix !== undefined) {
    throw new RedisConfigError('keyPrefix is not supported: jambonz key names are absolute');
  }
  const commandTimeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!(commandTimeout > 0))
    throw new RedisConfigError(`commandTimeoutMs must be positive, got ${commandTimeout}`);
  const tls = options.tls
    ? {
        ca: options.tls.ca,
        cert: options.tls.cert,
        key: options.tls.key,
        rejectUnauthorized: options.tls.rejectUnauthorized ?? true,
      }
    : undefined;
  const common: RedisOptions = {
    username: options.username,
    password: options.password,
    db: options.db ?? 0,
    commandTimeout,
    connectTimeout: Math.max(commandTimeout, 1000),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    // A primary demoted in a failover answers writes with READONLY: reconnect (through the sentinels,
    // to the new primary) and resend the command instead of failing every write until a restart.
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
    enableAutoPipelining: options.autoPipelining ?? false,
    tls,
  };
  const sentinels = options.sentinels ?? [];
  if (sentinels.length === 0) {
    const port = options.port ?? 6379;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new RedisConfigError(`invalid redis port ${port}`);
    return { ...common, host: options.host ?? 'localhost', port };
  }
  if (!options.sentinelMasterName) {
    throw new RedisConfigError('sentinels are set but sentinelMasterName is missing');
  }
  return {
    ...common,
    sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: options.sentinelMasterName,
    sentinelUsername: options.sentinelUsername,
    sentinelPassword: options.sentinelPassword,
    sentinelCommandTimeout: commandTimeout,
    sentinelRetryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    enableTLSForSentinelMode: tls !== undefined,
    sentinelTLS: tls,
  };
}

/** `host:port` or `sentinel <name>` for log lines (never credentials). */
function describeTarget(options: RedisClientOptions): string {
  if (options.sentinels && options.sentinels.length > 0) {
    return `sentinel master ${options.sentinelMasterName ?? '?'} via ${options.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  }
  return `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
}

/**
 * Creates an ioredis client with the fail-fast policy of `toIoredisOptions`. Connection problems are logged once
 * per outage (warn), recovery at info; messages never contain a password. Without a logger the
 * client's 'error' events are still consumed so ioredis does not print them.
 */
export function createRedisClient(options: RedisClientOptions, logger?: RedisLogger): Redis {
  const client = new Redis(toIoredisOptions(options));
  const secrets = [options.password, options.sentinelPassword].filter((s): s is string => !!s);
  const context: ClientContext = { secrets, target: describeTarget(options) };
  registerClientContext(client, context);
  if (options.batchWrites) batchWritesPerTick(client);
  let down = false;
  let everReady = false;
  // After the first attempt (either outcome), commands fail at once while disconnected.
  const stopQueueing = (): void => {
    client.options.enableOfflineQueue = false;
  };
  client.once('ready', stopQueueing);
  client.once('error', stopQueueing);
  client.on('error', (err: unknown) => {
    const message = scrubSecrets(err instanceof Error ? err.message : String(err), secrets);
    context.lastConnectionError = message;
    if (down) return;
    down = true;
    logger?.warn({ redis: context.target, error: message }, 'redis connection problem');
  });
  client.on('close', () => {
    if (down || !everReady) return;
    down = true;
    context.lastConnectionError ??= 'connection closed';
    logger?.warn({ redis: context.target }, 'redis connection lost');
  });
  client.on('ready', () => {
    if (down || !everReady) {
      logger?.info({ redis: context.target }, everReady ? 'redis connection restored' : 'redis connected');
    }
    context.lastConnectionError = undefined;
    down = false;
    everReady = true;
  });
  return client;
}

/** Corks the connection's socket at a tick's first command and uncorks it once the tick's callbacks have run. */
function batchWritesPerTick(client: Redis): void {
  const sendCommand = client.sendCommand.bind(client);
  let corked: Redis['stream'] | undefined;
  client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const socket = client.stream;
    if (socket !== corked && client.status === 'ready' && socket.writable) {
      corked = socket;
      socket.cork();
      process.nextTick(() => {
        corked = undefined;
        socket.uncork();
      });
    }
    return sendCommand(...args);
  };
}

/** PING; resolves when Redis answers, rejects with RedisUnavailableError / RedisCommandError. */
export async function pingRedis(client: Redis): Promise<void> {
  await guard(client, () => client.ping());
}
