import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * An alert, in the fields of jambonz's InfluxDB `alerts` measurement: `alert_type` is its tag,
 * `message` the text the portal shows; `detail` is ours (logged, never a label).
 */
export interface Alert {
  /** jambonz's type where it has one (`webhook-failure`, `options-ping-failed`, …). */
  alert_type: string;
  message: string;
  detail?: Record<string, unknown>;
  account_sid?: string | null;
  service_provider_sid?: string | null;
}

/** Where alerts go. A time-series writer (InfluxDB) implements it beside the default one. */
export interface AlertSink {
  alert(alert: Alert): void;
}

/**
 * The default sink: an error log line carrying `alert_type` (plus the sids and `detail`, flat) and
 * `sbc_alerts_total{alert_type}`, which a Prometheus rule can page on. Registers the counter on
 * `metrics`: one sink per registry.
 */
export function createLogAlertSink(logger: Logger, metrics: Metrics): AlertSink {
  const counter = metrics.counter('sbc_alerts_total', 'alerts raised, by alert_type (see the log line)', [
    'alert_type',
  ]);
  return {
    alert({ alert_type, message, detail = {}, account_sid, service_provider_sid }) {
      counter.inc({ alert_type });
      logger.error(
        {
          ...detail,
          alert_type,
          ...(account_sid != null && { account_sid }),
          ...(service_provider_sid != null && { service_provider_sid }),
        },
        message,
      );
    },
  };
}

/**
 * One sink that hands each alert to every `sinks` in turn (the log sink and a time-series writer); a
 * sink that throws is skipped for that alert, never in the way of the others or of the caller.
 */
export function combineAlertSinks(...sinks: readonly AlertSink[]): AlertSink {
  return {
    alert(alert) {
      for (const sink of sinks) {
        try {
          sink.alert(alert);
        } catch {
          /* a sink's own failure: it logs its own errors */
        }
      }
    },
  };
}
