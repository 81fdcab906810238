/**
 * Short-lived cache of read results, keyed by SQL text and parameters (what jambonz's
 * JAMBONES_MYSQL_REFRESH_TTL does). Hits are deep copies, so a caller changing a row it got
 * cannot change what the next caller sees.
 */
export class ReadCache {
  private readonly entries = new Map<string, { expiresAt: number; rows: unknown[] }>();
  private readonly ttlMs: number;

  constructor(
    ttlSeconds: number,
    private readonly maxEntries = 10_000,
  ) {
    this.ttlMs = ttlSeconds * 1000;
  }

  static key(sql: string, params: readonly unknown[]): string {
    return `${sql}\u0000${JSON.stringify(params)}`;
  }

  get(key: string): unknown[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return structuredClone(entry.rows);
  }

  set(key: string, rows: unknown[]): void {
    const now = Date.now();
    // Re-inserted at the end: with one TTL for all entries, Map order is then expiry order, so
    // dropping expired entries only ever looks at the oldest ones (O(1) amortized, even when the
    // cache is full of live entries, as with 10,000 distinct SIP users).
    this.entries.delete(key);
    this.pruneExpired(now);
    // Still full of live entries: forget the oldest one.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { expiresAt: now + this.ttlMs, rows: structuredClone(rows) });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the oldest on, up to the first live one. */
  private pruneExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
