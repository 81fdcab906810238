import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from './daemon.js';
import { freeTcpPort } from './ports.js';
import { makeTempDir } from './tempdir.js';
import { waitUntil } from './wait.js';

export interface InfluxdbService {
  readonly host: string;
  /** HTTP API port (`JAMBONES_TIME_SERIES_PORT`). */
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  output(): string;
  /** InfluxQL over HTTP (`GET /query`): the JSON `results`, with `params` bound to `$name` placeholders. */
  query(q: string, options?: { db?: string; params?: Record<string, unknown> }): Promise<InfluxResult[]>;
  /** Stops the server and removes its directory (unless `dataDir` was given). */
  stop(): Promise<void>;
}

export interface InfluxResult {
  series?: { name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
  error?: string;
}

export interface StartInfluxdbOptions {
  host?: string;
  /** Fixed HTTP port (the demo stack); a free one is picked otherwise. */
  port?: number;
  /** Keep data here across restarts (the demo stack); tests use a temp dir. */
  dataDir?: string;
}

/** `GET /ping` answers 204 once the HTTP service is up. */
function pingInflux(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 204);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function influxConfig(host: string, httpPort: number, rpcPort: number, dir: string): string {
  return `reporting-disabled = true
bind-address = "${host}:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "${host}:${httpPort}"
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[continuous_queries]
  enabled = false
[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
`;
}

/**
 * A private InfluxDB 1.x (`influxd` of Debian's `influxdb` package) with a generated config: HTTP
 * and RPC bound to loopback on free ports, meta / data / wal in a temp dir, no usage reporting, no
 * other listener.
 */
export async function startInfluxdb(options: StartInfluxdbOptions = {}): Promise<InfluxdbService> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freeTcpPort(host));
  let rpcPort = await freeTcpPort(host);
  while (rpcPort === port) rpcPort = await freeTcpPort(host);
  const temp = options.dataDir ? undefined : makeTempDir('influxdb');
  const dir = options.dataDir ?? temp!.path;
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'influxdb.conf');
  writeFileSync(configPath, influxConfig(host, port, rpcPort, dir));
  const daemon = startDaemon({ name: 'influxd', command: 'influxd', args: ['run', '-config', configPath] });
  try {
    await waitUntil(() => pingInflux(host, port), {
      what: `influxd on ${host}:${port}`,
      abort: daemon.exited,
      timeoutMs: 30_000,
    });
  } catch (err) {
    await daemon.stop();
    temp?.remove();
    throw err;
  }
  return {
    host,
    port,
    pid: daemon.pid,
    dataDir: dir,
    output: () => daemon.output(),
    query: (q, queryOptions = {}) => influxQuery(host, port, q, queryOptions),
    async stop() {
      await daemon.stop();
      temp?.remove();
    },
  };
}

async function influxQuery(
  host: string,
  port: number,
  q: string,
  options: { db?: string; params?: Record<string, unknown> },
): Promise<InfluxResult[]> {
  const search = new URLSearchParams({ q });
  if (options.db) search.set('db', options.db);
  if (options.params) search.set('params', JSON.stringify(options.params));
  const response = await fetch(`http://${host}:${port}/query?${search.toString()}`);
  const body = (await response.json()) as { results?: InfluxResult[]; error?: string };
  if (!response.ok || body.error) throw new Error(`InfluxDB ${response.status}: ${body.error ?? 'error'}`);
  return body.results ?? [];
}
