/**
 * The real parts a call test needs, started once per file: @sbc/testkit's stack (SIP engine, Redis,
 * MariaDB with the jambonz schema and jambonz's sbc-inbound seed), rtpengines with jambonz's
 * `public` / `private` interfaces, the fake customer auth hook; and the app built exactly as
 * index.ts builds it (config from an environment map → inboundOptions → createInbound).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, schemaSql, type Db } from '@sbc/db';
import { createRedisClient, ServerSets, type Redis } from '@sbc/redis';
import {
  connectDrachtio,
  createLogger,
  createMetrics,
  createSrf,
  type DrachtioConnection,
  type Env,
  type Logger,
  type Metrics,
  type Srf,
} from '@sbc/service';
import {
  metricValue as sampleValue,
  runSipp,
  startFakeAuthHook,
  freeUdpPort,
  startRtpengine,
  startSbcStack,
  startSipp,
  waitUntil,
  type FakeAuthHook,
  type RtpengineService,
  type SbcStack,
  type SippResult,
  type SippRun,
} from '@sbc/testkit';
import { createInbound, inboundOptions, type InboundApp, type InboundOptions } from '../../src/app.js';
import { loadInboundConfig } from '../../src/config.js';
import type { Alert } from '@sbc/service';
import type { Cdr, Records } from '../../src/records.js';
import { JAMBONZ, seedJambonzInbound } from './classify-seed.js';

export { JAMBONZ };
export const JWT_SECRET = 'test-jwt-secret-for-sbc-inbound';
/** Feature servers live in 127.0.1.0/24 (JAMBONES_NETWORK_CIDR). */
export const FEATURE_SERVER_NETWORK = '127.0.1.0/24';
/** sipp's sample of PCMA RTP, from Debian's sip-tester package. */
export const PCAP = '/usr/share/sip-tester/g711a.pcap';

export interface InboundStack extends SbcStack {
  /** Root connection to the test database, for seeding and checking. */
  db: Db;
  rtpengine: RtpengineService;
  /** The UDP port rtpengine sends its DTMF events to (`--dtmf-log-dest`): the app's DTMF_LISTEN_PORT. */
  dtmfListenPort: number;
  /** rtpengine's `--recording-dir` (pcap method): calls offered with `record call: yes` land here. */
  recordingDir: string;
  hook: FakeAuthHook;
  /** Redis as the tests see it (set members, counters). */
  redisClient: Redis;
  sets: ServerSets;
}

export async function startInboundStack(): Promise<InboundStack> {
  const recordingDir = mkdtempSync(join(tmpdir(), 'sbc-inbound-recordings-'));
  const dtmfListenPort = await freeUdpPort('127.0.0.1');
  const [stack, rtpengine, hook] = await Promise.all([
    startSbcStack({ schema: schemaSql() }),
    startRtpengine({
      interfaceNames: ['private', 'public'],
      recordingDir,
      dtmfLogDest: { host: '127.0.0.1', port: dtmfListenPort },
    }),
    startFakeAuthHook({
      users: [
        { username: 'john', password: '1234', realm: 'jambonz.org' },
        { username: 'jane', password: '5678', realm: 'jambonz.org' },
      ],
      basicAuth: { username: 'foo', password: 'bar' },
    }),
  ]);
  const { host, port, user, password, database } = stack.database;
  const db = createDb({ host, port, user, password, database });
  await seedJambonzInbound(db);
  // The seed's hook address is jambonz's docker one: point it at the fake hook.
  await db.execute('UPDATE webhooks SET url = ? WHERE webhook_sid = ?', [hook.url, JAMBONZ.hook]);
  const redisClient = createRedisClient({ host: stack.redis.host, port: stack.redis.port });
  return {
    ...stack,
    db,
    rtpengine,
    dtmfListenPort,
    recordingDir,
    hook,
    redisClient,
    sets: new ServerSets(redisClient),
    async stop() {
      redisClient.disconnect();
      await db.close().catch(() => undefined);
      await Promise.all([stack.stop(), rtpengine.stop(), hook.stop()]);
      rmSync(recordingDir, { recursive: true, force: true });
    },
  };
}

