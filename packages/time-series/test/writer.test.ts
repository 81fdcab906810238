import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics, type Logger } from '@sbc/service';
import {
  freeTcpPort,
  metricValue,
  startInfluxdb,
  waitUntil,
  type InfluxdbService,
  type InfluxResult,
} from '@sbc/testkit';
import { createTimeSeriesWriter, type Cdr } from '../src/index.js';

const SP = 'sp-2708b1b3-f0f3-4d5c-b2b5-0b4a0a5a1b11';
const ACCOUNT = 'acc-ed649e33-e771-403a-8c99-1780eabbc803';

function capturedLogger(): { logger: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = createLogger({
    level: 'debug',
    name: 'time-series-test',
    destination: {
      write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }),
    },
  });
  return { logger, lines };
}

function cdr(overrides: Partial<Cdr> = {}): Cdr {
  const attempted = new Date(Date.now() - 60_000);
  return {
    service_provider_sid: SP,
    account_sid: ACCOUNT,
    host: '127.0.0.1',
    trunk: 'carrier-a',
    direction: 'inbound',
    answered: true,
    call_sid: 'call-1',
    application_sid: 'app-1',
    from: '+15083084809',
    to: '+15083728299',
    sip_callid: `cid-${Math.random()}`,
    sip_status: 200,
    duration: 12,
    attempted_at: attempted,
    answered_at: new Date(attempted.getTime() + 2000),
    terminated_at: new Date(attempted.getTime() + 14_000),
    termination_reason: 'caller hungup',
    remote_host: '127.0.0.2',
    trace_id: '00000000000000000000000000000000',
    ...overrides,
  };
}

/** Rows of the first series as objects (what @jambonz/time-series' query functions return). */
function rows(results: InfluxResult[]): Record<string, unknown>[] {
  const series = results[0]?.series?.[0];
  if (!series) return [];
  return series.values.map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
}

/** `$timestamp` as jambonz's api-server binds it for `days`: ns since the epoch. */
const daysAgo = (days: number): number => Date.now() * 1_000_000 - days * 24 * 60 * 60 * 1_000_000_000;

// The InfluxQL of @jambonz/time-series' queryCdrs / queryCdrsSP / queryAlerts / queryAlertsSP /
// queryCallCounts, with the options jambonz's api-server passes (RecentCalls, Alerts: page, count, days…).
const RECENT_CALLS_COUNT =
  'SELECT COUNT(sip_callid) from cdrs WHERE account_sid = $account_sid AND answered = $answered AND time > $timestamp ';
const RECENT_CALLS =
  'SELECT * from cdrs WHERE account_sid = $account_sid AND answered = $answered AND time > $timestamp  ORDER BY time DESC LIMIT $page_size OFFSET $offset';
const RECENT_CALLS_SP =
  'SELECT * from cdrs WHERE service_provider_sid = $service_provider_sid AND trunk = $trunk AND direction = $direction AND time >= $start AND time <= $end  ORDER BY time DESC LIMIT $page_size';
const ALERTS =
  'SELECT * FROM alerts WHERE account_sid = $account_sid AND alert_type = $alert_type AND time > $timestamp  ORDER BY time DESC LIMIT $page_size';
const ALERTS_SP =
  'SELECT service_provider_sid, message, detail FROM alerts WHERE service_provider_sid = $service_provider_sid AND time > $timestamp  ORDER BY time DESC LIMIT $page_size';
const CALL_COUNTS =
  'SELECT * from call_counts WHERE account_sid = $account_sid AND time > $timestamp  ORDER BY time DESC LIMIT $page_size';

const until = (condition: () => boolean, what: string): Promise<void> =>
  waitUntil(() => Promise.resolve(condition()), { what, timeoutMs: 5000 });

let influx: InfluxdbService;
beforeAll(async () => {
  influx = await startInfluxdb();
});
afterAll(async () => {
  await influx?.stop();
});

