import type { Redis } from 'ioredis';
import { RedisArgumentError, guard } from './errors.js';
import { LuaScript } from './script.js';

/** SADD + EXPIRE, atomically; a script so that ioredis auto-pipelines it with the tick's other commands. */
const CLAIM = new LuaScript(`
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return added`);

export interface NonceStoreOptions {
  /** Key prefix of the per-nonce set of used nonce-counts. Default `digest-nonce:`. */
  prefix?: string;
}

/**
 * Digest replay protection (RFC 7616 §3.3, §5.12; RFC 2617 §3.2.2): each (nonce, nonce-count)
 * pair may be used once. Each nonce owns a Redis set `<prefix><nonce>` of the counts already seen;
 * the set lives `ttlSeconds` after the latest claim, so size it to the nonce lifetime.
 */
export class NonceStore {
  private readonly prefix: string;

  constructor(
    private readonly client: Redis,
    options: NonceStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'digest-nonce:';
  }

  /** Resolves true the first time (nonce, nc) is claimed, false for a replay. */
  async claim(nonce: string, nc: number, ttlSeconds: number): Promise<boolean> {
    if (nonce.length === 0) throw new RedisArgumentError('nonce must not be empty');
    if (!Number.isSafeInteger(nc) || nc < 0) throw new RedisArgumentError(`invalid nonce-count ${nc}`);
    if (!(ttlSeconds > 0)) throw new RedisArgumentError(`ttlSeconds must be positive, got ${ttlSeconds}`);
    const key = `${this.prefix}${nonce}`;
    const added = await guard(this.client, () =>
      CLAIM.run(this.client, [key], [String(nc), Math.ceil(ttlSeconds)]),
    );
    return added === 1;
  }
}
