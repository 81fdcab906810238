import { callLogger, type Logger } from './logger.js';

type Level = 'error' | 'warn' | 'info' | 'debug';

/** The per-request logger: a pino child carrying `callId` (and whatever `bindings` hold by then). */
export type RequestLog = Record<Level, (obj: Record<string, unknown>, msg: string) => void>;

/**
 * One child logger per request, created on its first line at an enabled level: most requests
 * (challenges, cached refreshes) log nothing at info, and a pino child costs more than the rest of
 * such an answer. `bindings` is read when the child is made, so a step may add to it (e.g. `aor`).
 */
export function requestLog(
  logger: Logger,
  callId: string,
  bindings: Record<string, unknown> = {},
): RequestLog {
  let child: Logger | undefined;
  const line =
    (level: Level) =>
    (obj: Record<string, unknown>, msg: string): void => {
      if (!logger.isLevelEnabled(level)) return;
      child ??= callLogger(logger, callId, bindings);
      child[level](obj, msg);
    };
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') };
}
