import type { Redis } from 'ioredis';
import { RedisArgumentError, execResult, guard } from './errors.js';
import { ephemeralGatewayKey } from './keys.js';
import { LuaScript } from './script.js';

/** jambonz re-arms the whole hash for 2 hours on every write. */
export const EPHEMERAL_GATEWAY_KEY_TTL_SECONDS = 7200;

/**
 * HGETALL KEYS[1], deleting fields whose expiry (unix s) is not after ARGV[1] or is not a number,
 * in one step so a concurrent refresh by another SBC is never deleted. Returns the live fields.
 */
const QUERY = new LuaScript(`
local now = tonumber(ARGV[1])
local live = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local expiry = tonumber(flat[i + 1])
  if expiry == nil or expiry <= now then
    redis.call('HDEL', KEYS[1], flat[i])
  else
    live[#live + 1] = flat[i]
  end
end
return live
`);

/**
 * Registration-trunk gateway addresses (`eph-gw-ip:<ip>`): a hash voip_carrier_sid → unix expiry
 * (seconds), written by the regbot after each REGISTER response and read by sbc-inbound to accept
 * INVITEs from those IPs as that carrier.
 */
export class EphemeralGateways {
  constructor(private readonly client: Redis) {}

  /** HSET eph-gw-ip:<ip> <carrierSid> <now_s + ttlSeconds> + EXPIRE 7200, in one MULTI. */
  async create(
    ip: string,
    carrierSid: string,
    ttlSeconds: number,
    nowMs: number = Date.now(),
  ): Promise<void> {
    if (ip.length === 0 || carrierSid.length === 0)
      throw new RedisArgumentError('ip and carrierSid are required');
    if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) {
      throw new RedisArgumentError(`ttlSeconds must be >= 0, got ${ttlSeconds}`);
    }
    const key = ephemeralGatewayKey(ip);
    const expiry = Math.floor(nowMs / 1000) + Math.floor(ttlSeconds);
    const results = await guard(this.client, () =>
      this.client
        .multi()
        .hset(key, carrierSid, String(expiry))
        .expire(key, EPHEMERAL_GATEWAY_KEY_TTL_SECONDS)
        .exec(),
    );
    execResult(this.client, results, 0);
    execResult(this.client, results, 1);
  }

  /** voip_carrier_sids whose entry for `ip` has not expired; expired or garbled entries are deleted. */
  async query(ip: string, nowMs: number = Date.now()): Promise<string[]> {
    const live = await guard(this.client, () =>
      QUERY.run(this.client, [ephemeralGatewayKey(ip)], [Math.floor(nowMs / 1000)]),
    );
    return Array.isArray(live) ? live.map(String) : [];
  }

  /** Removes one carrier from `ip` (Redis drops the key with its last field). True when it was there. */
  async delete(ip: string, carrierSid: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.hdel(ephemeralGatewayKey(ip), carrierSid))) === 1;
  }
}
