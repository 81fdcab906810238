/**
 * sbc-registrar: `node dist/index.js`, configured only by the environment (README.md lists it).
 * Wires config → MySQL, Redis, the SIP engine connection, the app (src/app.ts), /livez /readyz
 * /metrics, and graceful shutdown.
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
  onShutdown,
} from '@sbc/service';
import { createTimeSeriesWriter } from '@sbc/time-series';
import { createRegistrar, registrarOptions } from './app.js';
import { loadRegistrarConfig } from './config.js';

const config = exitOnConfigError(() => loadRegistrarConfig(process.env));
const logger = createLogger({ level: config.logLevel, name: 'sbc-registrar' });
const metrics = createMetrics({ defaultLabels: { app: 'sbc-registrar' } });

const db = createDb(config.mysql);
const redis = createRedisClient({ ...config.redis, batchWrites: true }, logger);
const srf = createSrf();

const logAlerts = createLogAlertSink(logger, metrics);
const timeSeries = config.timeSeries && createTimeSeriesWriter({ ...config.timeSeries, logger, metrics });
if (!timeSeries) logger.info('JAMBONES_TIME_SERIES_HOST is not set: alerts are not stored, only logged');
const alerts = timeSeries ? combineAlertSinks(logAlerts, timeSeries) : logAlerts;

const app = createRegistrar({ srf, db, redis, logger, metrics, alerts, options: registrarOptions(config) });

const drachtio = connectDrachtio(srf, config.drachtio, logger);
drachtio.onEngine((engine) => {
  app.engineConnected(engine).catch((error: unknown) => logger.error({ err: error }, 'engine setup failed'));
});

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
await health.listen();

onShutdown(logger, [
  { name: 'stop outbound registrations', run: () => app.stop({ release: true }) },
  { name: 'write pending alerts to InfluxDB', run: () => timeSeries?.close(3000).then(() => undefined) },
  { name: 'close engine connection', run: () => drachtio.close() },
  { name: 'close http', run: () => health.close() },
  {
    name: 'close redis',
    run: () =>
      redis.quit().then(
        () => undefined,
        () => redis.disconnect(),
      ),
    timeoutMs: 3000,
  },
  { name: 'close mysql', run: () => db.close(), timeoutMs: 3000 },
]);

logger.info({ httpPort: config.httpPort, drachtio: config.drachtio.mode }, 'sbc-registrar started');
