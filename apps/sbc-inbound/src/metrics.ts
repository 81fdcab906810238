import type { Metrics } from '@sbc/service';

type Counter = ReturnType<Metrics['counter']>;
type Gauge = ReturnType<Metrics['gauge']>;
type Histogram = ReturnType<Metrics['histogram']>;

/** sbc-inbound's Prometheus metrics (all `sbc_` prefixed; README lists them). */
export interface InboundMetrics {
  invites: Counter;
  callsInProgress: Gauge;
  setupDuration: Histogram;
  featureServerFailovers: Counter;
  rtpengineDuration: Histogram;
  hookDuration: Histogram;
  nonceRejections: Counter;
  callsEnded: Counter;
  dtmfEvents: Counter;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createInboundMetrics(metrics: Metrics): InboundMetrics {
  return {
    invites: metrics.counter(
      'sbc_invites_total',
      'new INVITEs, by outcome (connected, challenged, rejected, not_found, limited, unavailable, failed, canceled, error), originator and reason',
      ['outcome', 'originator', 'reason'],
    ),
    callsInProgress: metrics.gauge('sbc_calls_in_progress', 'connected calls on this instance'),
    setupDuration: metrics.histogram(
      'sbc_call_setup_seconds',
      'INVITE received to 200 OK sent to the caller, for connected calls',
      ['originator'],
      SECONDS,
    ),
    featureServerFailovers: metrics.counter(
      'sbc_feature_server_failovers_total',
      'calls moved to the next feature server after one failed before answering',
    ),
    rtpengineDuration: metrics.histogram(
      'sbc_rtpengine_duration_seconds',
      'rtpengine NG command answer time, by command and result (ok, timeout)',
      ['command', 'result'],
      SECONDS,
    ),
    hookDuration: metrics.histogram(
      'sbc_auth_hook_duration_seconds',
      'auth hook answer time, by outcome (ok, fail, unreachable, slow, garbage, http-error)',
      ['outcome'],
      SECONDS,
    ),
    nonceRejections: metrics.counter(
      'sbc_digest_nonce_rejections_total',
      'digest answers refused for their nonce: forged, stale or replayed',
      ['reason'],
    ),
    callsEnded: metrics.counter('sbc_calls_ended_total', 'connected calls that ended, by who ended them', [
      'ended_by',
    ]),
    dtmfEvents: metrics.counter(
      'sbc_dtmf_events_total',
      'rtpengine DTMF event datagrams, by outcome (delivered to a call, unsubscribed: no call here, dropped: not an event or not from an rtpengine)',
      ['outcome'],
    ),
  };
}
