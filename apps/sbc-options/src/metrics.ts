import type { ServerSets } from '@sbc/redis';
import type { Metrics } from '@sbc/service';
import type { FeatureServerDrain } from './drain.js';

/** The parts of prom-client's metric objects used here (its types are @sbc/service's business). */
export interface LabeledCounter<L extends string> {
  inc(labels: Record<L, string>, value?: number): void;
}
export interface PlainCounter {
  inc(value?: number): void;
}
export interface LabeledGauge<L extends string> {
  set(labels: Record<L, string>, value: number): void;
  remove(labels: Record<L, string>): void;
}
export interface PlainGauge {
  set(value: number): void;
}

export interface AppMetrics {
  optionsReceived: LabeledCounter<'kind'>;
  optionsErrors: PlainCounter;
  drainedCheckins: PlainCounter;
  expired: LabeledCounter<'set'>;
  featureServers: LabeledGauge<'state'>;
  rtpengines: LabeledGauge<'state'>;
  serviceUrls: PlainGauge;
  gatewayUp: LabeledGauge<'sip_gateway_sid' | 'gateway'>;
  gatewayPings: LabeledCounter<'result'>;
}

/** Every metric sbc-options exports (README.md lists them). */
export function createAppMetrics(metrics: Metrics): AppMetrics {
  return {
    optionsReceived: metrics.counter(
      'sbc_options_received_total',
      'out-of-dialog OPTIONS received, by kind',
      ['kind'],
    ),
    optionsErrors: metrics.counter(
      'sbc_options_errors_total',
      'status OPTIONS answered 503 because the server sets could not be updated',
    ),
    drainedCheckins: metrics.counter(
      'sbc_options_drained_checkins_total',
      'open pings from drained feature servers (kept out)',
    ),
    expired: metrics.counter(
      'sbc_server_set_expired_total',
      'members removed after EXPIRES_INTERVAL of silence',
      ['set'],
    ),
    featureServers: metrics.gauge(
      'sbc_feature_servers',
      'feature servers by state: active (available), drained (entries), drained_pinging, stale (silent, not yet swept)',
      ['state'],
    ),
    rtpengines: metrics.gauge(
      'sbc_rtpengines',
      'rtpengines in <cluster>:active-rtp by state: active, stale',
      ['state'],
    ),
    serviceUrls: metrics.gauge('sbc_feature_server_service_urls', 'members of <cluster>:fs-service-url'),
    gatewayUp: metrics.gauge(
      'sbc_carrier_gateway_up',
      'carrier gateway answered its last OPTIONS ping with 200 (1) or not (0)',
      ['sip_gateway_sid', 'gateway'],
    ),
    gatewayPings: metrics.counter(
      'sbc_carrier_gateway_pings_total',
      'OPTIONS pings sent to carrier gateways',
      ['result'],
    ),
  };
}

/**
 * Refreshes the set gauges from Redis, so /metrics shows the cluster's view rather than what this
 * instance happened to hear (run before each scrape and after each sweep).
 */
export async function refreshSetGauges(
  appMetrics: AppMetrics,
  deps: { sets: ServerSets; drain: FeatureServerDrain; expiresIntervalMs: number; now?: number },
): Promise<void> {
  const { sets, drain, expiresIntervalMs } = deps;
  const cutoff = (deps.now ?? Date.now()) - expiresIntervalMs;
  const isStale = async (set: 'active-fs' | 'active-rtp', member: string): Promise<boolean> => {
    const seen = await sets.lastSeen(set, member);
    return seen !== null && seen < cutoff;
  };
  const [available, counts, fsMembers, rtpMembers, urls] = await Promise.all([
    drain.available(),
    drain.counts(),
    sets.members('active-fs'),
    sets.members('active-rtp'),
    sets.count('fs-service-url'),
  ]);
  const staleFs = new Set<string>();
  for (const member of fsMembers) if (await isStale('active-fs', member)) staleFs.add(member);
  let staleRtp = 0;
  for (const member of rtpMembers) if (await isStale('active-rtp', member)) staleRtp++;
  appMetrics.featureServers.set({ state: 'active' }, available.filter((m) => !staleFs.has(m)).length);
  appMetrics.featureServers.set({ state: 'drained' }, counts.drained);
  appMetrics.featureServers.set({ state: 'drained_pinging' }, counts.drainedPinging);
  appMetrics.featureServers.set({ state: 'stale' }, staleFs.size);
  appMetrics.rtpengines.set({ state: 'active' }, rtpMembers.length - staleRtp);
  appMetrics.rtpengines.set({ state: 'stale' }, staleRtp);
  appMetrics.serviceUrls.set(urls);
}
