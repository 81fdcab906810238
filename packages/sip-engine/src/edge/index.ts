export { EdgeGuard, type EdgeConfig, type EdgeDropReason } from './guard.js';
export { edgeConfigFrom, EDGE_DEFAULTS, EdgeOptionError, type EdgeFlags } from './options.js';
export {
  parseDrachtioConfig,
  readDrachtioConfig,
  ConfigFileError,
  type DrachtioConfigFile,
} from './config-file.js';
export { DEFAULT_SPAMMERS, spammerMatch, type SpammerRules, type SpammerAction } from './spammers.js';
export { SourceRateLimiter, type RateLimit, type RateVerdict } from './rate-limiter.js';
export { RedisBlacklist, type BlacklistConfig } from './blacklist.js';
