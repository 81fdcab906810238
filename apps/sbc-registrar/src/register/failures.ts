import { DbUnavailableError } from '@sbc/db';
import { RedisUnavailableError } from '@sbc/redis';
import { DependencyUnavailableError, RegistrarFaultError, type RegisterAnswer } from './errors.js';

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A failed Redis command: 503 when Redis is unreachable or slow, 500 for anything else. */
export function redisDown(err: unknown, retryAfterSeconds: number): RegisterAnswer {
  if (err instanceof RedisUnavailableError) {
    return new DependencyUnavailableError('redis', retryAfterSeconds, `redis: ${messageOf(err)}`);
  }
  return new RegistrarFaultError(`redis: ${messageOf(err)}`, { cause: err });
}

/** A failed MySQL query: 503 when MySQL is unreachable or slow, 500 for anything else. */
export function mysqlDown(err: unknown, retryAfterSeconds: number): RegisterAnswer {
  if (err instanceof DbUnavailableError) {
    return new DependencyUnavailableError('mysql', retryAfterSeconds, `mysql: ${messageOf(err)}`);
  }
  return new RegistrarFaultError(`mysql: ${messageOf(err)}`, { cause: err });
}
