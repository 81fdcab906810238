import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/jambonz.js';
import { CENSOR, redactSecrets } from './redact.js';

export type { Logger } from 'pino';

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
  const logger = pino(
    {
      name: options.name,
      level: options.level,
      formatters: { log: redactSecrets },
      ...(options.redact?.length && { redact: { paths: [...options.redact], censor: CENSOR } }),
    },
    // Asynchronous: lines written while a write is in flight go out together in the next one, off
    // the request path; pino flushes what is left synchronously when the process exits.
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  // pino formats a child's bindings without `formatters`: redact them on the way in. Children are
  // created from their parent's prototype, so every descendant inherits this.
  const child = Object.getPrototypeOf(logger) as Pick<Logger, 'child'>;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.child.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return logger;
}

/** The part of pino's asynchronous destination (sonic-boom) that tells whether a write is in flight. */
interface AsyncDestination {
  _writing: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

function isAsyncDestination(stream: unknown): stream is AsyncDestination {
  return typeof stream === 'object' && stream !== null && '_writing' in stream && 'once' in stream;
}

/**
 * Resolves once the lines logged so far are written, or after `timeoutMs`: call it before
 * `process.exit`. pino's own exit hook writes the queued lines synchronously but not the one an
 * asynchronous write still has in flight, which the exit can then lose or put after the others.
 */
export function flushLogger(logger: Logger, timeoutMs = 2_000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!isAsyncDestination(stream) || !stream._writing) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stream.once('drain', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** One child logger per call (or registration): every line carries the SIP Call-ID as `callId`. */
export function callLogger(logger: Logger, callId: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ ...bindings, callId });
}
