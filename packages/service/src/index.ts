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
export type { HostPort, Parser, ParseResult } from './config/parsers.js';
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
  JAMBONZ_DEFAULT_NETWORK_CIDRS,
  LOG_LEVELS,
  type DrachtioConfig,
  type EncryptionConfig,
  type LogLevel,
  type MysqlConfig,
  type RedisConfig,
  type TimeSeriesConfig,
  type TlsConfig,
} from './config/jambonz.js';
export { createLogger, callLogger, flushLogger, type Logger, type LoggerOptions } from './logger.js';
export { REDACTED_FIELDS } from './redact.js';
export type * from './drachtio/types.js';
export { batchWritesThisTurn } from './drachtio/batched-writes.js';
export { createSrf, parseSipUri, stringifySipUri, isSipError, SipErrorClass } from './drachtio/srf.js';
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
