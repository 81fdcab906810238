import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisArgumentError, guard } from './errors.js';
import { regbotTokenKey } from './keys.js';
import { LuaScript } from './script.js';

export interface LeaderLockOptions {
  /** JAMBONES_CLUSTER_ID; unset or empty means `default`. */
  clusterId?: string;
  /** Key to lock; default `<cluster>:regbot-token`. */
  key?: string;
  /** This instance's token; default a random UUID. */
  token?: string;
}

/** PEXPIRE KEYS[1] ARGV[2] only while it still holds our token ARGV[1]. */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** DEL KEYS[1] only while it still holds our token ARGV[1]. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/**
 * Cluster-wide leader election on one key (jambonz: `<cluster>:regbot-token`, TTL 70 s, checked
 * every 60 s). Acquire is a single SET NX PX; renew and release are compare-and-act Lua scripts,
 * so an instance whose lease lapsed can never extend or delete the next leader's lock.
 */
export class LeaderLock {
  readonly key: string;
  readonly token: string;

  constructor(
    private readonly client: Redis,
    options: LeaderLockOptions = {},
  ) {
    this.key = options.key ?? regbotTokenKey(options.clusterId);
    this.token = options.token ?? randomUUID();
    if (this.token.length === 0) throw new RedisArgumentError('leader token must not be empty');
  }

  /** Takes the lock if nobody holds it. True when we hold it now (also if we already did). */
  async acquire(ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const reply = await guard(this.client, () => this.client.set(this.key, this.token, 'PX', ttlMs, 'NX'));
    if (reply === 'OK') return true;
    return this.renew(ttlMs);
  }

  /** Extends the lease to `ttlMs` if we still hold it. False when it lapsed or someone else holds it. */
  async renew(ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const reply = await guard(this.client, () => RENEW.run(this.client, [this.key], [this.token, ttlMs]));
    return reply === 1;
  }

  /** Deletes the lock if we hold it. False when we did not. */
  async release(): Promise<boolean> {
    const reply = await guard(this.client, () => RELEASE.run(this.client, [this.key], [this.token]));
    return reply === 1;
  }

  /** The current holder's token, or null when nobody holds the lock. */
  async holder(): Promise<string | null> {
    return guard(this.client, () => this.client.get(this.key));
  }

  async isHeld(): Promise<boolean> {
    return (await this.holder()) === this.token;
  }
}

function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0)
    throw new RedisArgumentError(`ttlMs must be a positive integer, got ${ttlMs}`);
}
