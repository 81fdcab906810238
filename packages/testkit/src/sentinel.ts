/**
 * A Redis primary, a replica and three `redis-sentinel` processes on loopback (Debian's
 * `redis-sentinel`), for failover tests: kill the primary, the sentinels promote the replica, clients
 * configured with JAMBONES_REDIS_SENTINELS follow. Ports are picked free; config files and data live in
 * one temp dir removed at `stop()`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startDaemon, type Daemon } from './daemon.js';
import { freeTcpPort } from './ports.js';
import { redisAnswersPing } from './redis.js';
import { makeTempDir } from './tempdir.js';
import { waitUntil } from './wait.js';

export interface HostPort {
  host: string;
  port: number;
}

/** One redis-server of the cluster (primary or replica: roles move on failover). */
export interface SentinelRedisNode extends HostPort {
  /** Process id, or undefined while the node is killed. */
  readonly pid: number | undefined;
  readonly alive: boolean;
  /** SIGKILL (default) or SIGTERM; resolves once the process is gone. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts the node again on its port, empty (no persistence); the sentinels make it a replica. */
  restart(): Promise<void>;
  output(): string;
}

export interface RedisSentinelCluster {
  readonly masterName: string;
  readonly sentinels: readonly HostPort[];
  /** [the initial primary, the initial replica]. */
  readonly nodes: readonly SentinelRedisNode[];
  /** JAMBONES_REDIS_SENTINELS and JAMBONES_REDIS_SENTINEL_MASTER_NAME for an app. */
  readonly env: Record<string, string>;
  /** The primary as the sentinels report it now (asks each sentinel until one answers). */
  primary(): Promise<HostPort>;
  /** The node that is the primary now. */
  primaryNode(): Promise<SentinelRedisNode>;
  /** Waits until the sentinels report a primary other than `old`, that answers as a master. */
  waitForFailover(old: HostPort, timeoutMs?: number): Promise<HostPort>;
  /** A direct client of one node (not through the sentinels): for checking what each node holds. */
  connectTo(node: HostPort): Redis;
  /** A client that follows the sentinels, like the apps. */
  connect(): Redis;
  /**
   * What the sentinels announced since the cluster started (`+sdown`, `+odown`, `+switch-master`,
   * `+convert-to-slave`…), from their pub/sub channels, oldest first: to tell a failover a test
   * caused from one the sentinels started on their own (e.g. on a starved machine).
   */
  events(): readonly SentinelEvent[];
  stop(): Promise<void>;
}

export interface SentinelEvent {
  /** Date.now() when it was received. */
  at: number;
  /** The sentinel that announced it (port). */
  sentinel: number;
  /** The channel: `+switch-master`, `+sdown`, … */
  type: string;
  message: string;
}

/** Sentinel event channels worth keeping (the others are hello/tilt chatter). */
const SENTINEL_EVENTS = new Set([
  '+sdown',
  '-sdown',
  '+odown',
  '-odown',
  '+try-failover',
  '+elected-leader',
  '+promoted-slave',
  '+switch-master',
  '+convert-to-slave',
  '+reboot',
  '+tilt',
  '-tilt',
]);

export interface StartRedisSentinelClusterOptions {
  /** Default `sbc-test`. */
  masterName?: string;
  /** Sentinel `down-after-milliseconds`; default 1000. */
  downAfterMs?: number;
  /** Sentinel `failover-timeout`; default 5000. */
  failoverTimeoutMs?: number;
}

const HOST = '127.0.0.1';

function redisArgs(port: number, dir: string, replicaOf?: number): string[] {
  return [
    '--bind',
    HOST,
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
    '--save',
    '',
    '--appendonly',
    'no',
    // A replica restarted empty must not serve reads before it synced.
    '--replica-serve-stale-data',
    'no',
    // Full syncs start at once (the default waits 5 s for more replicas to join).
    '--repl-diskless-sync-delay',
    '0',
    ...(replicaOf !== undefined ? ['--replicaof', HOST, String(replicaOf)] : []),
  ];
}

async function ask<T>(target: HostPort, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: target.host,
    port: target.port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 1000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
}

