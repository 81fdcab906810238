import type { Redis } from 'ioredis';
import { RedisArgumentError, RedisDataError, guard } from './errors.js';
import { authFailureKey, DEFAULT_SOURCE_BLACKLIST_KEY } from './keys.js';
import { LuaScript } from './script.js';

/** Why a source was banned. */
export type BanReason = 'auth-failures' | 'hook-blacklist' | 'manual';

/** A banned source as `list()` reports it. */
export interface SourceBan {
  ip: string;
  /** ms since the epoch when the ban ends; undefined: until removed. */
  expiresAt?: number;
  reason?: BanReason | (string & {});
  /** ms since the epoch when it was banned. */
  since?: number;
}

/** The outcome of one authentication failure. */
export interface AuthFailureCount {
  /** Failures from this source in the current window, this one included. */
  failures: number;
  /** This failure crossed the threshold and the source was not banned before: it is now. */
  banned: boolean;
}

export interface SourceBansOptions {
  /** The set the engines read (default `blacklist-sip-ips`). */
  key?: string;
}

// KEYS: counter, set, expiries, details. ARGV: limit, windowMs, banMs, now, ip, details.
const AUTH_FAILURE = new LuaScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n < tonumber(ARGV[1]) then return {n, 0} end
redis.call('DEL', KEYS[1])
local added = redis.call('SADD', KEYS[2], ARGV[5])
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]) + tonumber(ARGV[3]), ARGV[5])
redis.call('HSET', KEYS[4], ARGV[5], ARGV[6])
return {n, added}
`);

// KEYS: set, expiries, details. ARGV: ip, expiresAt (0: none), details.
const BAN = new LuaScript(`
local added = redis.call('SADD', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return added
`);

// KEYS: set, expiries, details. ARGV: now.
const EXPIRE = new LuaScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, ip in ipairs(due) do
  redis.call('SREM', KEYS[1], ip)
  redis.call('HDEL', KEYS[3], ip)
end
if #due > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1]) end
return due
`);

/**
 * Banned source IPs, shared by every SBC: the set `<key>` is what drachtio-server (and our engine)
 * read with SMEMBERS every refresh interval; a set cannot expire its members, so a sorted set
 * `<key>:expires` (score = end of the ban, ms) and a hash `<key>:details` (why and since when) keep
 * the bookkeeping, and `expire()` — run periodically by the apps — removes bans that are over.
 * Authentication failures are counted per IP in `auth-failures:<ip>` (a counter living one window).
 */
export class SourceBans {
  readonly key: string;
  private readonly expiriesKey: string;
  private readonly detailsKey: string;

  constructor(
    private readonly client: Redis,
    options: SourceBansOptions = {},
  ) {
    this.key = options.key ?? DEFAULT_SOURCE_BLACKLIST_KEY;
    this.expiriesKey = `${this.key}:expires`;
    this.detailsKey = `${this.key}:details`;
  }

  /**
   * One authentication failure from `ip`, in one round trip: counted over `windowMs`; the one that
   * reaches `limit` bans the source for `banMs` (and resets its count).
   */
  async authFailure(
    ip: string,
    limits: { limit: number; windowMs: number; banMs: number },
    now: number = Date.now(),
  ): Promise<AuthFailureCount> {
    const { limit, windowMs, banMs } = limits;
    if (!(limit >= 1 && windowMs >= 1 && banMs >= 1)) {
      throw new RedisArgumentError(
        `limit, windowMs and banMs must be positive (${limit}, ${windowMs}, ${banMs})`,
      );
    }
    const details = JSON.stringify({ reason: 'auth-failures', since: now });
    const reply = await guard(this.client, () =>
      AUTH_FAILURE.run(
        this.client,
        [authFailureKey(ip), this.key, this.expiriesKey, this.detailsKey],
        [limit, windowMs, banMs, now, ip, details],
      ),
    );
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new RedisDataError('unexpected reply to the auth-failure script', authFailureKey(ip));
    return { failures: Number(reply[0]), banned: Number(reply[1]) === 1 };
  }

  /** Bans `ip` (for `banMs`, or until removed when undefined). True when it was not banned before. */
  async ban(ip: string, reason: BanReason, banMs?: number, now: number = Date.now()): Promise<boolean> {
    if (banMs !== undefined && !(banMs >= 1))
      throw new RedisArgumentError(`banMs must be positive, got ${banMs}`);
    const expiresAt = banMs === undefined ? 0 : now + banMs;
    const details = JSON.stringify({ reason, since: now });
    const added = await guard(this.client, () =>
      BAN.run(this.client, [this.key, this.expiriesKey, this.detailsKey], [ip, expiresAt, details]),
    );
    return Number(added) === 1;
  }

  /** Lifts the ban on `ip` and forgets its failures. True when it was banned. */
  async unban(ip: string): Promise<boolean> {
    const results = await guard(this.client, () =>
      this.client
        .multi()
        .srem(this.key, ip)
        .zrem(this.expiriesKey, ip)
        .hdel(this.detailsKey, ip)
        .del(authFailureKey(ip))
        .exec(),
    );
    const removed = results?.[0]?.[1];
    return Number(removed) === 1;
  }

  /** Every banned source, with when its ban ends and why, sorted by IP. */
  async list(): Promise<SourceBan[]> {
    const [members, expiries, details] = await guard(this.client, () =>
      Promise.all([
        this.client.smembers(this.key),
        this.client.zrange(this.expiriesKey, 0, -1, 'WITHSCORES'),
        this.client.hgetall(this.detailsKey),
      ]),
    );
    const ends = new Map<string, number>();
    for (let i = 0; i + 1 < expiries.length; i += 2) ends.set(expiries[i]!, Number(expiries[i + 1]));
    return members.sort().map((ip) => {
      const ban: SourceBan = { ip };
      const end = ends.get(ip);
      if (end !== undefined) ban.expiresAt = end;
      try {
        const d = JSON.parse(details[ip] ?? '{}') as { reason?: string; since?: number };
        if (d.reason) ban.reason = d.reason;
        if (typeof d.since === 'number') ban.since = d.since;
      } catch {
        /* details written by something else: the ban itself stands */
      }
      return ban;
    });
  }

  /** Removes the bans that ended by `now`; resolves with their IPs. Safe on every instance at once. */
  async expire(now: number = Date.now()): Promise<string[]> {
    const due = await guard(this.client, () =>
      EXPIRE.run(this.client, [this.key, this.expiriesKey, this.detailsKey], [now]),
    );
    return Array.isArray(due) ? due.map(String) : [];
  }
}
