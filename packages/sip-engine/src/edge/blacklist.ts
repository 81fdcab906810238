import { createRedisClient, type Redis, type RedisClientOptions } from '@sbc/redis';
import type { TransportLogger } from '../transport/options.js';

/**
 * drachtio-server's Redis blacklist (`--blacklist-redis-*`, `drachtio.sip.blacklist`): the members
 * of a Redis set are source IPs whose traffic is dropped. Either a Redis address (port 6379 by
 * default) or sentinels with a master name, and always a key.
 */
export interface BlacklistConfig {
  redis:
    | { address: string; port: number }
    | { sentinels: readonly { host: string; port: number }[]; master: string };
  password?: string;
  key: string;
  /** How often the set is read again (drachtio's default 300 s from the command line). */
  refreshSecs: number;
}

/**
 * The blacklist as this engine holds it: SMEMBERS of the key every `refreshSecs` (drachtio's
 * polling, so a ban made by any app anywhere holds here within one interval). A failed read keeps
 * the last set and is logged once per outage; the engine never waits on Redis for a message.
 */
export class RedisBlacklist {
  private ips: ReadonlySet<string> = new Set();
  private client: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private loaded = false;

  constructor(
    readonly config: BlacklistConfig,
    private readonly logger: TransportLogger | undefined,
    private readonly onRefresh?: (size: number) => void,
  ) {}

  has(address: string): boolean {
    return this.ips.has(address);
  }

  get size(): number {
    return this.ips.size;
  }

  /** Connects and reads the set once (not failing when Redis is down: the engine starts anyway). */
  async start(): Promise<void> {
    const { redis, password } = this.config;
    const options: RedisClientOptions =
      'address' in redis
        ? { host: redis.address, port: redis.port, password }
        : {
            sentinels: [...redis.sentinels],
            sentinelMasterName: redis.master,
            password,
            sentinelPassword: password,
          };
    this.client = createRedisClient(options, this.logger);
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    client?.disconnect();
    return Promise.resolve();
  }

  /** Reads the set now (also what the timer does). */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const members = await client.smembers(this.config.key);
      this.ips = new Set(members);
      if (this.failing || !this.loaded)
        this.logger?.info({ key: this.config.key, size: members.length }, 'blacklist loaded');
      this.failing = false;
      this.loaded = true;
      this.onRefresh?.(members.length);
    } catch (err) {
      if (!this.failing) {
        this.logger?.warn(
          { key: this.config.key, err: err instanceof Error ? err.message : String(err) },
          'cannot read the blacklist from redis: keeping the last one read',
        );
      }
      this.failing = true;
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (this.client) this.schedule();
      });
    }, this.config.refreshSecs * 1000);
    this.timer.unref();
  }
}
