/**
 * CDRs end to end: calls through sbc-inbound (sipp callers, sipp feature servers) land in a real
 * InfluxDB through @sbc/time-series, and read back with the query jambonz's api-server makes for
 * "recent calls" of an account.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@sbc/service';
import { startInfluxdb, waitUntil, type InfluxdbService } from '@sbc/testkit';
import { createTimeSeriesWriter, type TimeSeriesWriter } from '@sbc/time-series';
import { timeSeriesRecords } from '../src/records.js';
import { RawCaller } from './support/raw-caller.js';
import {
  clearFeatureServers,
  featureServerUp,
  JAMBONZ,
  placeCall,
  startFeatureServer,
  startInbound,
  startInboundStack,
  type InboundStack,
  type RunningInbound,
} from './support/inbound.js';

let stack: InboundStack;
let influx: InfluxdbService;
let writer: TimeSeriesWriter;
let sbc: RunningInbound;

beforeAll(async () => {
  [stack, influx] = await Promise.all([startInboundStack(), startInfluxdb()]);
  writer = createTimeSeriesWriter({
    host: influx.host,
    port: influx.port,
    logger: createLogger({ level: 'silent', name: 'records-test' }),
  });
  sbc = await startInbound(
    stack,
    { JAMBONES_TRACK_ACCOUNT_CALLS: '1', JAMBONES_TRACK_SP_CALLS: '1' },
    undefined,
    timeSeriesRecords(writer, { alert: () => undefined }),
  );
});
afterAll(async () => {
  await writer?.close();
  await sbc?.stop();
  await Promise.all([stack?.stop(), influx?.stop()]);
});

/** jambonz's api-server: GET /Accounts/:sid/RecentCalls?page=1&count=25&days=1 (@jambonz/time-series' queryCdrs). */
const RECENT_CALLS =
  'SELECT * from cdrs WHERE account_sid = $account_sid AND time > $timestamp  ORDER BY time DESC LIMIT $page_size OFFSET $offset';

async function callEnded(cdrs: number): Promise<void> {
  await waitUntil(() => Promise.resolve(sbc.records.cdrs.length === cdrs && sbc.app.calls.size === 0), {
    what: `CDR ${cdrs}`,
  });
  await clearFeatureServers(stack);
}

it('writes one CDR per call outcome (answered, failed 480, canceled 487 caller abandoned) and the call counts', async () => {
  const answering = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
  await featureServerUp(stack, answering.hostport);
  const answered = await placeCall(stack, 'uac-call', { host: 'jambonz.org' });
  expect(answered.ok, answered.describe()).toBe(true);
  await answering.run.done;
  await callEnded(1);

  const caller = await RawCaller.open('127.0.38.20', stack.engine.sipTarget);
  try {
    expect((await caller.invite({ host: 'jambonz.org' })).status).toBe(480);
  } finally {
    caller.close();
  }
  await callEnded(2);

  const ringing = await startFeatureServer('uas-fs-ring-until-cancel', '127.0.1.11', { timeoutMs: 15_000 });
  await featureServerUp(stack, ringing.hostport);
  const canceled = await placeCall(stack, 'uac-call-cancel', { host: 'jambonz.org' });
  expect(canceled.ok, canceled.describe()).toBe(true);
  await ringing.run.done;
  await callEnded(3);

  await writer.flush();
  const [result] = await influx.query(RECENT_CALLS, {
    db: 'cdrs',
    params: {
      account_sid: JAMBONZ.accounts.main,
      timestamp: Date.now() * 1_000_000 - 24 * 60 * 60 * 1_000_000_000,
      page_size: 25,
      offset: 0,
    },
  });
  const series = result?.series?.[0];
  const rows = (series?.values ?? []).map((v) =>
    Object.fromEntries(series!.columns.map((c, i) => [c, v[i]])),
  );
  const byCallId = new Map(sbc.records.cdrs.map((cdr) => [cdr.sip_callid, cdr]));
  expect(rows.map((r) => [r.answered, r.sip_status, r.termination_reason])).toEqual([
    ['false', 487, 'caller abandoned'],
    ['false', 480, 'failed'],
    ['true', 200, 'caller hungup'],
  ]);
  for (const row of rows) {
    const cdr = byCallId.get(String(row.sip_callid));
    expect(cdr, `CDR of ${String(row.sip_callid)}`).toBeDefined();
    expect(row).toMatchObject({
      account_sid: JAMBONZ.accounts.main,
      direction: 'inbound',
      trunk: 'westco',
      remote_host: '127.0.38.20',
      terminated_at: cdr!.terminated_at.getTime(),
    });
    expect(Math.floor(Date.parse(String(row.time)))).toBe(cdr!.attempted_at.getTime());
  }
  expect(rows[2]).toMatchObject({ call_sid: 'call-sid-1', trace_id: 'trace-1', from: '15085551212' });
  expect(writer.stats().cdrs).toMatchObject({ written: 3, dropped: 0, buffered: 0 });

  // Call counts after each counter change (jambonz's call_counts / sp_call_counts).
  const [counts] = await influx.query('SELECT calls_in_progress FROM call_counts WHERE account_sid = $a', {
    db: 'call_counts',
    params: { a: JAMBONZ.accounts.main },
  });
  const values = (counts?.series?.[0]?.values ?? []).map((v) => v[1]);
  expect(values.length).toBeGreaterThanOrEqual(2);
  expect(values.at(-1)).toBe(0);
  expect(Math.max(...values.map(Number))).toBe(1);
  const [sp] = await influx.query('SELECT COUNT(calls_in_progress) FROM sp_call_counts', {
    db: 'sp_call_counts',
  });
  expect(Number(sp?.series?.[0]?.values[0]?.[1])).toBeGreaterThanOrEqual(2);
});
