import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A metric or label name that breaks the project's Prometheus conventions. */
export class MetricNameError extends Error {
  override readonly name = 'MetricNameError';
}

export interface MetricsOptions {
  /** Every metric name starts with it (default `sbc_`). */
  prefix?: string;
  /** Register prom-client's process metrics (`<prefix>process_cpu_seconds_total`, …); default true. */
  defaultMetrics?: boolean;
  /** Labels on every series (e.g. `{ app: 'sbc-inbound' }`). */
  defaultLabels?: Record<string, string>;
}

/**
 * A registry of this app's metrics, with constructors that enforce the naming rules:
 * `<prefix>snake_case`, counters end in `_total`, histograms in a base unit (`_seconds`, `_bytes`),
 * nothing in milliseconds, label names `snake_case`.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly prefix: string;
  counter<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  /** `buckets` in the metric's unit (seconds for `_seconds`); prom-client's defaults suit seconds. */
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    buckets?: readonly number[],
  ): Histogram<L>;
}

const SNAKE = /^[a-z][a-z0-9_]*$/;
const BASE_UNITS = ['_seconds', '_bytes'];

function checkName(prefix: string, name: string, kind: 'counter' | 'gauge' | 'histogram'): void {
  const fail = (rule: string): never => {
    throw new MetricNameError(`metric name '${name}' ${rule}`);
  };
  if (!SNAKE.test(name)) fail('must be lower-case snake_case ([a-z][a-z0-9_]*)');
  if (!name.startsWith(prefix) || name.length === prefix.length) fail(`must start with '${prefix}'`);
  if (/_(ms|millis|milliseconds|msec)(_|$)/.test(name)) fail('must use seconds, not milliseconds');
  if (kind === 'counter' && !name.endsWith('_total')) fail("is a counter and must end in '_total'");
  if (kind !== 'counter' && name.endsWith('_total')) fail(`is a ${kind}; only counters end in '_total'`);
  if (kind === 'histogram' && !BASE_UNITS.some((unit) => name.endsWith(unit))) {
    fail(`is a histogram and must end in its unit (${BASE_UNITS.join(', ')})`);
  }
}

function checkLabels(name: string, labelNames: readonly string[]): void {
  for (const label of labelNames) {
    if (!SNAKE.test(label) || label.startsWith('__')) {
      throw new MetricNameError(`label '${label}' of metric '${name}' must be lower-case snake_case`);
    }
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? 'sbc_';
  if (!/^[a-z][a-z0-9_]*_$/.test(prefix)) {
    throw new MetricNameError(`metric prefix '${prefix}' must be lower-case snake_case ending in '_'`);
  }
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  const register = (
    name: string,
    kind: 'counter' | 'gauge' | 'histogram',
    labelNames: readonly string[],
  ): void => {
    checkName(prefix, name, kind);
    checkLabels(name, labelNames);
    if (registry.getSingleMetric(name)) throw new MetricNameError(`metric '${name}' is already registered`);
  };

  return {
    registry,
    prefix,
    counter(name, help, labelNames = []) {
      register(name, 'counter', labelNames);
      return new Counter({ name, help, labelNames, registers: [registry] });
    },
    gauge(name, help, labelNames = []) {
      register(name, 'gauge', labelNames);
      return new Gauge({ name, help, labelNames, registers: [registry] });
    },
    histogram(name, help, labelNames = [], buckets) {
      register(name, 'histogram', labelNames);
      return new Histogram({
        name,
        help,
        labelNames,
        registers: [registry],
        ...(buckets ? { buckets: [...buckets] } : {}),
      });
    },
  };
}