/** The environment the app would get in production, pointing at the stack. */
export function stackEnv(stack: InboundStack): Env {
  return {
    ...stack.env,
    JWT_SECRET,
    JAMBONES_NETWORK_CIDR: FEATURE_SERVER_NETWORK,
    JAMBONES_RTPENGINES: stack.rtpengine.ngAddress,
    DTMF_LISTEN_PORT: String(stack.dtmfListenPort),
    SBC_DTMF_LISTEN_ADDRESS: '127.0.0.1',
    JAMBONES_LOGLEVEL: process.env.SBC_TEST_LOGLEVEL ?? 'silent',
    SBC_FS_ANSWER_TIMEOUT_MS: '1500',
    SBC_RTPENGINE_TIMEOUT_MS: '500',
  };
}

/** Records kept in memory, for assertions. */
export interface RecordedRecords extends Records {
  cdrs: Cdr[];
  alerts: Alert[];
}

export function recordRecords(): RecordedRecords {
  const cdrs: Cdr[] = [];
  const alerts: Alert[] = [];
  return {
    cdrs,
    alerts,
    cdr: (record) => cdrs.push(record),
    alert: (alert) => alerts.push(alert),
    callCounts: () => undefined,
  };
}

export interface RunningInbound {
  app: InboundApp;
  srf: Srf;
  db: Db;
  redis: Redis;
  metrics: Metrics;
  logger: Logger;
  records: RecordedRecords;
  connection: DrachtioConnection;
  /** The metrics text (as /metrics serves it). */
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Builds and connects sbc-inbound. `env` adds to or overrides `stackEnv`; `alsoRecord` gets every
 * record too (e.g. an InfluxDB-backed `timeSeriesRecords`).
 */
export async function startInbound(
  stack: InboundStack,
  env: Env = {},
  tweak: (options: InboundOptions) => InboundOptions = (o) => o,
  alsoRecord?: Records,
): Promise<RunningInbound> {
  const config = loadInboundConfig({ ...stackEnv(stack), ...env });
  const logger = createLogger({ level: config.logLevel, name: 'sbc-inbound-test' });
  const metrics = createMetrics({ defaultMetrics: false });
  const db = createDb(config.mysql);
  const redis = createRedisClient({ ...config.redis, batchWrites: true });
  const srf = createSrf();
  const records = recordRecords();
  const both: Records | undefined = alsoRecord && {
    cdr: (record) => [records, alsoRecord].forEach((r) => r.cdr(record)),
    alert: (alert) => [records, alsoRecord].forEach((r) => r.alert(alert)),
    callCounts: (owner, counts) => [records, alsoRecord].forEach((r) => r.callCounts(owner, counts)),
  };
  const app = createInbound({
    srf,
    db,
    redis,
    logger,
    metrics,
    records: both ?? records,
    options: tweak(inboundOptions(config)),
  });
  await app.start();
  const connection = connectDrachtio(srf, config.drachtio, logger);
  const engine = await connection.connected(5000);
  await app.engineConnected(engine);
  // srf registers its methods with the engine right after authenticating: let that land.
  await new Promise((resolve) => setTimeout(resolve, 150));
  return {
    app,
    srf,
    db,
    redis,
    metrics,
    logger,
    records,
    connection,
    scrape: () => metrics.registry.metrics(),
    async stop() {
      await app.stop();
      await connection.close();
      redis.disconnect();
      await db.close().catch(() => undefined);
    },
  };
}

/** @sbc/testkit's `metricValue`, 0 for a series not there yet. */
export const metricValue = (...args: Parameters<typeof sampleValue>): number => sampleValue(...args) ?? 0;

const SCENARIO_DIR = join(tmpdir(), `sbc-inbound-scenarios-${process.pid}`);

/**
 * A sipp scenario of this suite, with `[pcap]` replaced by the RTP sample's path: sipp reads
 * `play_pcap_audio` when it loads the scenario, before keyword substitution.
 */
export function scenario(name: string): string {
  const source = fileURLToPath(new URL(`../scenarios/${name}.xml`, import.meta.url));
  const text = readFileSync(source, 'utf8');
  if (!text.includes('[pcap]') && !text.includes('[pcap_dir]')) return source;
  mkdirSync(SCENARIO_DIR, { recursive: true });
  const resolved = join(SCENARIO_DIR, `${name}.xml`);
  writeFileSync(resolved, text.replaceAll('[pcap]', PCAP).replaceAll('[pcap_dir]', dirname(PCAP)));
  return resolved;
}

/**
 * A call from the westco carrier (sipp on its gateway address) to its DID +16173333456, with
 * `scenario`'s [field0] / [field1] the Request-URI host (jambonz.org) and the calling number; `media`
 * fills [rtp_ip] / [rtp_port] (an RtpProbe), else the scenario uses sipp's own media address.
 */
export function westcoCall(
  stack: InboundStack,
  scenarioName: string,
  options: { media?: { address: string; port: number }; timeoutMs: number },
): Promise<SippResult> {
  const address = JAMBONZ.ip.westco;
  return runSipp({
    scenario: scenario(scenarioName),
    target: stack.engine.sipTarget,
    localAddress: address,
    users: { mode: 'SEQUENTIAL', rows: [['jambonz.org', '15085551212']] },
    ...(options.media && { keys: { rtp_ip: options.media.address, rtp_port: options.media.port } }),
    extraArgs: ['-s', '+16173333456', ...(options.media ? [] : ['-mi', address])],
    timeoutMs: options.timeoutMs,
  });
}

/** A sipp feature server on `address` (127.0.1.x); `hostport` is what active-fs holds. */
export async function startFeatureServer(
  name: string,
  address: string,
  options: { count?: number; timeoutMs?: number } = {},
): Promise<{ run: SippRun; hostport: string }> {
  const run = await startSipp({
    scenario: scenario(name),
    localAddress: address,
    count: options.count ?? 1,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  return { run, hostport: `${address}:${run.localPort}` };
}

export interface CallOptions {
  /** The caller's address (a carrier gateway 127.0.38.20 by default). */
  from?: string;
  /** Request-URI user. */
  did?: string;
  /** Request-URI host (default the engine's address). */
  host?: string;
  fromUser?: string;
  /** One more header line for the INVITE (must be a header: sipp puts it among the others). */
  header?: string;
  hold?: number;
  timeoutMs?: number;
}

/** Runs one call from a sipp caller scenario towards the engine. */
export function placeCall(stack: InboundStack, name: string, options: CallOptions = {}): Promise<SippResult> {
  const host = options.host ?? stack.engine.sipTarget;
  return runSipp({
    scenario: scenario(name),
    target: stack.engine.sipTarget,
    localAddress: options.from ?? JAMBONZ.ip.westco,
    users: {
      mode: 'SEQUENTIAL',
      rows: [[host, options.fromUser ?? '15085551212', options.header ?? 'X-Test: call']],
    },
    // The caller's hold time: sipp's default pause (its scenarios say <pause />).
    extraArgs: ['-s', options.did ?? '+16173333456', '-d', String(options.hold ?? 300)],
    timeoutMs: options.timeoutMs ?? 20_000,
  });
}

/** Marks `hostport` as a healthy feature server, as sbc-options does on its OPTIONS. */
export async function featureServerUp(stack: InboundStack, hostport: string): Promise<void> {
  await stack.sets.touch('active-fs', hostport);
}

export async function clearFeatureServers(stack: InboundStack): Promise<void> {
  await stack.redisClient.del('default:active-fs', 'default:active-fs:lastseen', 'default:drained-fs');
}

type AppEnv = Record<string, string | undefined>;

/**
 * One app for the tests of a describe block (two apps on one engine would share its INVITEs),
 * started after the stack; `env` may be a function of the stack. After each test the feature
 * server sets are emptied, the calls must have ended and the recorded CDRs are dropped.
 */
export function useApp(stack: () => InboundStack, env: AppEnv | (() => AppEnv) = {}): () => RunningInbound {
  let sbc: RunningInbound | undefined;
  beforeAll(async () => {
    sbc = await startInbound(stack(), typeof env === 'function' ? env() : env);
  });
  afterAll(async () => {
    await sbc?.stop();
  });
  afterEach(async () => {
    await clearFeatureServers(stack());
    if (!sbc) return;
    await waitUntil(() => Promise.resolve(sbc?.app.calls.size === 0), { what: 'calls to end' });
    sbc.records.cdrs.length = 0;
  });
  return () => {
    if (!sbc) throw new Error('app not started');
    return sbc;
  };
}

/** Every message of `kind` (e.g. 'INFO sip:', 'SIP/2.0 200') a sipp instance logged, in order. */
export function allLogged(messages: string, kind: string): string[] {
  const found: string[] = [];
  for (let at = messages.indexOf(kind); at >= 0; at = messages.indexOf(kind, at + 1)) {
    const end = messages.indexOf('\n\n', at);
    found.push(messages.slice(at, end > 0 ? end : undefined));
  }
  return found;
}
