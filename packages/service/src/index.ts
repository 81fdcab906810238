export { ConfigError, type ConfigProblem } from './config/errors.js';
export {
  envVar,
  group,
  loadConfig,
  configVariables,
  toPart,
  VarBuilder,
  type ConfigContext,
  type ConfigOf,
  type ConfigPart,
  type ConfigSchema,
  type Env,
  type GroupBuilder,
  type VariableInfo,
} from './config/schema.js';
export { parseSipStatusList, type HostPort, type Parser, type ParseResult } from './config/parsers.js';
export { exitOnConfigError, type ExitTarget } from './config/exit.js';
export {
  drachtioEnv,
  mysqlEnv,
  mysqlWriteEnv,
  redisEnv,
  logLevelEnv,
  httpPortEnv,
  networkCidrEnv,
  clusterIdEnv,
  encryptionEnv,
  timeSeriesEnv,
  k8sEnv,
  digestAuthEnv,
  deriveNonceSecret,
  JAMBONZ_DEFAULT_NETWORK_CIDRS,
  LOG_LEVELS,
  type DigestAuthConfig,
  type DrachtioConfig,
  type EncryptionConfig,
  type LogLevel,
  type MysqlConfig,
  type RedisConfig,
  type TimeSeriesConfig,
  type TlsConfig,
} from './config/jambonz.js';
export { createLogger, callLogger, flushLogger, type Logger, type LoggerOptions } from './logger.js';
export { requestLog, type RequestLog } from './request-log.js';
export { SipAnswer, headerLines } from './sip-answer.js';
export { combineAlertSinks, createLogAlertSink, type Alert, type AlertSink } from './alerts.js';
export {
  createPeriodicTask,
  type NextRunDelay,
  type PeriodicTask,
  type PeriodicTaskOptions,
} from './periodic-task.js';
export {
  ipFamily,
  networkContains,
  normalizeIp,
  parseNetwork,
  parseNetworks,
  sameAddress,
  unmapIpv4,
  type Network,
  type NetworkSet,
} from '@sbc/net';
export {
  createSourceBanPolicy,
  sourceBansEnv,
  type BanStore,
  type SourceBanPolicy,
  type SourceBansConfig,
  type SourceBansDeps,
} from './source-bans.js';
export { REDACTED_FIELDS } from './redact.js';
export type * from './drachtio/types.js';
export { batchWritesThisTurn } from './drachtio/batched-writes.js';
export { createSrf, isSipError, SipErrorClass } from './drachtio/srf.js';
export { sendRequest, type RequestOutcome } from './drachtio/request.js';
export {
  privateSipAddress,
  privateSipAddresses,
  publicAddresses,
  type PublicAddress,
} from './drachtio/addresses.js';
export { SbcAddressKeeper, type SbcAddressKeeperOptions } from './sbc-address-keeper.js';
// The SIP syntax lives in @sbc/sip (the repository's one parser); these stay here for existing importers.
export { parseSipUri, isIpLiteral, rewriteContactExpires, type SipUriParts } from '@sbc/sip';
export {
  connectDrachtio,
  drachtioReadinessCheck,
  parseEngineHostports,
  DrachtioClosedError,
  DrachtioConnectTimeoutError,
  DrachtioListenError,
  type DrachtioConnection,
  type DrachtioConnectionOptions,
  type EngineHostport,
  type EngineInfo,
} from './drachtio/connection.js';
export {
  createHealthServer,
  ReadinessTimeoutError,
  type HealthServer,
  type HealthServerOptions,
  type ReadinessCheck,
  type ReadinessResult,
} from './health.js';
export { createMetrics, MetricNameError, type Metrics, type MetricsOptions } from './metrics.js';
export {
  onShutdown,
  ShutdownStepTimeoutError,
  type ShutdownHandle,
  type ShutdownOptions,
  type ShutdownProcess,
  type ShutdownStep,
} from './shutdown.js';
