/**
 * Secrets out of log lines, by field name. pino's own `redact` compiles one matcher per path and
 * costs ~50 µs per line with the wildcard paths this needs (`*.*.*.password`, …); this walk visits
 * the few keys of a typical line and copies only the objects on the way to a secret it replaces.
 */

export const CENSOR = '[redacted]';

/** Field names whose values never reach a log line, at any of the first four levels of nesting. */
export const REDACTED_FIELDS: readonly string[] = [
  'password',
  'secret',
  'passphrase',
  'sentinelPassword',
  'encryptionSecret',
  'jwtSecret',
  'webhookSecret',
  'webhook_secret',
  'register_password',
];

const FIELDS = new Set(REDACTED_FIELDS);
/** Objects whose `key` is a private key (`{ ssl: { key } }`, `{ tls: { key } }`). */
const KEY_HOLDERS = new Set(['ssl', 'tls']);
/** Levels below the logged object that are searched (pino paths `x` … `*.*.*.x`). */
const MAX_DEPTH = 3;

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value);
}

/** A shallow copy that keeps the prototype (so an Error still serializes as one). */
function shallowCopy<T extends Container>(value: T): T {
  if (Array.isArray(value)) return [...value] as T;
  const source: Record<string, unknown> = value;
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(source)) copy[name] = source[name];
  return copy as T;
}

/**
 * `value` with every secret within `MAX_DEPTH` levels replaced by `[redacted]`; the same object when
 * it holds none. Never changes what the caller passed.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (!isContainer(value)) return value;
  let copy: Container | undefined;
  const set = (key: string, replacement: unknown) => {
    copy ??= shallowCopy(value);
    (copy as Record<string, unknown>)[key] = replacement;
  };
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key];
    if (inner === undefined || inner === null) continue;
    if (FIELDS.has(key)) {
      set(key, CENSOR);
      continue;
    }
    let next = inner;
    if (KEY_HOLDERS.has(key) && isContainer(inner) && 'key' in inner && inner.key !== undefined) {
      next = { ...shallowCopy(inner), key: CENSOR };
    }
    if (depth < MAX_DEPTH) next = redactSecrets(next, depth + 1);
    if (next !== inner) set(key, next);
  }
  return (copy ?? value) as T;
}
