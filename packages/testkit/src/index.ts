export { startRedis, redisAnswersPing, type RedisService, type StartRedisOptions } from './redis.js';
export {
  startRedisSentinelCluster,
  type RedisSentinelCluster,
  type SentinelEvent,
  type SentinelRedisNode,
  type StartRedisSentinelClusterOptions,
} from './sentinel.js';
export {
  startMysql,
  type MysqlService,
  type TestDatabase,
  type CreateDatabaseOptions,
  type StartMysqlOptions,
} from './mysql.js';
export {
  startInfluxdb,
  type InfluxdbService,
  type InfluxResult,
  type StartInfluxdbOptions,
} from './influxdb.js';
export {
  startRtpengine,
  ngCommand,
  rtpPackets,
  type RtpengineService,
  type StartRtpengineOptions,
} from './rtpengine.js';
export { writeSelfSignedCertificate } from './certificate.js';
export {
  runSipp,
  startSipp,
  type SippOptions,
  type SippResult,
  type SippRun,
  type SippTransport,
} from './sipp.js';
export { scenarioPath, type KitScenario } from './scenarios.js';
export {
  startFakeAuthHook,
  verifyJambonzSignature,
  type FakeAuthHook,
  type FakeAuthHookOptions,
  type HookBehaviour,
  type HookUser,
  type RecordedHookRequest,
} from './auth-hook.js';
export { digestResponse, type DigestAlgorithm, type DigestInput } from './digest.js';
export { freePort, freeTcpPort, freeUdpPort, randomPortRange } from './ports.js';
export { makeTempDir, type TempDir } from './tempdir.js';
export { startDaemon, DaemonExitedError, type Daemon, type DaemonOptions } from './daemon.js';
export { waitUntil, type WaitOptions } from './wait.js';
export { bencode, bdecode, type BValue } from './bencode.js';
export {
  startEngine,
  probeEngine,
  type EngineService,
  type StartEngineOptions,
  type SipHostport,
} from './engine.js';
export { metricValue } from './metrics.js';
export {
  SipPhone,
  authorization,
  challengesOf,
  type Challenge,
  type RegisterOptions as SipPhoneRegisterOptions,
  type SipResponseMessage,
} from './sip-phone.js';
export {
  startSbcStack,
  createDatabaseUser,
  engineEnv,
  redisEnv,
  mysqlEnv,
  type DatabaseUser,
  type SbcStack,
  type SbcStackOptions,
} from './stack.js';
export {
  cpuSeconds,
  rssMiB,
  machineJiffies,
  percentile,
  startEngineProcess,
  type EngineProcess,
  type EngineProcessOptions,
} from './bench.js';
