import type { Redis } from 'ioredis';
import { RedisArgumentError, execResult, guard } from './errors.js';
import { clusterKey } from './keys.js';
import { LuaScript } from './script.js';

/**
 * The cluster-wide server sets. Readers (sbc-inbound, feature servers, api-server, rtpengine
 * sidecars) see plain Redis sets, exactly as in jambonz:
 * - `active-fs`: feature servers `ip:port` that answered OPTIONS with X-FS-Status: open
 * - `drained-fs`: feature server IPs an operator drained (bare IPs; see `isDrained`)
 * - `active-rtp`: rtpengine IPs (X-RTP-Status: open)
 * - `active-sip`: private `ip:port` of the SBCs
 * - `fs-service-url`: X-FS-ServiceUrl values
 */
export type ServerSetName = 'active-fs' | 'drained-fs' | 'active-rtp' | 'active-sip' | 'fs-service-url';

export interface ServerSetsOptions {
  /** JAMBONES_CLUSTER_ID; unset or empty means `default`, as in jambonz. */
  clusterId?: string;
}

/**
 * Removes members of set KEYS[1] whose last-seen time in hash KEYS[2] is older than ARGV[1] (ms).
 * A member with no last-seen entry (added by a writer that does not keep one) is adopted with
 * ARGV[2] (now), so it expires one period later unless someone touches it. Last-seen entries of
 * members no longer in the set are dropped. Returns the removed members.
 */
const SWEEP = new LuaScript(`
local cutoff = tonumber(ARGV[1])
local now = ARGV[2]
local removed = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local seen = tonumber(redis.call('HGET', KEYS[2], member))
  if seen == nil then
    redis.call('HSET', KEYS[2], member, now)
  elseif seen < cutoff then
    redis.call('SREM', KEYS[1], member)
    redis.call('HDEL', KEYS[2], member)
    removed[#removed + 1] = member
  end
end
for _, member in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('SISMEMBER', KEYS[1], member) == 0 then
    redis.call('HDEL', KEYS[2], member)
  end
end
return removed
`);

/**
 * Typed access to the `<cluster>:<set>` server sets. Last-seen times live in Redis, in a hash
 * `<cluster>:<set>:lastseen` (member → epoch ms, the layout newer jambonz sidecars use), so every
 * SBC instance refreshes and expires members from the same data.
 */
export class ServerSets {
  private readonly clusterId: string | undefined;

  constructor(
    private readonly client: Redis,
    options: ServerSetsOptions = {},
  ) {
    this.clusterId = options.clusterId;
  }

  /** `<cluster>:<set>`. */
  key(set: ServerSetName): string {
    return clusterKey(this.clusterId, set);
  }

  /** `<cluster>:<set>:lastseen`. */
  lastSeenKey(set: ServerSetName): string {
    return `${this.key(set)}:lastseen`;
  }

  /** Adds `member` (if absent) and records it as seen at `nowMs`. Resolves true when it was new. */
  async touch(set: ServerSetName, member: string, nowMs: number = Date.now()): Promise<boolean> {
    checkMember(member);
    const key = this.key(set);
    const results = await guard(this.client, () =>
      this.client
        .multi()
        .sadd(key, member)
        .hset(this.lastSeenKey(set), member, String(Math.floor(nowMs)))
        .exec(),
    );
    return execResult(this.client, results, 0) === 1;
  }

  /** Removes `member` and its last-seen time. Resolves true when it was a member. */
  async remove(set: ServerSetName, member: string): Promise<boolean> {
    const key = this.key(set);
    const results = await guard(this.client, () =>
      this.client.multi().srem(key, member).hdel(this.lastSeenKey(set), member).exec(),
    );
    return execResult(this.client, results, 0) === 1;
  }

  /** Replaces the whole set (jambonz `createSet`: DEL + SADD in one MULTI), all seen at `nowMs`. */
  async replace(set: ServerSetName, members: readonly string[], nowMs: number = Date.now()): Promise<void> {
    members.forEach(checkMember);
    const key = this.key(set);
    const lastSeenKey = this.lastSeenKey(set);
    const multi = this.client.multi().del(key, lastSeenKey);
    if (members.length > 0) {
      const seen = String(Math.floor(nowMs));
      multi.sadd(key, ...members).hset(lastSeenKey, Object.fromEntries(members.map((m) => [m, seen])));
    }
    const results = await guard(this.client, () => multi.exec());
    for (let i = 0; i < (members.length > 0 ? 3 : 1); i++) execResult(this.client, results, i);
  }

  async members(set: ServerSetName): Promise<string[]> {
    return guard(this.client, () => this.client.smembers(this.key(set)));
  }

  async isMember(set: ServerSetName, member: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.sismember(this.key(set), member))) === 1;
  }

  /** SCARD: what jambonz returns in `X-Members`. */
  async count(set: ServerSetName): Promise<number> {
    return guard(this.client, () => this.client.scard(this.key(set)));
  }

  /** Last-seen time (epoch ms) of `member`, or null when none is recorded. */
  async lastSeen(set: ServerSetName, member: string): Promise<number | null> {
    const raw = await guard(this.client, () => this.client.hget(this.lastSeenKey(set), member));
    if (raw === null) return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  /**
   * Atomically removes members not seen for more than `olderThanMs` (jambonz EXPIRES_INTERVAL,
   * 60000) from the set and its last-seen hash. Resolves with the removed members.
   */
  async sweep(set: ServerSetName, olderThanMs: number, nowMs: number = Date.now()): Promise<string[]> {
    if (!(olderThanMs >= 0)) throw new RedisArgumentError(`olderThanMs must be >= 0, got ${olderThanMs}`);
    const cutoff = Math.floor(nowMs - olderThanMs);
    const removed = await guard(this.client, () =>
      SWEEP.run(this.client, [this.key(set), this.lastSeenKey(set)], [cutoff, Math.floor(nowMs)]),
    );
    return Array.isArray(removed) ? removed.map(String) : [];
  }

  /** Adds a feature server to `drained-fs` (jambonz stores the bare IP). True when newly drained. */
  async drain(server: string): Promise<boolean> {
    checkMember(server);
    return (await guard(this.client, () => this.client.sadd(this.key('drained-fs'), server))) === 1;
  }

  /** Removes a feature server from `drained-fs`. True when it was drained. */
  async undrain(server: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.srem(this.key('drained-fs'), server))) === 1;
  }

  async drained(): Promise<string[]> {
    return this.members('drained-fs');
  }

  /** True when the bare `ip`, or `ip:port` when a port is given, is in `drained-fs`. */
  async isDrained(ip: string, port?: number): Promise<boolean> {
    const candidates = port === undefined ? [ip] : [ip, `${ip}:${port}`];
    const hits = await guard(this.client, () =>
      this.client.smismember(this.key('drained-fs'), ...candidates),
    );
    return hits.some((hit) => hit === 1);
  }

  /** `active-fs` members that are not drained, by bare IP or by `ip:port`. */
  async availableFeatureServers(): Promise<string[]> {
    const [active, drained] = await Promise.all([this.members('active-fs'), this.drained()]);
    const drainedSet = new Set(drained);
    return active.filter((member) => !drainedSet.has(member) && !drainedSet.has(hostOf(member)));
  }
}

/** Host part of `ip:port`, `[v6]:port` or a bare address. */
export function hostOf(member: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(member);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const colons = member.split(':').length - 1;
  if (colons === 1) return member.slice(0, member.indexOf(':'));
  return member;
}

function checkMember(member: string): void {
  if (member.length === 0) throw new RedisArgumentError('a server set member must not be empty');
}
