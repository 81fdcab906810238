import { LOG_LEVELS, parseSipStatusList, type LogLevel, type ParseResult } from '@sbc/service';

/**
 * The settings the CLI can change while sbc-options runs (`set`, `get`, `add`, `remove`, `unset`,
 * `list`). Each is named after the environment variable that gives its start value, with the same
 * unit; README.md ("Runtime configuration") says what each changes.
 */
export interface RuntimeValues {
  JAMBONES_LOGLEVEL: LogLevel;
  EXPIRES_INTERVAL: number;
  CHECK_EXPIRES_INTERVAL: number;
  SEND_OPTIONS_PING_INTERVAL: number;
  OPTIONS_PING_TTL: number;
  OPTIONS_RESPONSE_REMOVE: number[];
}

export type RuntimeKey = keyof RuntimeValues;
export type RuntimeValue = RuntimeValues[RuntimeKey];

interface KeyDefinition<T> {
  /** The text of `set <key> <value>` (and of the value kept in Redis). */
  parse(raw: string): ParseResult<T>;
  /** The text kept in Redis for a value. */
  format(value: T): string;
  /** List keys: one item of `add` / `remove`. */
  item?: (raw: string) => ParseResult<number>;
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = (problem: string): ParseResult<never> => ({ ok: false, problem });

function integer(min: number, unit: string): KeyDefinition<number> {
  return {
    parse(raw) {
      const text = raw.trim();
      const value = Number(text);
      return /^\d+$/.test(text) && Number.isSafeInteger(value) && value >= min
        ? ok(value)
        : bad(`must be a whole number of ${unit}, ${min} or more`);
    },
    format: String,
  };
}

const sipStatus = (raw: string): ParseResult<number> =>
  /^[1-6]\d\d$/.test(raw.trim()) ? ok(Number(raw.trim())) : bad('must be a SIP status code (100-699)');

const definitions: { [K in RuntimeKey]: KeyDefinition<RuntimeValues[K]> } = {
  JAMBONES_LOGLEVEL: {
    parse(raw) {
      const level = LOG_LEVELS.find((l) => l === raw.trim());
      return level ? ok(level) : bad(`must be one of ${LOG_LEVELS.join(', ')}`);
    },
    format: String,
  },
  EXPIRES_INTERVAL: integer(10, 'ms'),
  CHECK_EXPIRES_INTERVAL: integer(10, 'ms'),
  SEND_OPTIONS_PING_INTERVAL: {
    parse(raw) {
      const value = Number(raw.trim());
      return raw.trim() !== '' && Number.isFinite(value) && value > 0
        ? ok(value)
        : bad('must be a positive number of seconds');
    },
    format: String,
  },
  OPTIONS_PING_TTL: integer(1, 'seconds'),
  OPTIONS_RESPONSE_REMOVE: {
    parse(raw) {
      const parsed = parseSipStatusList(raw);
      return parsed.ok ? ok([...new Set(parsed.value)]) : bad('must be comma-separated SIP status codes');
    },
    format: (codes) => codes.join(','),
    item: sipStatus,
  },
};

/** Every key, in the order `list` prints them. */
export const RUNTIME_KEYS = Object.keys(definitions) as RuntimeKey[];

export function isRuntimeKey(key: string): key is RuntimeKey {
  return (RUNTIME_KEYS as string[]).includes(key);
}

/** The one-line refusal of a key sbc-options does not know. */
export function unknownKeyMessage(key: string): string {
  return `Unknown key: ${key} (known keys: ${RUNTIME_KEYS.join(', ')})`;
}

export function parseValue<K extends RuntimeKey>(key: K, raw: string): ParseResult<RuntimeValues[K]> {
  const parsed = definitions[key].parse(raw);
  return parsed.ok ? parsed : bad(`Invalid value for ${key}: ${parsed.problem}`);
}

export function formatValue<K extends RuntimeKey>(key: K, value: RuntimeValues[K]): string {
  return definitions[key].format(value);
}

/** The keys whose value is a list (`add` / `remove`). */
export function isListKey(key: RuntimeKey): key is 'OPTIONS_RESPONSE_REMOVE' {
  return definitions[key].item !== undefined;
}

export function parseItem(key: 'OPTIONS_RESPONSE_REMOVE', raw: string): ParseResult<number> {
  const parsed = sipStatus(raw);
  return parsed.ok ? parsed : bad(`Invalid item for ${key}: ${parsed.problem}`);
}