describe('measurements read back with jambonz api-server queries', () => {
  const answered = cdr();
  const failed = cdr({
    answered: false,
    answered_at: undefined,
    call_sid: undefined,
    sip_status: 480,
    duration: 0,
    termination_reason: 'failed',
    trunk: 'user',
  });
  const abandoned = cdr({
    answered: false,
    answered_at: undefined,
    sip_status: 487,
    duration: 0,
    termination_reason: 'caller abandoned',
    attempted_at: new Date(answered.attempted_at.getTime() + 1),
  });

  beforeAll(async () => {
    const writer = createTimeSeriesWriter({
      host: influx.host,
      port: influx.port,
      logger: capturedLogger().logger,
    });
    writer.writeCdr(answered);
    writer.writeCdr(failed);
    writer.writeCdr(abandoned);
    writer.alert({
      alert_type: 'account-call-limit',
      message: 'you have exceeded your account call limit of 2; please consider upgrading your plan',
      account_sid: ACCOUNT,
      service_provider_sid: SP,
      detail: { limit: 2 },
    });
    writer.alert({
      alert_type: 'options-ping-failed',
      message: 'Options ping 127.0.0.2:5060;transport=udp unsuccessfully, received: 503',
    });
    writer.writeCallCount({ service_provider_sid: SP, account_sid: ACCOUNT, calls_in_progress: 3 });
    writer.writeSpCallCount({ service_provider_sid: SP, calls_in_progress: 4 });
    writer.writeAppCallCount({
      service_provider_sid: SP,
      account_sid: ACCOUNT,
      application_sid: 'app-1',
      calls_in_progress: 1,
    });
    await writer.close();
  });

  it('recent calls by account: answered and not, with jambonz tags and fields', async () => {
    const params = {
      account_sid: ACCOUNT,
      answered: 'true',
      timestamp: daysAgo(1),
      page_size: 25,
      offset: 0,
    };
    expect(rows(await influx.query(RECENT_CALLS_COUNT, { db: 'cdrs', params }))[0]?.count).toBe(1);
    const [row] = rows(await influx.query(RECENT_CALLS, { db: 'cdrs', params }));
    expect(row).toMatchObject({
      service_provider_sid: SP,
      account_sid: ACCOUNT,
      host: '127.0.0.1',
      trunk: 'carrier-a',
      direction: 'inbound',
      answered: 'true',
      call_sid: 'call-1',
      application_sid: 'app-1',
      from: '+15083084809',
      to: '+15083728299',
      sip_callid: answered.sip_callid,
      sip_status: 200,
      duration: 12,
      answered_at: answered.answered_at!.getTime(),
      terminated_at: answered.terminated_at.getTime(),
      termination_reason: 'caller hungup',
      remote_host: '127.0.0.2',
      trace_id: '00000000000000000000000000000000',
    });
    // The point's time is attempted_at (jambonz's api-server returns it as attempted_at).
    expect(Math.floor(Date.parse(String(row?.time)))).toBe(answered.attempted_at.getTime());

    const notAnswered = rows(
      await influx.query(RECENT_CALLS, { db: 'cdrs', params: { ...params, answered: 'false' } }),
    );
    expect(notAnswered.map((r) => [r.sip_status, r.termination_reason, r.answered_at])).toEqual([
      [487, 'caller abandoned', null],
      [480, 'failed', null],
    ]);
  });

  it('recent calls by service provider, trunk, direction and time range', async () => {
    const params = {
      service_provider_sid: SP,
      trunk: 'carrier-a',
      direction: 'inbound',
      start: new Date(Date.now() - 3_600_000).toISOString(),
      end: new Date().toISOString(),
      page_size: 25,
    };
    const found = rows(await influx.query(RECENT_CALLS_SP, { db: 'cdrs', params }));
    expect(found.map((r) => r.sip_callid).sort()).toEqual([answered.sip_callid, abandoned.sip_callid].sort());
  });

  it('field types are those jambonz writes (numbers as floats), tags as in its schema', async () => {
    const types = rows(await influx.query('SHOW FIELD KEYS FROM cdrs', { db: 'cdrs' }));
    const byName = Object.fromEntries(types.map((r) => [String(r.fieldKey), String(r.fieldType)]));
    expect(byName).toMatchObject({
      sip_status: 'float',
      duration: 'float',
      terminated_at: 'float',
      answered_at: 'float',
      from: 'string',
      termination_reason: 'string',
    });
    const tags = rows(await influx.query('SHOW TAG KEYS FROM cdrs', { db: 'cdrs' })).map((r) => r.tagKey);
    expect(tags.sort()).toEqual([
      'account_sid',
      'answered',
      'direction',
      'host',
      'service_provider_sid',
      'trunk',
    ]);
  });

  it('alerts by account and type, and by service provider', async () => {
    const params = {
      account_sid: ACCOUNT,
      service_provider_sid: SP,
      alert_type: 'account-call-limit',
      timestamp: daysAgo(1),
      page_size: 25,
    };
    const [alert] = rows(await influx.query(ALERTS, { db: 'alerts', params }));
    expect(alert).toMatchObject({
      alert_type: 'account-call-limit',
      account_sid: ACCOUNT,
      service_provider_sid: SP,
      message: 'you have exceeded your account call limit of 2; please consider upgrading your plan',
      detail: '{"limit":2}',
    });
    expect(rows(await influx.query(ALERTS_SP, { db: 'alerts', params }))).toHaveLength(1);
    const free = rows(
      await influx.query("SELECT * FROM alerts WHERE alert_type = 'options-ping-failed'", { db: 'alerts' }),
    );
    expect(free[0]?.message).toBe('Options ping 127.0.0.2:5060;transport=udp unsuccessfully, received: 503');
  });

  it('call counts per account, service provider and application', async () => {
    const params = { account_sid: ACCOUNT, timestamp: daysAgo(1), page_size: 25 };
    expect(rows(await influx.query(CALL_COUNTS, { db: 'call_counts', params }))[0]).toMatchObject({
      account_sid: ACCOUNT,
      service_provider_sid: SP,
      calls_in_progress: 3,
    });
    const sp = rows(await influx.query('SELECT * from sp_call_counts', { db: 'sp_call_counts' }));
    expect(sp[0]).toMatchObject({ service_provider_sid: SP, calls_in_progress: 4 });
    const app = rows(await influx.query('SELECT * from app_call_counts', { db: 'app_call_counts' }));
    expect(app[0]).toMatchObject({ application_sid: 'app-1', account_sid: ACCOUNT, calls_in_progress: 1 });
  });
});

