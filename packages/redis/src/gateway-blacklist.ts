import type { Redis } from 'ioredis';
import { RedisArgumentError, guard } from './errors.js';
import { gatewayBlacklistKey } from './keys.js';

/** jambonz OPTIONS_PING_TTL default. */
export const DEFAULT_BLACKLIST_TTL_SECONDS = 300;

/**
 * Carrier gateways that failed an OPTIONS ping: `blacklist-sip-gateway:<sip_gateway_sid>` = '1'
 * with a TTL. sbc-outbound skips gateways whose key exists.
 */
export class GatewayBlacklist {
  constructor(private readonly client: Redis) {}

  /** SET key '1' EX ttlSeconds. */
  async set(sipGatewaySid: string, ttlSeconds: number = DEFAULT_BLACKLIST_TTL_SECONDS): Promise<void> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new RedisArgumentError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
    }
    await guard(this.client, () =>
      this.client.set(gatewayBlacklistKey(sipGatewaySid), '1', 'EX', ttlSeconds),
    );
  }

  /** DEL key. True when the gateway was blacklisted. */
  async clear(sipGatewaySid: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.del(gatewayBlacklistKey(sipGatewaySid)))) === 1;
  }

  async isBlacklisted(sipGatewaySid: string): Promise<boolean> {
    return (await guard(this.client, () => this.client.exists(gatewayBlacklistKey(sipGatewaySid)))) === 1;
  }
}
