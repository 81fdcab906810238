/** How many messages a source may send per window, and how long it is dropped once past that. */
export interface RateLimit {
  /** Messages per window (every datagram, stream message and new connection counts). */
  requests: number;
  windowMs: number;
  banMs: number;
}

/** The verdict for one message. */
export type RateVerdict = 'pass' | 'banned' | 'banned-now';

interface SourceCount {
  windowStart: number;
  current: number;
  previous: number;
  bannedUntil: number;
}

/** Sources tracked at most: a spoofed-source UDP flood must not grow the table without bound. */
const DEFAULT_MAX_SOURCES = 100_000;

/**
 * Kamailio's pike, per source address: a sliding window (the previous fixed window weighted by how
 * much of it still overlaps, plus the current one), and a source past `requests` in a window is
 * dropped for `banMs`. The table is bounded: past `maxSources`, the oldest sources that are not
 * banned are forgotten first.
 */
export class SourceRateLimiter {
  private readonly sources = new Map<string, SourceCount>();

  constructor(
    readonly limit: RateLimit,
    private readonly maxSources = DEFAULT_MAX_SOURCES,
  ) {}

  /** Counts one message from `address` at `now` (ms). */
  hit(address: string, now: number): RateVerdict {
    let count = this.sources.get(address);
    if (count === undefined) {
      if (this.sources.size >= this.maxSources) this.makeRoom(now);
      count = { windowStart: now, current: 0, previous: 0, bannedUntil: 0 };
      this.sources.set(address, count);
    }
    if (count.bannedUntil > now) return 'banned';
    const { windowMs, requests } = this.limit;
    const elapsed = now - count.windowStart;
    if (elapsed >= windowMs) {
      count.previous = elapsed >= 2 * windowMs ? 0 : count.current;
      count.windowStart = elapsed >= 2 * windowMs ? now : count.windowStart + windowMs;
      count.current = 0;
    }
    count.current++;
    const overlap = 1 - (now - count.windowStart) / windowMs;
    if (count.previous * overlap + count.current <= requests) return 'pass';
    count.bannedUntil = now + this.limit.banMs;
    count.current = 0;
    count.previous = 0;
    return 'banned-now';
  }

  /** Sources banned right now. */
  banned(now: number): string[] {
    const out: string[] = [];
    for (const [address, count] of this.sources) if (count.bannedUntil > now) out.push(address);
    return out;
  }

  get size(): number {
    return this.sources.size;
  }

  /** Forgets sources quiet for two windows and not banned. */
  sweep(now: number): void {
    const stale = 2 * this.limit.windowMs;
    for (const [address, count] of this.sources) {
      if (count.bannedUntil <= now && now - count.windowStart >= stale) this.sources.delete(address);
    }
  }

  private makeRoom(now: number): void {
    this.sweep(now);
    if (this.sources.size < this.maxSources) return;
    // still full of active sources: forget the oldest tenth that are not banned (Map keeps insertion order)
    let toDrop = Math.ceil(this.maxSources / 10);
    for (const [address, count] of this.sources) {
      if (toDrop === 0) break;
      if (count.bannedUntil > now) continue;
      this.sources.delete(address);
      toDrop--;
    }
  }
}
