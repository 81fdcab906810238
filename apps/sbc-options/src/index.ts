/**
 * sbc-options entry point: `node dist/index.js`, configured only by the environment (README.md).
 * config → clients → app (app.ts) → CLI socket → /livez /readyz /metrics → shutdown.
 */
import { createDb } from '@sbc/db';
import { createRedisClient, pingRedis } from '@sbc/redis';
import {
  combineAlertSinks,
  connectDrachtio,
  createHealthServer,
  createLogAlertSink,
  createLogger,
  createMetrics,
  createSrf,
  drachtioReadinessCheck,
  exitOnConfigError,
  loadConfig,
  onShutdown,
} from '@sbc/service';
import { createTimeSeriesWriter } from '@sbc/time-series';
import { createApp } from './app.js';
import { SocketInUseError, SocketPathError, startCliServer } from './cli-server.js';
import { configSchema } from './config.js';

const config = exitOnConfigError(() => loadConfig(configSchema, process.env));
const logger = createLogger({ level: config.logLevel, name: 'sbc-options' });
const metrics = createMetrics({ defaultLabels: { app: 'sbc-options' } });

const redis = createRedisClient(config.redis, logger);
const db = createDb(config.mysql);
const writeDb = config.mysqlWrite ? createDb(config.mysqlWrite) : undefined;
const srf = createSrf();
const drachtio = connectDrachtio(srf, config.drachtio, logger);

const logAlerts = createLogAlertSink(logger, metrics);
const timeSeries = config.timeSeries && createTimeSeriesWriter({ ...config.timeSeries, logger, metrics });
if (!timeSeries) logger.info('JAMBONES_TIME_SERIES_HOST is not set: alerts are not stored, only logged');

const app = createApp({
  srf,
  redis,
  db,
  ...(writeDb ? { writeDb } : {}),
  logger,
  metrics,
  settings: config,
  isEngineConnected: () => drachtio.isConnected(),
  canSendRequests: config.drachtio.mode === 'dial',
  alerts: timeSeries ? combineAlertSinks(logAlerts, timeSeries) : logAlerts,
});

let cli;
try {
  cli = await startCliServer({
    path: config.socketPath,
    drain: app.drain,
    runtimeConfig: app.runtimeConfig,
    bans: app.bans,
    logger,
  });
} catch (err) {
  if (err instanceof SocketInUseError || err instanceof SocketPathError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const cliServer = cli;

const health = createHealthServer({
  port: config.httpPort,
  checks: [
    drachtioReadinessCheck(drachtio),
    { name: 'mysql', check: () => db.ping() },
    { name: 'redis', check: () => pingRedis(redis) },
  ],
  registry: metrics.registry,
  logger,
});
health.app.addHook('onRequest', async (request) => {
  if (request.url !== '/metrics') return;
  await app
    .refreshGauges()
    .catch((err: unknown) => logger.warn({ err }, 'cannot read the server sets for /metrics'));
});
await health.listen();

await app.start();
logger.info(
  {
    clusterId: config.clusterId,
    networkCidrs: config.networkCidrs,
    expiresIntervalMs: config.expiresIntervalMs,
    checkExpiresIntervalMs: config.checkExpiresIntervalMs,
    socketPath: config.socketPath,
  },
  'sbc-options started',
);

onShutdown(logger, [
  { name: 'close CLI socket', run: () => cliServer.close() },
  { name: 'stop sweeps and pings', run: () => app.stop() },
  { name: 'write pending alerts to InfluxDB', run: () => timeSeries?.close(3000).then(() => undefined) },
  { name: 'close engine connection', run: () => drachtio.close() },
  { name: 'close http', run: () => health.close() },
  { name: 'close redis', run: async () => void (await redis.quit().catch(() => redis.disconnect())) },
  {
    name: 'close mysql',
    run: () => Promise.all([db.close(), writeDb?.close()]).then(() => undefined),
    timeoutMs: 3000,
  },
]);
