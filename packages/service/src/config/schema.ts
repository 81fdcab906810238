import { ConfigError, type ConfigProblem } from './errors.js';
import {
  enumParser,
  hostPortParser,
  intParser,
  listParser,
  parseBool,
  parseCidr,
  parseFile,
  parseHost,
  parsePort,
  parseString,
  urlParser,
  type HostPort,
  type Parser,
} from './parsers.js';

/** The environment as a plain map (`process.env` fits). */
export type Env = Readonly<Record<string, string | undefined>>;

/** What one variable is, for error messages, README tables and `--help` output. */
export interface VariableInfo {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** The default, as it would be written in the environment. */
  readonly default: string | undefined;
  readonly secret: boolean;
}

/** Handed to every part while a config is read: the environment and a place to report problems. */
export interface ConfigContext {
  readonly env: Env;
  /** The raw value of `name`, with an empty string treated as unset (jambonz tests `process.env.X ||`). */
  raw(name: string): string | undefined;
  problem(variable: string, message: string): void;
}

/**
 * A piece of configuration: one variable, or a group of them with its own result shape.
 * `read` returns `undefined` only after it reported at least one problem.
 */
export interface ConfigPart<T> {
  readonly variables: readonly VariableInfo[];
  read(context: ConfigContext): { value: T } | undefined;
}

/** A part, or an object whose properties are schemas: the result has the same shape. */
export type ConfigSchema = ConfigPart<unknown> | { readonly [key: string]: ConfigSchema };

export type ConfigOf<S> = S extends ConfigPart<infer T> ? T : { -readonly [K in keyof S]: ConfigOf<S[K]> };

function isPart(schema: ConfigSchema): schema is ConfigPart<unknown> {
  return typeof (schema as ConfigPart<unknown>).read === 'function';
}

/** Turns a schema (a part or a nested object of parts) into one part. */
export function toPart<S extends ConfigSchema>(schema: S): ConfigPart<ConfigOf<S>> {
  if (isPart(schema)) return schema as ConfigPart<ConfigOf<S>>;
  const entries = Object.entries(schema).map(([key, sub]) => [key, toPart(sub)] as const);
  return {
    variables: entries.flatMap(([, part]) => part.variables),
    read(context) {
      const result: Record<string, unknown> = {};
      let failed = false;
      for (const [key, part] of entries) {
        const read = part.read(context);
        if (read === undefined) failed = true;
        else result[key] = read.value;
      }
      return failed ? undefined : { value: result as ConfigOf<S> };
    },
  };
}

/** Checks and combines the values of a sub-schema; `problem` reports a rule that spans variables. */
export type GroupBuilder<S extends ConfigSchema, R> = (values: ConfigOf<S>, context: ConfigContext) => R;

/**
 * A part made of other parts plus a rule that combines them (e.g. "the master name is required with
 * sentinels"). `build` runs only when every variable of `schema` parsed; if it reports a problem its
 * result is discarded.
 */
export function group<S extends ConfigSchema, R>(schema: S, build: GroupBuilder<S, R>): ConfigPart<R> {
  const inner = toPart(schema);
  return {
    variables: inner.variables,
    read(context) {
      const values = inner.read(context);
      if (values === undefined) return undefined;
      let reported = false;
      const value = build(values.value, {
        env: context.env,
        raw: (name) => context.raw(name),
        problem(variable, message) {
          reported = true;
          context.problem(variable, message);
        },
      });
      return reported ? undefined : { value };
    },
  };
}

function createContext(env: Env, problems: ConfigProblem[]): ConfigContext {
  return {
    env,
    raw(name) {
      const value = env[name];
      return value === undefined || value === '' ? undefined : value;
    },
    problem(variable, message) {
      problems.push({ variable, message });
    },
  };
}

/**
 * Reads `schema` from `env`. Collects every problem before failing, then throws one `ConfigError`
 * with a line per bad variable.
 */
export function loadConfig<S extends ConfigSchema>(schema: S, env: Env): ConfigOf<S> {
  const problems: ConfigProblem[] = [];
  const result = toPart(schema).read(createContext(env, problems));
  // Groups may share variables (the MySQL SSL files): report each problem once.
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.message === p.message) === i);
  if (unique.length > 0 || result === undefined) throw new ConfigError(unique);
  return result.value;
}

/** Every variable `schema` reads, in schema order (for README tables and `--help`). */
export function configVariables(schema: ConfigSchema): readonly VariableInfo[] {
  const seen = new Set<string>();
  return toPart(schema).variables.filter((v) => !seen.has(v.name) && seen.add(v.name));
}

/** `NAME=value` for messages, or just `NAME` for a secret; long or odd values are quoted and cut. */
export function describeValue(name: string, raw: string, secret: boolean): string {
  if (secret) return name;
  const cut = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  const plain = /^[\x21-\x7e]*$/.test(cut) && !cut.includes('"');
  return `${name}=${plain ? cut : JSON.stringify(cut)}`;
}

