/**
 * jambonz's measurements (@jambonz/time-series): one database per measurement, same names, same tag
 * and field sets. Field types are what jambonz actually writes: its schemas never reach the client
 * (passed as `schemas`, the `influx` option is `schema`), so its numbers go out as floats. Writing
 * integers here would be refused ("field type conflict") by a database jambonz has written to.
 */
import { FieldType, toNanoDate, type IPoint, type ISchemaOptions } from 'influx';
import type { Alert } from '@sbc/service';

export type Database = 'cdrs' | 'alerts' | 'call_counts' | 'sp_call_counts' | 'app_call_counts';
export const DATABASES: readonly Database[] = [
  'cdrs',
  'alerts',
  'call_counts',
  'sp_call_counts',
  'app_call_counts',
];

/** One call, as the `cdrs` measurement holds it; `attempted_at` is the point's time. */
export interface Cdr {
  // tags
  service_provider_sid: string | undefined;
  account_sid: string | undefined;
  /** This SBC's address. */
  host: string | undefined;
  /** Carrier name, 'Microsoft Teams', or 'user'. */
  trunk: string;
  direction: 'inbound' | 'outbound';
  answered: boolean;
  // fields
  call_sid: string | undefined;
  application_sid: string | undefined;
  from: string;
  to: string;
  sip_callid: string;
  sip_parent_callid?: string | undefined;
  sip_status: number;
  /** Seconds between answer and end; 0 when not answered. */
  duration: number;
  attempted_at: Date;
  answered_at: Date | undefined;
  terminated_at: Date;
  /** 'caller hungup', 'called party hungup', 'caller abandoned', 'failed'. */
  termination_reason: string;
  remote_host: string;
  trace_id: string | undefined;
  recording_url?: string | undefined;
}

/** `calls_in_progress` of one account, service provider or application. */
export interface CallCount {
  service_provider_sid: string;
  account_sid?: string;
  application_sid?: string;
  calls_in_progress: number;
}

const STRING = FieldType.STRING;
const FLOAT = FieldType.FLOAT;

export const SCHEMAS: ISchemaOptions[] = [
  {
    database: 'cdrs',
    measurement: 'cdrs',
    tags: ['service_provider_sid', 'account_sid', 'host', 'trunk', 'direction', 'answered'],
    fields: {
      call_sid: STRING,
      application_sid: STRING,
      from: STRING,
      to: STRING,
      sip_callid: STRING,
      sip_parent_callid: STRING,
      sip_status: FLOAT,
      duration: FLOAT,
      answered_at: FLOAT,
      terminated_at: FLOAT,
      termination_reason: STRING,
      remote_host: STRING,
      trace_id: STRING,
      recording_url: STRING,
    },
  },
  {
    database: 'alerts',
    measurement: 'alerts',
    tags: ['service_provider_sid', 'account_sid', 'alert_type', 'vendor'],
    fields: { message: STRING, detail: STRING, target_sid: STRING },
  },
  {
    database: 'call_counts',
    measurement: 'call_counts',
    tags: ['service_provider_sid', 'account_sid'],
    fields: { calls_in_progress: FLOAT },
  },
  {
    database: 'sp_call_counts',
    measurement: 'sp_call_counts',
    tags: ['service_provider_sid'],
    fields: { calls_in_progress: FLOAT },
  },
  {
    database: 'app_call_counts',
    measurement: 'app_call_counts',
    tags: ['service_provider_sid', 'account_sid', 'application_sid'],
    fields: { calls_in_progress: FLOAT },
  },
];

let sequence = 0;
/**
 * The time of a point in ns: the ms as given, plus a rolling sub-ms sequence so that two points of
 * one series in the same ms (two calls from one carrier) do not overwrite each other in InfluxDB.
 */
export function pointTime(at: Date): ReturnType<typeof toNanoDate> {
  sequence = (sequence + 1) % 1_000_000;
  return toNanoDate(`${at.getTime()}${String(sequence).padStart(6, '0')}`);
}

/** Tags without the absent or empty values InfluxDB refuses. */
function tags(values: Record<string, string | undefined | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) if (value != null && value !== '') out[name] = value;
  return out;
}

type Fields = Record<string, string | number>;
function fields(values: Record<string, string | number | undefined | null>): Fields {
  const out: Fields = {};
  for (const [name, value] of Object.entries(values)) if (value != null) out[name] = value;
  return out;
}

export function cdrPoint(cdr: Cdr): IPoint {
  return {
    measurement: 'cdrs',
    timestamp: pointTime(cdr.attempted_at),
    tags: tags({
      service_provider_sid: cdr.service_provider_sid,
      account_sid: cdr.account_sid,
      host: cdr.host,
      trunk: cdr.trunk,
      direction: cdr.direction,
      answered: String(cdr.answered),
    }),
    fields: fields({
      call_sid: cdr.call_sid,
      application_sid: cdr.application_sid,
      from: cdr.from,
      to: cdr.to,
      sip_callid: cdr.sip_callid,
      sip_parent_callid: cdr.sip_parent_callid,
      sip_status: cdr.sip_status,
      duration: cdr.duration,
      answered_at: cdr.answered_at?.getTime(),
      terminated_at: cdr.terminated_at.getTime(),
      termination_reason: cdr.termination_reason,
      remote_host: cdr.remote_host,
      trace_id: cdr.trace_id,
      recording_url: cdr.recording_url,
    }),
  };
}

/** An alert raised through @sbc/service's `AlertSink`, plus jambonz's optional `vendor` / `target_sid`. */
export type AlertRecord = Alert & { vendor?: string; target_sid?: string };

export function alertPoint(alert: AlertRecord, at: Date): IPoint {
  const detail =
    alert.detail && Object.keys(alert.detail).length > 0 ? JSON.stringify(alert.detail) : undefined;
  return {
    measurement: 'alerts',
    timestamp: pointTime(at),
    tags: tags({
      service_provider_sid: alert.service_provider_sid,
      account_sid: alert.account_sid,
      alert_type: alert.alert_type,
      vendor: alert.vendor,
    }),
    fields: fields({ message: alert.message, detail, target_sid: alert.target_sid }),
  };
}

export function callCountPoint(
  measurement: 'call_counts' | 'sp_call_counts' | 'app_call_counts',
  count: CallCount,
  at: Date,
): IPoint {
  const owner =
    measurement === 'sp_call_counts'
      ? { service_provider_sid: count.service_provider_sid }
      : measurement === 'call_counts'
        ? { service_provider_sid: count.service_provider_sid, account_sid: count.account_sid }
        : {
            service_provider_sid: count.service_provider_sid,
            account_sid: count.account_sid,
            application_sid: count.application_sid,
          };
  return {
    measurement,
    timestamp: pointTime(at),
    tags: tags(owner),
    fields: { calls_in_progress: count.calls_in_progress },
  };
}
