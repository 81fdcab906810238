import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/jambonz.js';

export type { Logger } from 'pino';

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

/** Private keys inside TLS settings (`{ ssl: { key } }`, `{ tls: { key } }`). */
const REDACTED_PATHS: readonly string[] = ['ssl.key', 'tls.key'];

function redactPaths(extra: readonly string[]): string[] {
  const prefixes = ['', '*.', '*.*.', '*.*.*.'];
  const leaves = [...REDACTED_FIELDS, ...REDACTED_PATHS];
  return [...prefixes.flatMap((prefix) => leaves.map((leaf) => `${prefix}${leaf}`)), ...extra];
}

export interface LoggerOptions {
  /** From `JAMBONES_LOGLEVEL` (see `logLevelEnv()`). */
  level: LogLevel;
  /** The app's name, on every line as `name`. */
  name: string;
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream;
  /** More paths to redact, in pino's syntax (`'hook.auth.password'`). */
  redact?: readonly string[];
}

/** The app's pino logger: JSON lines, secrets (`password`, `secret`, …) replaced by `[redacted]`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: redactPaths(options.redact ?? []), censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** One child logger per call (or registration): every line carries the SIP Call-ID as `callId`. */
export function callLogger(logger: Logger, callId: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ ...bindings, callId });
}