/** Starts the primary, the replica (synced) and three sentinels (quorum 2) that all see both. */
export async function startRedisSentinelCluster(
  options: StartRedisSentinelClusterOptions = {},
): Promise<RedisSentinelCluster> {
  const masterName = options.masterName ?? 'sbc-test';
  const temp = makeTempDir('sentinel');
  const daemons = new Set<Daemon>();
  const track = (daemon: Daemon): Daemon => {
    daemons.add(daemon);
    return daemon;
  };

  const makeNode = async (index: number, replicaOf?: number): Promise<SentinelRedisNode> => {
    const port = await freeTcpPort(HOST);
    const dir = join(temp.path, `redis-${index}`);
    mkdirSync(dir, { recursive: true });
    let daemon: Daemon | undefined;
    const start = async (of?: number): Promise<void> => {
      const d = track(
        startDaemon({
          name: `redis-server #${index}`,
          command: 'redis-server',
          args: redisArgs(port, dir, of),
        }),
      );
      daemon = d;
      await waitUntil(() => redisAnswersPing(HOST, port), {
        what: `redis-server on ${HOST}:${port}`,
        abort: d.exited,
      });
    };
    await start(replicaOf);
    return {
      host: HOST,
      port,
      get pid() {
        return daemon?.pid;
      },
      get alive() {
        return daemon !== undefined;
      },
      async kill(signal = 'SIGKILL') {
        const d = daemon;
        if (!d) return;
        daemon = undefined;
        if (signal === 'SIGKILL') {
          try {
            process.kill(d.pid, 'SIGKILL');
          } catch {
            // already gone
          }
          await d.exited.catch(() => undefined);
        } else {
          await d.stop();
        }
        daemons.delete(d);
      },
      async restart() {
        if (daemon) return;
        await start();
      },
      output: () => daemon?.output() ?? '',
    };
  };

  try {
    const primary = await makeNode(0);
    const replica = await makeNode(1, primary.port);
    await waitUntil(
      () =>
        ask(replica, async (c) => /master_link_status:up/.test(await c.info('replication'))).catch(
          () => false,
        ),
      { what: 'the replica to sync with the primary' },
    );

    // Each sentinel is told its id, the replica and the other sentinels up front (as a config rewrite
    // would have recorded them): discovering them through hello messages takes seconds.
    const ids = [0, 1, 2].map(() => randomBytes(20).toString('hex'));
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) ports.push(await freeTcpPort(HOST));
    const sentinels: HostPort[] = [];
    for (let i = 0; i < 3; i++) {
      const port = ports[i]!;
      const conf = join(temp.path, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `bind ${HOST}`,
          `port ${port}`,
          'daemonize no',
          'protected-mode no',
          `dir ${temp.path}`,
          'loglevel warning',
          `sentinel monitor ${masterName} ${HOST} ${primary.port} 2`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 5000}`,
          `sentinel parallel-syncs ${masterName} 1`,
          `sentinel myid ${ids[i]}`,
          `sentinel known-replica ${masterName} ${HOST} ${replica.port}`,
          ...[0, 1, 2]
            .filter((j) => j !== i)
            .map((j) => `sentinel known-sentinel ${masterName} ${HOST} ${ports[j]} ${ids[j]}`),
          '',
        ].join('\n'),
      );
      const d = track(startDaemon({ name: `redis-sentinel #${i}`, command: 'redis-sentinel', args: [conf] }));
      await waitUntil(() => redisAnswersPing(HOST, port), {
        what: `redis-sentinel on ${HOST}:${port}`,
        abort: d.exited,
      });
      sentinels.push({ host: HOST, port });
    }
    const nodes = [primary, replica];

    const events: SentinelEvent[] = [];
    const listeners: Redis[] = [];
    for (const s of sentinels) {
      const listener = new Redis({ host: s.host, port: s.port, maxRetriesPerRequest: 1 });
      listener.on('error', () => undefined);
      listener.on('pmessage', (_pattern: string, channel: string, message: string) => {
        if (SENTINEL_EVENTS.has(channel))
          events.push({ at: Date.now(), sentinel: s.port, type: channel, message });
      });
      await listener.psubscribe('*');
      listeners.push(listener);
    }

    const primaryOf = async (): Promise<HostPort> => {
      let lastError: unknown;
      for (const s of sentinels) {
        try {
          const reply = (await ask(s, (c) => c.call('SENTINEL', 'get-master-addr-by-name', masterName))) as
            [string, string] | null;
          if (reply) return { host: reply[0], port: Number(reply[1]) };
        } catch (err) {
          lastError = err;
        }
      }
      throw new Error(`no sentinel reports a primary for ${masterName}`, { cause: lastError });
    };

    // Every sentinel must know the replica and the other sentinels before a failover can work.
    await waitUntil(
      async () => {
        for (const s of sentinels) {
          const ok = await ask(s, async (c) => {
            const master = (await c.call('SENTINEL', 'master', masterName)) as string[];
            const field = (name: string) => master[master.indexOf(name) + 1];
            return Number(field('num-slaves')) >= 1 && Number(field('num-other-sentinels')) >= 2;
          }).catch(() => false);
          if (!ok) return false;
        }
        return true;
      },
      { what: 'the sentinels to discover the replica and each other', timeoutMs: 20_000, intervalMs: 100 },
    );

    return {
      masterName,
      sentinels,
      nodes,
      env: {
        JAMBONES_REDIS_SENTINELS: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
        JAMBONES_REDIS_SENTINEL_MASTER_NAME: masterName,
      },
      primary: primaryOf,
      async primaryNode() {
        const p = await primaryOf();
        const node = nodes.find((n) => n.port === p.port);
        if (!node) throw new Error(`the primary ${p.host}:${p.port} is none of the cluster's nodes`);
        return node;
      },
      async waitForFailover(old, timeoutMs = 20_000) {
        let found: HostPort | undefined;
        await waitUntil(
          async () => {
            const p = await primaryOf();
            if (p.port === old.port) return false;
            const role = await ask(p, async (c) => (await c.call('ROLE')) as unknown[]);
            if (role[0] !== 'master') return false;
            found = p;
            return true;
          },
          { what: `a new primary for ${masterName}`, timeoutMs, intervalMs: 50 },
        );
        return found!;
      },
      connectTo: (node) => new Redis({ host: node.host, port: node.port, maxRetriesPerRequest: 1 }),
      connect: () =>
        new Redis({ sentinels: sentinels.map((s) => ({ ...s })), name: masterName, maxRetriesPerRequest: 1 }),
      events: () => events,
      async stop() {
        for (const listener of listeners) listener.disconnect();
        await Promise.all([...daemons].map((d) => d.stop()));
        daemons.clear();
        temp.remove();
      },
    };
  } catch (err) {
    await Promise.all([...daemons].map((d) => d.stop()));
    temp.remove();
    throw err;
  }
}
