/**
 * The points of one database on their way to InfluxDB: a bounded buffer, one write in flight at a
 * time, retries on the commit interval while InfluxDB is slow or down, drops (oldest first) past the
 * bound. Nothing here throws or rejects towards the caller.
 */
import type { IPoint, InfluxDB } from 'influx';
import type { Logger } from '@sbc/service';
import type { Database } from './measurements.js';

export interface BatcherCounters {
  written(database: Database, points: number): void;
  dropped(database: Database, points: number): void;
  failed(database: Database): void;
  /** The buffer's length now (a gauge). */
  buffered(database: Database, points: number): void;
}

export interface BatcherOptions {
  client: InfluxDB;
  database: Database;
  logger: Logger;
  counters: BatcherCounters;
  /** A write starts as soon as this many points wait (unless InfluxDB is failing). */
  commitSize: number;
  /** Points kept while InfluxDB is unreachable; older ones are dropped past it. */
  maxBufferedPoints: number;
  /** Points per HTTP write. */
  maxBatchPoints: number;
}

export interface BatcherStats {
  buffered: number;
  written: number;
  dropped: number;
  failures: number;
}

/** HTTP status of a write InfluxDB refused (4xx: bad points, retrying cannot help). */
function refusedStatus(err: unknown): number | undefined {
  const status = (err as { res?: { statusCode?: number } } | null)?.res?.statusCode;
  return status !== undefined && status >= 400 && status < 500 ? status : undefined;
}

export class Batcher {
  private buffer: IPoint[] = [];
  private inFlight: Promise<void> | undefined;
  private databaseReady = false;
  /** In a failure episode: size-triggered writes wait for the next interval tick. */
  private failing = false;
  private droppedInEpisode = 0;
  private readonly totals = { written: 0, dropped: 0, failures: 0 };

  constructor(private readonly options: BatcherOptions) {}

  add(point: IPoint): void {
    const { maxBufferedPoints, commitSize } = this.options;
    if (this.buffer.length >= maxBufferedPoints) this.drop(this.buffer.length - maxBufferedPoints + 1);
    this.buffer.push(point);
    this.options.counters.buffered(this.options.database, this.buffer.length);
    if (this.buffer.length >= commitSize && !this.failing && !this.inFlight) {
      setImmediate(() => void this.flush());
    }
  }

  /** Writes what waits now (one batch after another); resolves when done or failed, never rejects. */
  flush(): Promise<void> {
    this.inFlight ??= this.writeAll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  get pending(): number {
    return this.buffer.length;
  }

  stats(): BatcherStats {
    return { buffered: this.buffer.length, ...this.totals };
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const ok = await this.writeBatch();
      this.options.counters.buffered(this.options.database, this.buffer.length);
      if (!ok) return;
    }
  }

  /** One batch; false when InfluxDB failed (the batch is back at the front of the buffer). */
  private async writeBatch(): Promise<boolean> {
    const { client, database, logger, counters, maxBatchPoints } = this.options;
    const batch = this.buffer.splice(0, maxBatchPoints);
    try {
      if (!this.databaseReady) {
        const names = await client.getDatabaseNames();
        if (!names.includes(database)) await client.createDatabase(database);
        this.databaseReady = true;
      }
      await client.writePoints(batch, { database });
    } catch (err) {
      const refused = refusedStatus(err);
      if (refused === 404)
        this.databaseReady = false; // database gone: create it again, retry
      else if (refused !== undefined) {
        // Bad points (a field type conflict, say): dropped, so they do not block the others forever.
        logger.error(
          { err, database, points: batch.length, status: refused },
          'InfluxDB refused points: dropped',
        );
        this.count('dropped', batch.length);
        return true;
      }
      this.totals.failures += 1;
      counters.failed(database);
      if (!this.failing) {
        this.failing = true;
        logger.warn(
          { err, database, buffered: this.buffer.length + batch.length },
          'cannot write to InfluxDB: retrying',
        );
      }
      this.buffer.unshift(...batch);
      const over = this.buffer.length - this.options.maxBufferedPoints;
      if (over > 0) this.drop(over);
      return false;
    }
    this.count('written', batch.length);
    if (this.failing || this.droppedInEpisode > 0) {
      logger.info({ database, dropped: this.droppedInEpisode }, 'InfluxDB writes resumed');
    }
    this.failing = false;
    this.droppedInEpisode = 0;
    return true;
  }

  /** Drops the `n` oldest buffered points; logged once per episode (until a write succeeds). */
  private drop(n: number): void {
    this.buffer.splice(0, n);
    if (this.droppedInEpisode === 0) {
      this.options.logger.error(
        { database: this.options.database, maxBufferedPoints: this.options.maxBufferedPoints },
        'InfluxDB time-series buffer full: dropping the oldest points until a write succeeds',
      );
    }
    this.droppedInEpisode += n;
    this.count('dropped', n);
  }

  private count(what: 'written' | 'dropped', n: number): void {
    this.totals[what] += n;
    this.options.counters[what](this.options.database, n);
  }
}
