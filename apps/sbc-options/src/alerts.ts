import type { Logger } from '@sbc/service';
import type { AppMetrics } from './metrics.js';

/** The alerts sbc-options writes (the `alert` field of the log line, the label of sbc_alerts_total). */
export type AlertKind = 'options-ping-failed' | 'options-ping-disabled';

export interface Alert {
  alert: AlertKind;
  /** jambonz's alert text. */
  message: string;
  account_sid?: string | null;
  service_provider_sid?: string | null;
  voip_carrier_sid?: string;
  sip_gateway_sid?: string;
}

export interface AlertWriter {
  write(alert: Alert): void;
}

/**
 * jambonz writes these to InfluxDB's `alerts` measurement; @sbc/service has no time-series writer
 * yet, so an alert is a warn log line with a stable `alert` field plus sbc_alerts_total{alert}.
 * Swap this writer for one that also writes InfluxDB when the library gets one.
 */
export function createLogAlertWriter(logger: Logger, metrics: AppMetrics): AlertWriter {
  const log = logger.child({ component: 'alerts' });
  return {
    write(alert) {
      metrics.alerts.inc({ alert: alert.alert });
      const { message, ...fields } = alert;
      log.warn(fields, message);
    },
  };
}
