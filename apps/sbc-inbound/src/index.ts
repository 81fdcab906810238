/**
 * sbc-inbound: `node dist/index.js`, configured only by the environment (README.md lists it).
 * Wires config → MySQL, Redis, the SIP engine connection, the app (src/app.ts), /livez /readyz
 * /metrics plus jambonz's `/` and `/system-health`, and graceful shutdown: on SIGTERM the SBC leaves
 * `active-sip`, answers new INVITEs 503 + Retry-After, and exits once its calls have ended (or after
 * SBC_DRAIN_GRACE_SECONDS). SIGUSR2 drains without exiting (jambonz's dry-up signal).
 */
import { createDb } from '@sbc/db';
import { createRedisClient, pingRedis } from '@sbc/redis';
import {
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
import { createInbound, inboundOptions } from './app.js';
import { loadInboundConfig } from './config.js';
import { addJambonzRoutes } from './http.js';
import { logRecords, timeSeriesRecords } from './records.js';

const config = exitOnConfigError(() => loadInboundConfig(process.env));
const logger = createLogger({ level: config.logLevel, name: 'sbc-inbound' });
const metrics = createMetrics({ defaultLabels: { app: 'sbc-inbound' } });

const db = createDb(config.mysql);
const redis = createRedisClient({ ...config.redis, batchWrites: true }, logger);
const srf = createSrf();

const alerts = createLogAlertSink(logger, metrics);
const timeSeries = config.timeSeries && createTimeSeriesWriter({ ...config.timeSeries, logger, metrics });
if (!timeSeries) {
  logger.info(
    'JAMBONES_TIME_SERIES_HOST is not set: CDRs, alerts and call counts are not stored, only logged',
  );
}
const records = timeSeries ? timeSeriesRecords(timeSeries, alerts) : logRecords(logger, alerts);

const app = createInbound({ srf, db, redis, logger, metrics, records, options: inboundOptions(config) });
await app.start();

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
addJambonzRoutes(health, {
  calls: () => app.calls.size,
  ping: [() => db.ping(), () => pingRedis(redis)],
});
await health.listen();

process.on('SIGUSR2', () => void app.drain());

const graceMs = config.drainGraceSeconds * 1000;
onShutdown(logger, [
  { name: 'leave active-sip, refuse new calls', run: () => app.drain(), timeoutMs: 5000 },
  {
    name: 'wait for calls to end',
    run: async () => {
      const left = await app.callsEnded(graceMs);
      if (left > 0) {
        logger.warn({ calls: left }, 'grace period over: hanging up the calls still up');
        await app.hangUpAll('shutdown');
      }
    },
    timeoutMs: graceMs + 10_000,
  },
  { name: 'stop tasks', run: () => app.stop() },
  { name: 'write pending records to InfluxDB', run: () => timeSeries?.close(3000).then(() => undefined) },
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

logger.info({ httpPort: config.httpPort, drachtio: config.drachtio.mode }, 'sbc-inbound started');
