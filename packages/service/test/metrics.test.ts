import { describe, expect, it } from 'vitest';
import { createMetrics, MetricNameError } from '../src/index.js';

describe('createMetrics', () => {
  it('registers process metrics under the prefix and the metrics apps define', async () => {
    const metrics = createMetrics({ defaultLabels: { app: 'sbc-inbound' } });
    const invites = metrics.counter('sbc_invites_total', 'INVITEs received', ['source']);
    const calls = metrics.gauge('sbc_calls', 'calls in progress');
    const hook = metrics.histogram(
      'sbc_auth_hook_duration_seconds',
      'auth hook answer time',
      ['outcome'],
      [0.05, 0.5],
    );
    invites.inc({ source: 'carrier' });
    calls.set(3);
    hook.observe({ outcome: 'ok' }, 0.1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('sbc_invites_total{source="carrier",app="sbc-inbound"} 1');
    expect(text).toContain('sbc_calls{app="sbc-inbound"} 3');
    expect(text).toContain(
      'sbc_auth_hook_duration_seconds_bucket{le="0.5",app="sbc-inbound",outcome="ok"} 1',
    );
    expect(text).toContain('sbc_process_cpu_seconds_total');
    expect(text).toContain('sbc_nodejs_eventloop_lag_seconds');
  });

  it('leaves process metrics out on request', async () => {
    const metrics = createMetrics({ prefix: 'sbc_options_', defaultMetrics: false });
    metrics.counter('sbc_options_pings_total', 'OPTIONS pings sent');
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('process_cpu');
    expect(text).toContain('sbc_options_pings_total 0');
  });

  it('enforces the naming conventions', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const cases: [() => unknown, string][] = [
      [() => metrics.counter('invites_total', 'x'), "metric name 'invites_total' must start with 'sbc_'"],
      [
        () => metrics.counter('sbc_invites', 'x'),
        "metric name 'sbc_invites' is a counter and must end in '_total'",
      ],
      [
        () => metrics.gauge('sbc_calls_total', 'x'),
        "metric name 'sbc_calls_total' is a gauge; only counters end in '_total'",
      ],
      [
        () => metrics.histogram('sbc_hook_duration', 'x'),
        "metric name 'sbc_hook_duration' is a histogram and must end in its unit (_seconds, _bytes)",
      ],
      [
        () => metrics.histogram('sbc_hook_ms', 'x'),
        "metric name 'sbc_hook_ms' must use seconds, not milliseconds",
      ],
      [
        () => metrics.gauge('sbc_Calls', 'x'),
        "metric name 'sbc_Calls' must be lower-case snake_case ([a-z][a-z0-9_]*)",
      ],
      [() => metrics.gauge('sbc_', 'x'), "metric name 'sbc_' must start with 'sbc_'"],
      [
        () => metrics.counter('sbc_calls_total', 'x', ['sipStatus']),
        "label 'sipStatus' of metric 'sbc_calls_total' must be lower-case snake_case",
      ],
      [
        () => createMetrics({ prefix: 'SBC' }),
        "metric prefix 'SBC' must be lower-case snake_case ending in '_'",
      ],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(MetricNameError);
      expect(run).toThrow(message);
    }
  });

  it('refuses to register a name twice', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.counter('sbc_invites_total', 'x');
    expect(() => metrics.counter('sbc_invites_total', 'x')).toThrow(
      "metric 'sbc_invites_total' is already registered",
    );
  });
});
