interface Entry {
  expiresAt: number;
  rows: readonly unknown[];
  /** No row holds an object value (Date, Buffer, JSON): a shallow copy of each row is a full copy. */
  flat: boolean;
}

/**
 * Short-lived cache of read results, keyed by SQL text and parameters (what jambonz's
 * JAMBONES_MYSQL_REFRESH_TTL does). Hits are deep copies, so a caller changing a row it got
 * cannot change what the next caller sees. Concurrent misses of one key share one query.
 */
export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  /** Queries in flight, by key: callers missing the same key wait for the same query. */
  private readonly pending = new Map<string, Promise<readonly unknown[]>>();
  /** Bumped by clear(): a query started before it must not fill the cache after it. */
  private generation = 0;
  /**
   * A short number per SQL text, so keys are short strings, cheap to hash per call. (Looking up a
   * long SQL text is cheap only when it is one string object, e.g. a module constant: V8 keeps its hash.)
   */
  private readonly sqlIds = new Map<string, number>();
  private nextSqlId = 0;
  private readonly ttlMs: number;

  constructor(
    ttlSeconds: number,
    private readonly maxEntries = 10_000,
  ) {
    this.ttlMs = ttlSeconds * 1000;
  }

  key(sql: string, params: readonly unknown[]): string {
    let id = this.sqlIds.get(sql);
    if (id === undefined) {
      // Bounded like the entries; ids are never reused, so a forgotten SQL text gets a new one.
      if (this.sqlIds.size >= this.maxEntries) this.sqlIds.clear();
      id = this.nextSqlId++;
      this.sqlIds.set(sql, id);
    }
    return `${String(id)}\u0000${JSON.stringify(params)}`;
  }

  get(key: string): unknown[] | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.flat ? entry.rows.map(copyFlatRow) : entry.rows.map(copyValue);
  }

  set(key: string, rows: readonly unknown[]): void {
    this.store(key, rows.map(copyValue));
  }

  /**
   * The cached rows of `key`, else those of `query()`, run once for every caller that misses `key`
   * while it is in flight. Each caller gets its own copy; a failed query rejects every waiter and
   * caches nothing.
   */
  async load(key: string, query: () => Promise<readonly unknown[]>): Promise<unknown[]> {
    const hit = this.get(key);
    if (hit) return hit;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.startQuery(key, query);
      this.pending.set(key, pending);
    }
    return (await pending).map(copyValue);
  }

  clear(): void {
    this.entries.clear();
    this.pending.clear();
    this.generation++;
  }

  get size(): number {
    return this.entries.size;
  }

  private startQuery(key: string, query: () => Promise<readonly unknown[]>): Promise<readonly unknown[]> {
    const generation = this.generation;
    const pending = query()
      .then((rows) => {
        // Stored as they came: nobody else holds them, every caller gets a copy.
        if (generation === this.generation) this.store(key, rows);
        return rows;
      })
      .finally(() => {
        if (this.pending.get(key) === pending) this.pending.delete(key);
      });
    return pending;
  }

  private store(key: string, rows: readonly unknown[]): void {
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
    this.entries.set(key, { expiresAt: now + this.ttlMs, rows, flat: rows.every(isFlatRow) });
  }

  /** Drops expired entries from the oldest on, up to the first live one. */
  private pruneExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}

type Row = Record<string, unknown>;

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isFlatRow(row: unknown): boolean {
  if (!isObject(row) || Array.isArray(row)) return false;
  for (const key in row) if (isObject((row as Row)[key])) return false;
  return true;
}

function copyFlatRow(row: unknown): unknown {
  return { ...(row as Row) };
}

/**
 * A deep copy of a row value: primitives, null, Date, Buffer and JSON (plain objects and arrays),
 * which is all mysql2 hands out. Much cheaper than structuredClone.
 */
function copyValue(value: unknown): unknown {
  if (!isObject(value)) return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return structuredClone(value);
  if (Array.isArray(value)) return value.map(copyValue);
  const copy: Row = { ...(value as Row) };
  for (const key in copy) {
    const inner = copy[key];
    if (isObject(inner)) copy[key] = copyValue(inner);
  }
  return copy;
}
