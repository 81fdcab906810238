import { clusterKey, toRedisError, type Redis } from '@sbc/redis';
import { createPeriodicTask, type Logger } from '@sbc/service';
import {
  RUNTIME_KEYS,
  formatValue,
  isListKey,
  isRuntimeKey,
  parseItem,
  parseValue,
  unknownKeyMessage,
  type RuntimeKey,
  type RuntimeValue,
  type RuntimeValues,
} from './runtime-keys.js';

/** A command the service refuses (unknown key, bad value): one line for the CLI. */
export class RuntimeConfigError extends Error {
  override readonly name = 'RuntimeConfigError';
}

/** Where a value comes from: `set` at run time (kept in Redis) or the environment at start. */
export type ValueSource = 'runtime' | 'environment';

export type RuntimeChangeListener = <K extends RuntimeKey>(key: K, value: RuntimeValues[K]) => void;

/** How often every instance reads the cluster's values again (changes made through another instance). */
export const RELOAD_INTERVAL_MS = 2000;

/**
 * The runtime configuration: values `set` through the CLI of any instance, kept in the Redis hash
 * `<cluster>:runtime-config` (key → value as text), over the environment's values. Every instance
 * reads the hash at start and every RELOAD_INTERVAL_MS, so all instances agree and a restart keeps
 * what was set; `unset` goes back to the environment's value. Listeners apply changes at run time.
 */
export class RuntimeConfig {
  readonly key: string;
  private readonly values: RuntimeValues;
  private readonly overridden = new Set<RuntimeKey>();
  private readonly listeners: RuntimeChangeListener[] = [];
  private readonly log: Logger;
  private readonly reloader;
  private reloadFailing = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: {
      clusterId: string;
      /** The environment's values. */
      defaults: RuntimeValues;
      logger: Logger;
      reloadIntervalMs?: number;
    },
  ) {
    this.key = clusterKey(options.clusterId, 'runtime-config');
    this.values = {
      ...options.defaults,
      OPTIONS_RESPONSE_REMOVE: [...options.defaults.OPTIONS_RESPONSE_REMOVE],
    };
    this.log = options.logger.child({ component: 'runtime-config' });
    this.reloader = createPeriodicTask({
      intervalMs: options.reloadIntervalMs ?? RELOAD_INTERVAL_MS,
      run: async () => {
        await this.reload();
        if (this.reloadFailing) this.log.info('reading the runtime configuration works again');
        this.reloadFailing = false;
      },
      onError: (err) => {
        if (!this.reloadFailing) this.log.warn({ err }, 'cannot read the runtime configuration (will retry)');
        this.reloadFailing = true;
      },
    });
  }

  /** The value in effect now. */
  value<K extends RuntimeKey>(key: K): RuntimeValues[K] {
    return this.values[key];
  }

  source(key: RuntimeKey): ValueSource {
    return this.overridden.has(key) ? 'runtime' : 'environment';
  }

  onChange(listener: RuntimeChangeListener): void {
    this.listeners.push(listener);
  }

  /** Reads the cluster's values now, then every RELOAD_INTERVAL_MS. */
  async start(): Promise<void> {
    // A Redis that is down now leaves the environment's values until it answers.
    await this.reloader.runNow();
    this.reloader.start();
  }

  stop(): Promise<void> {
    return this.reloader.stop();
  }

  /** Applies the values in Redis (and the environment's for keys not there). */
  async reload(): Promise<void> {
    const stored = await this.guard(() => this.redis.hgetall(this.key));
    for (const key of RUNTIME_KEYS) {
      const raw = stored[key];
      if (raw === undefined) {
        this.apply(key, this.options.defaults[key], 'environment');
        continue;
      }
      const parsed = parseValue(key, raw);
      if (parsed.ok) this.apply(key, parsed.value, 'runtime');
      else this.log.warn({ key, raw }, `ignoring ${this.key} ${key}: ${parsed.problem}`);
    }
  }

  async set(key: string, raw: string): Promise<{ key: RuntimeKey; value: RuntimeValue }> {
    const known = this.known(key);
    const parsed = parseValue(known, raw);
    if (!parsed.ok) throw new RuntimeConfigError(parsed.problem);
    await this.store(known, parsed.value);
    return { key: known, value: parsed.value };
  }

  get(key: string): { key: RuntimeKey; value: RuntimeValue; source: ValueSource } {
    const known = this.known(key);
    return { key: known, value: this.value(known), source: this.source(known) };
  }

  /** Back to the environment's value, on every instance. */
  async unset(key: string): Promise<{ key: RuntimeKey; value: RuntimeValue; source: ValueSource }> {
    const known = this.known(key);
    await this.guard(() => this.redis.hdel(this.key, known));
    this.apply(known, this.options.defaults[known], 'environment');
    return this.get(known);
  }

  async add(
    key: string,
    rawItem: string,
  ): Promise<{ key: RuntimeKey; item: number; array: number[]; added: boolean }> {
    const { known, item, current } = await this.listOperation(key, rawItem);
    const added = !current.includes(item);
    const array = added ? [...current, item] : current;
    if (added) await this.store(known, array);
    return { key: known, item, array, added };
  }

  async remove(
    key: string,
    rawItem: string,
  ): Promise<{ key: RuntimeKey; item: number; array: number[]; removed: boolean }> {
    const { known, item, current } = await this.listOperation(key, rawItem);
    const array = current.filter((c) => c !== item);
    const removed = array.length !== current.length;
    if (removed) await this.store(known, array);
    return { key: known, item, array, removed };
  }

  list(): { config: Record<string, RuntimeValue>; sources: Record<string, ValueSource> } {
    const config: Record<string, RuntimeValue> = {};
    const sources: Record<string, ValueSource> = {};
    for (const key of RUNTIME_KEYS) {
      config[key] = this.value(key);
      sources[key] = this.source(key);
    }
    return { config, sources };
  }

  private known(key: string): RuntimeKey {
    if (!isRuntimeKey(key)) throw new RuntimeConfigError(unknownKeyMessage(key));
    return key;
  }

  private async listOperation(
    key: string,
    rawItem: string,
  ): Promise<{ known: 'OPTIONS_RESPONSE_REMOVE'; item: number; current: number[] }> {
    const known = this.known(key);
    if (!isListKey(known)) throw new RuntimeConfigError(`${known} is not a list: use set ${known} <value>`);
    const parsed = parseItem(known, rawItem);
    if (!parsed.ok) throw new RuntimeConfigError(parsed.problem);
    // Start from the cluster's value, which another instance may have changed since the last reload.
    await this.reload();
    return { known, item: parsed.value, current: this.value(known) };
  }

  private async store<K extends RuntimeKey>(key: K, value: RuntimeValues[K]): Promise<void> {
    await this.guard(() => this.redis.hset(this.key, key, formatValue(key, value)));
    this.apply(key, value, 'runtime');
  }

  private apply<K extends RuntimeKey>(key: K, value: RuntimeValues[K], source: ValueSource): void {
    if (source === 'runtime') this.overridden.add(key);
    else this.overridden.delete(key);
    if (formatValue(key, this.values[key]) === formatValue(key, value)) return;
    const from = this.values[key];
    this.values[key] = value;
    this.log.info(
      { key, from, to: value, source },
      `runtime configuration: ${key} = ${JSON.stringify(value)}`,
    );
    for (const listener of this.listeners) {
      try {
        listener(key, value);
      } catch (err) {
        this.log.error({ err, key }, 'applying a runtime configuration change failed');
      }
    }
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toRedisError(err);
    }
  }
}
