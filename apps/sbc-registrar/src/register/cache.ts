/**
 * Step 2: jambonz's checkCache. A refresh from the ip:port that holds an unexpired binding, more than
 * NAT_EXPIRES (30 s) before it expires, is answered 200 at once: no account lookup, no challenge, no
 * hook call, and the stored binding (and its TTL) is left as it is. UDP phones are told to come back
 * every 30 s, so most of their refreshes end here. With SBC_REDIS_MIN_REPLICAS the binding is
 * re-written unchanged and WAITed for first (RegistrationStore.reaffirm).
 */
import { RedisDataError, type RegistrationRecord, type RegistrationStore } from '@sbc/redis';
import type { Registration } from './parse.js';
import { redisDown } from './failures.js';

export interface CachedBinding {
  record: RegistrationRecord;
}

/** The binding a refresh may be answered from, or undefined when the request must be authenticated. */
export async function findCachedBinding(
  store: RegistrationStore,
  registration: Registration,
  source: { address: string; port: number },
  options: { natExpires: number; retryAfterSeconds: number; now: number },
): Promise<CachedBinding | undefined> {
  if (registration.type !== 'register') return undefined;
  let record: RegistrationRecord | null;
  try {
    record = await store.get(registration.aor);
  } catch (err) {
    // Something else than a registration under the key: authenticate, and the new binding replaces it.
    if (err instanceof RedisDataError) return undefined;
    throw redisDown(err, options.retryAfterSeconds);
  }
  if (!record) return undefined;
  if (record.proxy !== `sip:${source.address}:${source.port}`) return undefined;
  if (options.now + options.natExpires * 1000 >= record.expiryTime) return undefined;
  // SBC_REDIS_MIN_REPLICAS: a 200 only for a binding the replicas hold (the one read may be a
  // write whose WAIT fell short and was answered 503).
  if (store.waitsForReplicas) {
    try {
      if (!(await store.reaffirm(registration.aor))) return undefined;
    } catch (err) {
      throw redisDown(err, options.retryAfterSeconds);
    }
  }
  return { record };
}
