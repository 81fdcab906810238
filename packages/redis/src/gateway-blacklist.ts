import type { Redis } from 'ioredis';
import { RedisArgumentError, execResult, guard } from './errors.js';
import { gatewayBlacklistKey } from './keys.js';

/** jambonz OPTIONS_PING_TTL default. */
export const DEFAULT_BLACKLIST_TTL_SECONDS = 300;

/**
 * Carrier gateways that failed an OPTIONS ping: `blacklist-sip-gateway:<sip_gateway_sid>` = '1'
 * with a TTL. sbc-outbound skips gateways whose key exists.
 */
export class GatewayBlacklist {
  constructor(private readonly client: Redis) {}

  /**
   * SET key '1' EX ttlSeconds (a gateway already blacklisted gets its TTL renewed). Resolves true when
   * the key did not exist before, i.e. this call started a failure episode; EXISTS and SET run in one
   * MULTI, so of several SBCs marking the same gateway at once exactly one sees true.
   */
  async set(sipGatewaySid: string, ttlSeconds: number = DEFAULT_BLACKLIST_TTL_SECONDS): Promise<boolean> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new RedisArgumentError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
    }
    const key = gatewayBlacklistKey(sipGatewaySid);
    const results = await guard(this.client, () =>
      this.client.multi().exists(key).set(key, '1', 'EX', ttlSeconds).exec(),
    );
    execResult(this.client, results, 1);
    return execResult(this.client, results, 0) === 0;
  }

  /** DEL key. True when the gateway was blacklisted. */
  async clear(sipGatewaySid: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.del(gatewayBlacklistKey(sipGatewaySid)))) === 1;
  }

  async isBlacklisted(sipGatewaySid: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.exists(gatewayBlacklistKey(sipGatewaySid)))) === 1;
  }
}
