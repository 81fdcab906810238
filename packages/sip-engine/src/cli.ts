#!/usr/bin/env node
import { createServer } from 'node:http';
import { pino } from 'pino';
import { CliUsageError, parseCliOptions, USAGE } from './cli-options.js';
import { Engine } from './core/engine.js';
import { EdgeGuard } from './edge/guard.js';
import { EngineMetrics } from './metrics.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  if (argv.includes('-v') || argv.includes('--version')) {
    const { ENGINE_VERSION } = await import('./control/control-server.js');
    console.log(ENGINE_VERSION);
    return;
  }
  const options = parseCliOptions(argv, process.env);
  const logger = pino({ name: 'sbc-sip-engine', level: options.logLevel });
  const metrics = new EngineMetrics({ processMetrics: true });
  const edge = new EdgeGuard(options.edge, logger, metrics);
  const engine = new Engine({ ...options.engine, logger, metrics, edge });
  await engine.start();

  const scrape = options.prometheus;
  const http = scrape
    ? createServer((req, res) => {
        // /livez: 200 while the process runs (the container image's HEALTHCHECK).
        if (req.url === '/livez') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
          return;
        }
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        engine.refreshGauges();
        metrics.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
          .catch(() => res.writeHead(500).end());
      }).listen(scrape.port, scrape.host, () => logger.info(scrape, 'metrics on /metrics'))
    : undefined;

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    http?.close();
    engine
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => {
  console.error(
    err instanceof CliUsageError
      ? `sbc-sip-engine: ${err.message}\n\n${USAGE}`
      : `sbc-sip-engine: ${err.message}`,
  );
  process.exit(err instanceof CliUsageError ? 2 : 1);
});
