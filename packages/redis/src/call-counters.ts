import type { Redis } from 'ioredis';
import { RedisDataError, guard } from './errors.js';
import { callCounterKey, type CallCounterScope } from './keys.js';
import { LuaScript } from './script.js';

/** DECR KEYS[1] only while it is above 0; a missing key is not created. Returns the new value. */
const DECR_FLOOR_ZERO = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local value = tonumber(raw)
if value == nil then return redis.error_reply('ERR value is not an integer or out of range') end
if value <= 0 then
  if value < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
  return 0
end
return redis.call('DECR', KEYS[1])
`);

/**
 * Calls in progress per account (`incalls:account:<sid>`), service provider (`incalls:sp:<sid>:`)
 * and application (`incalls:app<sid>:`), shared by every SBC and checked against call limits.
 */
export class CallCounters {
  constructor(private readonly client: Redis) {}

  key(scope: CallCounterScope, sid: string): string {
    return callCounterKey(scope, sid);
  }

  /** INCR; resolves with the new count. */
  async incr(scope: CallCounterScope, sid: string): Promise<number> {
    return guard(this.client, () => this.client.incr(callCounterKey(scope, sid)));
  }

  /** DECR that never goes below 0 (a counter below 0 is repaired to 0); resolves with the new count. */
  async decr(scope: CallCounterScope, sid: string): Promise<number> {
    const value = await guard(this.client, () =>
      DECR_FLOOR_ZERO.run(this.client, [callCounterKey(scope, sid)], []),
    );
    return Number(value);
  }

  /** Current count, 0 when the key does not exist. */
  async get(scope: CallCounterScope, sid: string): Promise<number> {
    const key = callCounterKey(scope, sid);
    const raw = await guard(this.client, () => this.client.get(key));
    if (raw === null) return 0;
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new RedisDataError(`${key} does not hold an integer`, key);
    return Math.max(0, value);
  }
}
