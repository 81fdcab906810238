import { DbError } from '@sbc/db';
import { RedisCommandError, RedisDataError, RedisUnavailableError } from '@sbc/redis';
import { DependencyUnavailableError, InboundAnswer } from '../answers.js';
import type { ClassifyDeps } from './types.js';

export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * A failure of MySQL or Redis as the 503 + Retry-After it is answered with (jambonz answers 500);
 * SIP answers pass through; anything else is a bug and is rethrown as it is.
 */
export function asAnswer(deps: ClassifyDeps, err: unknown): unknown {
  if (err instanceof InboundAnswer) return err;
  const retryAfter = deps.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  if (err instanceof DbError) {
    return new DependencyUnavailableError('mysql', retryAfter, `classification: ${err.message}`, {
      cause: err,
    });
  }
  if (
    err instanceof RedisUnavailableError ||
    err instanceof RedisCommandError ||
    err instanceof RedisDataError
  ) {
    return new DependencyUnavailableError('redis', retryAfter, `classification: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}
