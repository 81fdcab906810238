import { clusterKey, toRedisError, type Redis, type ServerSets } from '@sbc/redis';
import type { FeatureServerEntry } from './cli-protocol.js';
import { hostOfMember, isDrainedMember } from './network.js';

/**
 * Draining feature servers. The state is jambonz's `<cluster>:drained-fs` set (bare IPs as jambonz's
 * CLI writes them, or `ip:port`), so every SBC instance, and a jambonz sidecar sharing the Redis,
 * honours it. Either form drains the `ip:port` members of `<cluster>:active-fs` it names.
 *
 * Our addition, `<cluster>:drained-fs:pinging` (hash `ip:port` → epoch ms of its last `open` ping),
 * remembers drained servers that still ping, so `fs list` can tell "drained" from
 * "drained-and-still-pinging" and `fs undrain` can put a live server back at once.
 */
export class FeatureServerDrain {
  readonly pingingKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly sets: ServerSets,
    private readonly options: {
      clusterId: string;
      /** EXPIRES_INTERVAL now: a ping older than this no longer counts as "still pinging". */
      expiresIntervalMs: () => number;
      now?: () => number;
    },
  ) {
    this.pingingKey = `${clusterKey(options.clusterId, 'drained-fs')}:pinging`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** True when the feature server at `member` (`ip:port`, address `ip`) is drained either way. */
  async isDrained(ip: string, member: string): Promise<boolean> {
    const hits = await this.guard(() => this.redis.smismember(this.sets.key('drained-fs'), ip, member));
    return hits.some((hit) => hit === 1);
  }

  /** A drained server pinged: `open` is remembered, `closed` forgotten. */
  async recordDrainedPing(member: string, open: boolean): Promise<void> {
    await this.guard(() =>
      open
        ? this.redis.hset(this.pingingKey, member, String(this.now()))
        : this.redis.hdel(this.pingingKey, member),
    );
  }

  /**
   * Drains `server` (canonical bare IP or `ip:port`): adds it to `drained-fs` and takes the
   * `active-fs` members it names out at once (jambonz waits for their next ping), remembering them
   * as still pinging. Resolves with the drained entries after the change.
   */
  async drain(server: string): Promise<string[]> {
    await this.sets.drain(server);
    const named = (await this.sets.members('active-fs')).filter(
      (m) => m === server || hostOfMember(m) === server,
    );
    for (const member of named) {
      const seen = (await this.sets.lastSeen('active-fs', member)) ?? this.now();
      await this.sets.remove('active-fs', member);
      await this.guard(() => this.redis.hset(this.pingingKey, member, String(seen)));
    }
    return this.drained();
  }

  /**
   * Undrains `server`: removes it from `drained-fs` and puts back the servers it named that pinged
   * `open` within EXPIRES_INTERVAL (with that ping as their last-seen time), unless another entry
   * still drains them. The others come back with their next `open` ping.
   */
  async undrain(server: string): Promise<string[]> {
    await this.sets.undrain(server);
    const drained = new Set(await this.sets.drained());
    const pinging = await this.guard(() => this.redis.hgetall(this.pingingKey));
    const cutoff = this.now() - this.options.expiresIntervalMs();
    for (const [member, raw] of Object.entries(pinging)) {
      if (member !== server && hostOfMember(member) !== server) continue;
      if (isDrainedMember(member, drained)) continue;
      const seen = Number(raw);
      if (Number.isFinite(seen) && seen >= cutoff) await this.sets.touch('active-fs', member, seen);
      await this.guard(() => this.redis.hdel(this.pingingKey, member));
    }
    return [...drained].sort();
  }

  async drained(): Promise<string[]> {
    return (await this.sets.drained()).sort();
  }

  /** `active-fs` minus the drained servers: where calls may go. */
  async available(): Promise<string[]> {
    const [active, drained] = await Promise.all([this.sets.members('active-fs'), this.sets.drained()]);
    const drainedSet = new Set(drained);
    return active.filter((m) => !isDrainedMember(m, drainedSet)).sort();
  }

  /**
   * Every feature server known: members of `active-fs` (active, or drained-and-still-pinging in
   * the moment before their next ping takes them out), drained servers that still ping, and drained
   * entries that match no server that pings (drained).
   */
  async list(): Promise<{ servers: FeatureServerEntry[]; drained: string[] }> {
    const [active, drainedList, pinging] = await Promise.all([
      this.sets.members('active-fs'),
      this.sets.drained(),
      this.guard(() => this.redis.hgetall(this.pingingKey)),
    ]);
    const drained = new Set(drainedList);
    const cutoff = this.now() - this.options.expiresIntervalMs();
    const servers = new Map<string, FeatureServerEntry>();
    for (const member of active) {
      const lastSeen = (await this.sets.lastSeen('active-fs', member)) ?? undefined;
      servers.set(member, {
        server: member,
        status: isDrainedMember(member, drained) ? 'drained-and-still-pinging' : 'active',
        ...(lastSeen !== undefined ? { lastSeen } : {}),
      });
    }
    for (const [member, raw] of Object.entries(pinging)) {
      const lastSeen = Number(raw);
      if (servers.has(member) || !isDrainedMember(member, drained) || !(lastSeen >= cutoff)) continue;
      servers.set(member, { server: member, status: 'drained-and-still-pinging', lastSeen });
    }
    const listed = [...servers.keys()];
    for (const entry of drained) {
      if (listed.some((m) => m === entry || hostOfMember(m) === entry)) continue;
      servers.set(entry, { server: entry, status: 'drained' });
    }
    return {
      servers: [...servers.values()].sort((a, b) => a.server.localeCompare(b.server)),
      drained: [...drained].sort(),
    };
  }

  /** Forgets drained servers that stopped pinging (run with the expiry sweep). */
  async forgetSilent(): Promise<number> {
    const pinging = await this.guard(() => this.redis.hgetall(this.pingingKey));
    const cutoff = this.now() - this.options.expiresIntervalMs();
    const silent = Object.entries(pinging)
      .filter(([, raw]) => !(Number(raw) >= cutoff))
      .map(([member]) => member);
    if (silent.length > 0) await this.guard(() => this.redis.hdel(this.pingingKey, ...silent));
    return silent.length;
  }

  /** Counts for /metrics: drained entries and drained servers still pinging. */
  async counts(): Promise<{ drained: number; drainedPinging: number }> {
    const { servers, drained } = await this.list();
    return {
      drained: drained.length,
      drainedPinging: servers.filter((s) => s.status === 'drained-and-still-pinging').length,
    };
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toRedisError(err);
    }
  }
}