describe('batching', () => {
  const countIn = async (db: string, account: string): Promise<number> => {
    const results = await influx.query(
      `SELECT COUNT(sip_callid) FROM cdrs WHERE account_sid = '${account}'`,
      { db },
    );
    return Number(rows(results)[0]?.count ?? 0);
  };

  it('writes once commitSize points wait, and the rest at close()', async () => {
    const account = `batch-${Date.now()}`;
    const writer = createTimeSeriesWriter({
      host: influx.host,
      port: influx.port,
      logger: capturedLogger().logger,
      commitSize: 3,
      commitIntervalMs: 60_000,
    });
    writer.writeCdr(cdr({ account_sid: account }));
    writer.writeCdr(cdr({ account_sid: account }));
    await sleep(300);
    expect(await countIn('cdrs', account)).toBe(0);
    expect(writer.stats().cdrs.buffered).toBe(2);

    writer.writeCdr(cdr({ account_sid: account }));
    await waitUntil(async () => (await countIn('cdrs', account)) === 3, { what: 'a batch of 3 CDRs' });

    writer.writeCdr(cdr({ account_sid: account }));
    expect(await writer.close()).toEqual({ unwritten: 0 });
    expect(await countIn('cdrs', account)).toBe(4);
    expect(writer.stats().cdrs).toMatchObject({ written: 4, buffered: 0, dropped: 0 });
  });

  it('writes on the commit interval below commitSize', async () => {
    const account = `interval-${Date.now()}`;
    const writer = createTimeSeriesWriter({
      host: influx.host,
      port: influx.port,
      logger: capturedLogger().logger,
      commitIntervalMs: 200,
    });
    writer.writeCdr(cdr({ account_sid: account }));
    await waitUntil(async () => (await countIn('cdrs', account)) === 1, { what: 'the interval write' });
    await writer.close();
  });
});

describe('InfluxDB slow or down', () => {
  it('down at start: a bounded buffer, drops counted and logged once, then written when it comes up', async () => {
    const port = await freeTcpPort('127.0.0.1');
    const { logger, lines } = capturedLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const writer = createTimeSeriesWriter({
      host: '127.0.0.1',
      port,
      logger,
      metrics,
      commitSize: 1,
      commitIntervalMs: 100,
      maxBufferedPoints: 5,
      requestTimeoutMs: 500,
    });
    for (let i = 0; i < 8; i++)
      writer.alert({ alert_type: 'webhook-failure', message: `alert ${i}`, account_sid: ACCOUNT });
    await until(() => writer.stats().alerts.failures >= 2, 'failed writes');
    expect(writer.stats().alerts).toMatchObject({ buffered: 5, dropped: 3, written: 0 });
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'sbc_time_series_points_dropped_total', { database: 'alerts' })).toBe(3);
    expect(metricValue(text, 'sbc_time_series_points_buffered', { database: 'alerts' })).toBe(5);
    expect(
      metricValue(text, 'sbc_time_series_write_failures_total', { database: 'alerts' }),
    ).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.msg.startsWith('InfluxDB time-series buffer full'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'cannot write to InfluxDB: retrying')).toHaveLength(1);

    const late = await startInfluxdb({ port });
    try {
      await until(() => writer.stats().alerts.written === 5, 'the buffered alerts written');
      const messages = rows(await late.query('SELECT message FROM alerts', { db: 'alerts' })).map(
        (r) => r.message,
      );
      expect(messages).toEqual(['alert 3', 'alert 4', 'alert 5', 'alert 6', 'alert 7']);
      expect(lines.some((l) => l.msg === 'InfluxDB writes resumed' && l.dropped === 3)).toBe(true);
    } finally {
      await writer.close();
      await late.stop();
    }
  });

  it('going down mid-run: nothing thrown, points kept, close() gives up after its timeout', async () => {
    const own = await startInfluxdb();
    const { logger } = capturedLogger();
    const writer = createTimeSeriesWriter({
      host: own.host,
      port: own.port,
      logger,
      commitSize: 1,
      commitIntervalMs: 100,
      requestTimeoutMs: 300,
    });
    writer.writeCallCount({ service_provider_sid: SP, account_sid: ACCOUNT, calls_in_progress: 1 });
    await until(() => writer.stats().call_counts.written === 1, 'the first write');
    await own.stop();

    const started = Date.now();
    for (let i = 0; i < 3; i++)
      writer.writeCallCount({ service_provider_sid: SP, account_sid: ACCOUNT, calls_in_progress: i });
    expect(Date.now() - started).toBeLessThan(50); // writes never wait for InfluxDB
    await until(() => writer.stats().call_counts.failures >= 1, 'a failed write');
    expect(writer.stats().call_counts).toMatchObject({ written: 1, buffered: 3, dropped: 0 });

    const closing = Date.now();
    expect(await writer.close(500)).toEqual({ unwritten: 3 });
    expect(Date.now() - closing).toBeLessThan(2000);
  });
});
