import type { Metrics } from '@sbc/service';

/** What became of a REGISTER (the `result` label). */
export type RegisterResult =
  'registered' | 'unregistered' | 'cached' | 'challenged' | 'rejected' | 'unavailable' | 'error';

type Counter = ReturnType<Metrics['counter']>;
type Gauge = ReturnType<Metrics['gauge']>;
type Histogram = ReturnType<Metrics['histogram']>;

/** The registrar's Prometheus metrics (all `sbc_` prefixed; see README). */
export interface RegistrarMetrics {
  registrations: Counter;
  registerDuration: Histogram;
  hookDuration: Histogram;
  nonceRejections: Counter;
  registeredUsers: Gauge;
  sbcAddressRefreshes: Counter;
  regbotRequests: Counter;
  regbotRegistrations: Gauge;
  regbotLeader: Gauge;
}

export function createRegistrarMetrics(metrics: Metrics): RegistrarMetrics {
  return {
    registrations: metrics.counter(
      'sbc_registrations_total',
      'REGISTER requests answered, by result and reason',
      ['result', 'reason'],
    ),
    registerDuration: metrics.histogram(
      'sbc_register_duration_seconds',
      'time from receiving a REGISTER to answering it',
      ['result'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    hookDuration: metrics.histogram(
      'sbc_auth_hook_duration_seconds',
      'auth hook answer time, by outcome (ok, fail, unreachable, slow, garbage, http-error)',
      ['outcome'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    nonceRejections: metrics.counter(
      'sbc_digest_nonce_rejections_total',
      'digest answers refused for their nonce: forged, stale or replayed',
      ['reason'],
    ),
    registeredUsers: metrics.gauge('sbc_registered_users', 'unexpired registrations in Redis (all realms)'),
    sbcAddressRefreshes: metrics.counter(
      'sbc_address_refreshes_total',
      'public SBC address upserts into sbc_addresses, by result',
      ['result'],
    ),
    regbotRequests: metrics.counter(
      'sbc_regbot_requests_total',
      'REGISTERs sent to carriers, by final result (ok, fail, timeout, error)',
      ['result'],
    ),
    regbotRegistrations: metrics.gauge(
      'sbc_regbot_registrations',
      'outbound registrations run by this instance, by state',
      ['state'],
    ),
    regbotLeader: metrics.gauge('sbc_regbot_leader', '1 while this instance holds the regbot token'),
  };
}
