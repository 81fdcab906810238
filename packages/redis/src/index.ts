export {
  createRedisClient,
  pingRedis,
  toIoredisOptions,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type RedisClientOptions,
  type RedisTlsOptions,
  type RedisLogger,
} from './client.js';
export {
  RedisUnavailableError,
  RedisAuthError,
  RedisCommandError,
  RedisDataError,
  RedisConfigError,
  RedisArgumentError,
  toRedisError,
  type RedisError,
} from './errors.js';
export {
  DEFAULT_CLUSTER_ID,
  ACTIVE_USER_KEY,
  clusterKey,
  registrationKey,
  regbotTokenKey,
  ephemeralGatewayKey,
  gatewayBlacklistKey,
  callCounterKey,
  DEFAULT_SOURCE_BLACKLIST_KEY,
  authFailureKey,
  type CallCounterScope,
} from './keys.js';
export {
  RegistrationStore,
  RedisNotDurableError,
  type RegistrationDurability,
  type RegistrationRecord,
  type RegistrationBinding,
  type RegistrationHook,
  type RegisteredUser,
} from './registration-store.js';
export { ServerSets, hostOf, type ServerSetName, type ServerSetsOptions } from './server-sets.js';
export { LeaderLock, type LeaderLockOptions } from './leader-lock.js';
export { EphemeralGateways, EPHEMERAL_GATEWAY_KEY_TTL_SECONDS } from './ephemeral-gateways.js';
export { GatewayBlacklist, DEFAULT_BLACKLIST_TTL_SECONDS } from './gateway-blacklist.js';
export { CallCounters } from './call-counters.js';
export {
  SourceBans,
  type AuthFailureCount,
  type BanReason,
  type SourceBan,
  type SourceBansOptions,
} from './source-bans.js';
export { NonceStore, type NonceStoreOptions } from './nonce-store.js';
export type { Redis } from 'ioredis';