interface VarSpec<T> {
  readonly name: string;
  readonly description: string;
  readonly parse: Parser<T>;
  readonly secret: boolean;
  readonly checks: readonly { readonly test: (value: T) => boolean; readonly problem: string }[];
}

/** One variable whose type is chosen; say `.required()`, `.optional()` or `.default(v)` to use it. */
export class VarBuilder<T> {
  constructor(private readonly spec: VarSpec<T>) {}

  /** The value is a secret: it never appears in an error message. */
  secret(): VarBuilder<T> {
    return new VarBuilder({ ...this.spec, secret: true });
  }

  /** A custom rule; `problem` completes the sentence "NAME=value …", e.g. 'must be at least 16 characters'. */
  check(test: (value: T) => boolean, problem: string): VarBuilder<T> {
    return new VarBuilder({ ...this.spec, checks: [...this.spec.checks, { test, problem }] });
  }

  required(): ConfigPart<T> {
    // A required variable's value is never undefined: `read` reports a problem instead.
    return this.part({ required: true, fallback: undefined }) as ConfigPart<T>;
  }

  optional(): ConfigPart<T | undefined> {
    return this.part({ required: false, fallback: undefined });
  }

  default(value: T): ConfigPart<T> {
    return this.part({ required: false, fallback: { value } }) as ConfigPart<T>;
  }

  private part(mode: { required: boolean; fallback: { value: T } | undefined }): ConfigPart<T | undefined> {
    const { name, description, parse, secret, checks } = this.spec;
    const info: VariableInfo = {
      name,
      description,
      required: mode.required,
      default: mode.fallback === undefined ? undefined : formatDefault(mode.fallback.value),
      secret,
    };
    return {
      variables: [info],
      read(context) {
        const raw = context.raw(name);
        if (raw === undefined) {
          if (mode.fallback !== undefined) return { value: mode.fallback.value };
          if (!mode.required) return { value: undefined };
          context.problem(name, `${name} is required (${description})`);
          return undefined;
        }
        const parsed = parse(raw);
        const label = describeValue(name, raw, secret);
        if (!parsed.ok) {
          context.problem(name, `${label} ${parsed.problem}`);
          return undefined;
        }
        const failed = checks.find((c) => !c.test(parsed.value));
        if (failed) {
          context.problem(name, `${label} ${failed.problem}`);
          return undefined;
        }
        return { value: parsed.value };
      },
    };
  }
}

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.map(formatDefault).join(',');
  if (typeof value === 'object' && value !== null && 'host' in value && 'port' in value) {
    const { host, port } = value as HostPort;
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  return String(value);
}

function builder<T>(name: string, description: string, parse: Parser<T>): VarBuilder<T> {
  return new VarBuilder({ name, description, parse, secret: false, checks: [] });
}

/**
 * Builders for one environment variable each. `description` says what the variable is; it ends the
 * "is required (…)" line, so write it as a noun phrase ("MySQL host name or address").
 */
export const envVar = {
  string: (name: string, description: string) => builder(name, description, parseString),
  /** A string that never appears in messages (passwords, shared secrets). */
  secret: (name: string, description: string) => builder(name, description, parseString).secret(),
  int: (name: string, description: string, range: { min?: number; max?: number } = {}) =>
    builder(name, description, intParser(range)),
  port: (name: string, description: string) => builder(name, description, parsePort),
  bool: (name: string, description: string) => builder(name, description, parseBool),
  /** Comma-separated strings. */
  list: (name: string, description: string) => builder(name, description, listParser(parseString, 'values')),
  host: (name: string, description: string) => builder(name, description, parseHost),
  cidr: (name: string, description: string) => builder(name, description, parseCidr),
  /** Comma-separated CIDR networks (`JAMBONES_NETWORK_CIDR`). */
  cidrList: (name: string, description: string) =>
    builder(name, description, listParser(parseCidr, 'CIDR networks')),
  hostPort: (name: string, description: string, options: { defaultPort?: number } = {}) =>
    builder(name, description, hostPortParser(options)),
  /** `h[:p],h[:p]` (`JAMBONES_REDIS_SENTINELS`). */
  hostPortList: (name: string, description: string, options: { defaultPort?: number } = {}) =>
    builder(
      name,
      description,
      listParser(hostPortParser(options), options.defaultPort === undefined ? 'host:port' : 'host[:port]'),
    ),
  url: (name: string, description: string, options: { protocols?: readonly string[] } = {}) =>
    builder(name, description, urlParser(options)),
  oneOf: <const V extends string>(name: string, description: string, values: readonly V[]) =>
    builder(name, description, enumParser(values)),
  /** A path to a readable file; the value is the file's contents. */
  file: (name: string, description: string) => builder(name, description, parseFile),
  /** Any other type: `parse` returns the value or the end of "NAME=value …" ('is not a …'). */
  custom: <T>(name: string, description: string, parse: Parser<T>) => builder(name, description, parse),
} as const;
