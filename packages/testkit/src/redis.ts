import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { startDaemon, type Daemon } from './daemon.js';
import { freeTcpPort } from './ports.js';
import { makeTempDir } from './tempdir.js';
import { waitUntil } from './wait.js';
import { parseHostPort } from './external.js';

export interface RedisService {
  readonly host: string;
  readonly port: number;
  /** Database index to use; 0 for a private server, a random 1–15 on an external one. */
  readonly db: number;
  /** True when this is the server named by SBC_TEST_REDIS rather than a private one. */
  readonly external: boolean;
  /** Process id and data directory of a private server (undefined for an external one). */
  readonly pid: number | undefined;
  readonly dataDir: string | undefined;
  /** The daemon's own output so far (empty for an external server). */
  output(): string;
  /** Stops the private server and removes its directory; on an external server, empties `db`. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  host?: string;
  /** Fixed port (the demo stack); a free one is picked otherwise. */
  port?: number;
  /** Keep data in this directory across restarts (the demo stack); tests use a temp dir, no persistence. */
  dataDir?: string;
}

/** RESP PING over a fresh socket: true once the server answers +PONG. */
export function redisAnswersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

/**
 * A private `redis-server` on loopback (no persistence), or the external one in
 * SBC_TEST_REDIS=host:port, in which case a random database index is used and flushed on stop.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisService> {
  const external = process.env.SBC_TEST_REDIS;
  if (external) return useExternalRedis(external);

  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freeTcpPort(host));
  const temp = options.dataDir ? undefined : makeTempDir('redis');
  const dir = options.dataDir ?? temp!.path;
  const persistence = options.dataDir ? ['--appendonly', 'yes'] : ['--save', '', '--appendonly', 'no'];
  const daemon: Daemon = startDaemon({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      '--bind',
      host,
      '--port',
      String(port),
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--loglevel',
      'warning',
      ...persistence,
    ],
  });
  try {
    await waitUntil(() => redisAnswersPing(host, port), {
      what: `redis-server on ${host}:${port}`,
      abort: daemon.exited,
    });
  } catch (err) {
    await daemon.stop();
    temp?.remove();
    throw err;
  }
  return {
    host,
    port,
    db: 0,
    external: false,
    pid: daemon.pid,
    dataDir: dir,
    output: () => daemon.output(),
    async stop() {
      await daemon.stop();
      temp?.remove();
    },
  };
}

async function useExternalRedis(spec: string): Promise<RedisService> {
  const { host, port } = parseHostPort(spec, 'SBC_TEST_REDIS');
  const db = 1 + Math.floor(Math.random() * 15);
  if (!(await redisAnswersPing(host, port))) {
    throw new Error(`SBC_TEST_REDIS=${spec}: no Redis answers PING there`);
  }
  return {
    host,
    port,
    db,
    external: true,
    pid: undefined,
    dataDir: undefined,
    output: () => '',
    async stop() {
      const client = new Redis({ host, port, db, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        await client.flushdb();
      } finally {
        client.disconnect();
      }
    },
  };
}
