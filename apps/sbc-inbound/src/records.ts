/**
 * What the platform records about calls, produced at jambonz's moments (reference §2.11): a CDR when
 * a call ends (answered or not), alerts, and call counts after each counter change. `Records` is
 * the interface: `timeSeriesRecords` writes them to InfluxDB (@sbc/time-series: measurements `cdrs`,
 * `alerts`, `call_counts`…) when JAMBONES_TIME_SERIES_HOST is set; otherwise they go to the log.
 */
import type { CallCounterScope } from '@sbc/redis';
import type { AlertSink, Logger } from '@sbc/service';
import type { Cdr as TimeSeriesCdr, TimeSeriesWriter } from '@sbc/time-series';

/** One inbound call, as jambonz's `cdrs` measurement holds it (@sbc/time-series' `Cdr`). */
export type Cdr = TimeSeriesCdr & { direction: 'inbound' };

export interface CallCountOwner {
  accountSid: string;
  serviceProviderSid: string;
  applicationSid: string | undefined;
}

export interface Records extends AlertSink {
  cdr(record: Cdr): void;
  /** The counters of `owner` after a change (`calls_in_progress` in jambonz's call_counts). */
  callCounts(
    owner: CallCountOwner,
    counts: readonly { scope: CallCounterScope; sid: string; calls: number }[],
  ): void;
}

/** CDRs and call counts as log lines (info, debug); alerts to `alerts` (@sbc/service's log sink). */
export function logRecords(logger: Logger, alerts: AlertSink): Records {
  return {
    cdr(record) {
      logger.info({ cdr: record }, 'cdr');
    },
    alert: (alert) => alerts.alert(alert),
    callCounts(owner, counts) {
      if (counts.length > 0) logger.debug({ accountSid: owner.accountSid, counts }, 'calls in progress');
    },
  };
}

/**
 * Records in InfluxDB through `writer`; alerts also to `alerts` (@sbc/service's log sink, so the log
 * line and sbc_alerts_total stay).
 */
export function timeSeriesRecords(writer: TimeSeriesWriter, alerts: AlertSink): Records {
  return {
    cdr: (record) => writer.writeCdr(record),
    alert(alert) {
      alerts.alert(alert);
      writer.alert(alert);
    },
    callCounts(owner, counts) {
      const service_provider_sid = owner.serviceProviderSid;
      for (const { scope, sid, calls } of counts) {
        if (scope === 'account') {
          writer.writeCallCount({ service_provider_sid, account_sid: sid, calls_in_progress: calls });
        } else if (scope === 'sp') {
          writer.writeSpCallCount({ service_provider_sid: sid, calls_in_progress: calls });
        } else {
          writer.writeAppCallCount({
            service_provider_sid,
            account_sid: owner.accountSid,
            application_sid: sid,
            calls_in_progress: calls,
          });
        }
      }
    },
  };
}
