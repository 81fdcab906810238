/**
 * The time-series writer: jambonz's InfluxDB 1.x measurements (measurements.ts) over the `influx`
 * client, one bounded batcher per database (batcher.ts). Every `write…` returns at once; writes
 * happen when `commitSize` points wait or every `commitIntervalMs`, and on `close()`.
 */
import { InfluxDB } from 'influx';
import type { Alert, AlertSink, Logger, Metrics } from '@sbc/service';
import { Batcher, type BatcherCounters, type BatcherStats } from './batcher.js';
import {
  DATABASES,
  SCHEMAS,
  alertPoint,
  callCountPoint,
  cdrPoint,
  type AlertRecord,
  type CallCount,
  type Cdr,
  type Database,
} from './measurements.js';

export interface TimeSeriesOptions {
  /** `JAMBONES_TIME_SERIES_HOST`. */
  host: string;
  /** `JAMBONES_TIME_SERIES_PORT` (default 8086). */
  port?: number;
  logger: Logger;
  /** Adds `sbc_time_series_points_{written,dropped}_total`, `…_write_failures_total`, `…_points_buffered`. */
  metrics?: Metrics;
  /** Points that start a write (default 50, as jambonz). */
  commitSize?: number;
  /** Writes (and retries) at least this often (default 20 s, as jambonz). */
  commitIntervalMs?: number;
  /** Points kept per database while InfluxDB is down (default 10 000); the oldest go first. */
  maxBufferedPoints?: number;
  /** Points per HTTP write (default 1000). */
  maxBatchPoints?: number;
  /** One HTTP request to InfluxDB (default 5 s). */
  requestTimeoutMs?: number;
  /** The clock for alerts and call counts (tests pin it). */
  now?: () => Date;
}

export interface TimeSeriesWriter extends AlertSink {
  writeCdr(cdr: Cdr): void;
  /** `alerts`; also the `AlertSink` of @sbc/service. */
  alert(alert: AlertRecord): void;
  /** `call_counts` (per account). */
  writeCallCount(count: CallCount): void;
  /** `sp_call_counts` (per service provider). */
  writeSpCallCount(count: CallCount): void;
  /** `app_call_counts` (per application). */
  writeAppCallCount(count: CallCount): void;
  /** Writes everything waiting now; never rejects (failures stay buffered). */
  flush(): Promise<void>;
  /** Stops the interval and flushes for at most `timeoutMs` (default 5 s): for graceful shutdown. */
  close(timeoutMs?: number): Promise<{ unwritten: number }>;
  stats(): Record<Database, BatcherStats>;
}

function metricCounters(metrics: Metrics | undefined): BatcherCounters {
  if (!metrics) {
    return {
      written: () => undefined,
      dropped: () => undefined,
      failed: () => undefined,
      buffered: () => undefined,
    };
  }
  const labels = ['database'] as const;
  const written = metrics.counter(
    'sbc_time_series_points_written_total',
    'points written to InfluxDB',
    labels,
  );
  const dropped = metrics.counter(
    'sbc_time_series_points_dropped_total',
    'points dropped: buffer full while InfluxDB was down, or refused by it',
    labels,
  );
  const failures = metrics.counter(
    'sbc_time_series_write_failures_total',
    'failed writes to InfluxDB',
    labels,
  );
  const buffered = metrics.gauge('sbc_time_series_points_buffered', 'points waiting for InfluxDB', labels);
  return {
    written: (database, n) => written.inc({ database }, n),
    dropped: (database, n) => dropped.inc({ database }, n),
    failed: (database) => failures.inc({ database }),
    buffered: (database, n) => buffered.set({ database }, n),
  };
}

export function createTimeSeriesWriter(options: TimeSeriesOptions): TimeSeriesWriter {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const client = new InfluxDB({
    host: options.host,
    port: options.port ?? 8086,
    schema: SCHEMAS,
    pool: { requestTimeout: options.requestTimeoutMs ?? 5000, maxRetries: 0 },
  });
  const batchers = new Map<Database, Batcher>();
  const counters = metricCounters(options.metrics);
  for (const database of DATABASES) {
    batchers.set(
      database,
      new Batcher({
        client,
        database,
        logger,
        counters,
        commitSize: options.commitSize ?? 50,
        maxBufferedPoints: options.maxBufferedPoints ?? 10_000,
        maxBatchPoints: options.maxBatchPoints ?? 1000,
      }),
    );
  }
  const batcher = (database: Database): Batcher => batchers.get(database)!;

  const flush = (): Promise<void> =>
    Promise.all([...batchers.values()].map((b) => b.flush())).then(() => undefined);
  const timer = setInterval(() => void flush(), options.commitIntervalMs ?? 20_000);
  timer.unref();

  /** Builds and queues a point; a point that cannot be built is logged, never thrown at the caller. */
  const add = (database: Database, build: () => Parameters<Batcher['add']>[0]): void => {
    try {
      batcher(database).add(build());
    } catch (err) {
      logger.error({ err, database }, 'cannot build a time-series point');
    }
  };

  return {
    writeCdr: (cdr) => add('cdrs', () => cdrPoint(cdr)),
    alert: (alert: Alert) => add('alerts', () => alertPoint(alert, now())),
    writeCallCount: (count) => add('call_counts', () => callCountPoint('call_counts', count, now())),
    writeSpCallCount: (count) => add('sp_call_counts', () => callCountPoint('sp_call_counts', count, now())),
    writeAppCallCount: (count) =>
      add('app_call_counts', () => callCountPoint('app_call_counts', count, now())),
    flush,
    async close(timeoutMs = 5000) {
      clearInterval(timer);
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        flush(),
        new Promise<void>((resolve) => (timeout = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timeout);
      const unwritten = [...batchers.values()].reduce((sum, b) => sum + b.pending, 0);
      if (unwritten > 0) logger.warn({ unwritten }, 'time-series points not written to InfluxDB at shutdown');
      return { unwritten };
    },
    stats() {
      const out = {} as Record<Database, BatcherStats>;
      for (const [database, b] of batchers) out[database] = b.stats();
      return out;
    },
  };
}
