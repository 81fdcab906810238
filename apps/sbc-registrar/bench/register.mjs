// Registrar benchmark (`pnpm bench` in apps/sbc-registrar, after the build).
//
// sipp registers 10,000 distinct users; every call is a full REGISTER → 401 → REGISTER with
// credentials → 200 through the SIP engine, sbc-registrar (`node dist/index.js`), Redis, MariaDB and
// the fake customer hook, all on loopback. For the hook and for local credentials (clients table) it
// raises the rate step by step and reports, per step, failures, retransmissions, p50/p99 of the whole
// registration (first REGISTER to 200, sipp -trace_rtt) and the CPU time the engine and the app used
// per registration (utime + stime from /proc/<pid>/stat). The best rate is the highest with zero
// failures and zero retransmissions; an unclean step is run once more before the search stops (the
// machine is shared). Bounded: at most ~6 s of traffic per step, a few minutes in all.
//
// Environment: BENCH_RATES=250,500,… BENCH_SECONDS=6 BENCH_MODES=hook,local
//   BENCH_LOGLEVEL (info)          JAMBONES_LOGLEVEL of the app
//   BENCH_MYSQL_REFRESH_TTL (1)    JAMBONES_MYSQL_REFRESH_TTL of the app ('' = off, as jambonz's default)
//   BENCH_CLIENTS_INDEX (1)        add an index on clients.username (jambonz's schema has none: see README)
//   BENCH_INSTANCES (1)            sbc-registrar processes sharing the engine (scale-out; CPU is their sum)
//   BENCH_APP=<script>             run another srf app instead (bench/floor.mjs: the engine + srf floor)
//   BENCH_PROFILE=<dir>            V8 CPU profiles of the engine and the app
//   BENCH_PERF=<file>              start the app with --perf-basic-prof and write "<engine pid> <app pids>"
//   BENCH_NODE_ARGS='--flag …'     extra node options of the engine and the app (e.g. V8 heap flags)
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb, schemaSql, seedAccount, seedClients, seedServiceProvider } from '@sbc/db';
import { createRedisClient } from '@sbc/redis';
import {
  freeTcpPort,
  makeTempDir,
  runSipp,
  startDaemon,
  startFakeAuthHook,
  startMysql,
  startRedis,
  waitUntil,
  cpuSeconds,
  percentile,
  startEngineProcess,
} from '@sbc/testkit';

const here = import.meta.dirname;
const root = resolve(here, '../../..');
const USERS = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const RATES = (process.env.BENCH_RATES ?? '250,500,750,1000,1250,1500,1750,2000').split(',').map(Number);
const MODES = (process.env.BENCH_MODES ?? 'hook,local').split(',');
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const WARMUP_RATE = 500;
const WARMUP_SECONDS = 3;
const PHONE = '127.0.0.3';
const SECRET = 'bench-secret';
const ENCRYPTION_SECRET = 'bench-encryption-secret';

/** BENCH_PROFILE=<dir>: V8 CPU profiles of the engine and the app, written when they stop. */
const profile = (name) =>
  process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE, name)}`]
    : [];

/** BENCH_NODE_ARGS: extra node options of the engine and the app. */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Cumulative histogram `after - before` (Map upper bound → count). */
function diffBuckets(after, before) {
  return new Map([...after].map(([bound, count]) => [bound, count - (before.get(bound) ?? 0)]));
}

/** Upper bound (ms) of the bucket holding the p-th percentile of a cumulative histogram. */
function bucketPercentile(buckets, p) {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  const bound = bounds.find((b) => buckets.get(b) >= (p / 100) * total);
  return bound === undefined || total === 0 ? NaN : bound;
}

const services = [];
async function stopAll() {
  for (const s of services.reverse()) await s.stop().catch(() => undefined);
}

async function main() {
  console.log(`[bench] starting Redis, MariaDB, the SIP engine, the fake hook and sbc-registrar`);
  const [redis, mysql] = await Promise.all([startRedis(), startMysql()]);
  services.push(redis, mysql);
  const database = await mysql.createDatabase({ schema: schemaSql() });
  const db = createDb({ ...database.connectionOptions, database: database.database });
  await db.execute(`CREATE USER IF NOT EXISTS 'bench'@'%' IDENTIFIED BY 'bench-pass'`, []);
  await db.execute(`GRANT ALL ON \`${database.database}\`.* TO 'bench'@'%'`, []);

  const users = Array.from({ length: USERS }, (_, i) => ({ username: `u${i}`, password: `pw-${i}` }));
  const hook = await startFakeAuthHook({
    users: users.map((u) => ({ ...u, realm: 'hook.bench.test', expires: 3600 })),
  });
  services.push(hook);
  const sp = await seedServiceProvider(db, { root_domain: 'bench.test' });
  await seedAccount(db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'hook.bench.test',
    registration_hook: { url: hook.url },
  });
  const local = await seedAccount(db, {
    service_provider_sid: sp.service_provider_sid,
    sip_realm: 'local.bench.test',
  });
  await seedClients(db, local.account_sid, users, { encryptionSecret: ENCRYPTION_SECRET });
  if ((process.env.BENCH_CLIENTS_INDEX ?? '1') !== '0') {
    await db.execute('CREATE INDEX clients_username_idx ON clients (username)', []);
  }
  await db.close();

  const {
    daemon: engine,
    sipPort,
    controlPort,
  } = await startEngineProcess({
    cli: resolve(root, 'packages/sip-engine/dist/cli.js'),
    secret: SECRET,
    nodeArgs: [...profile('engine'), ...nodeArgs],
  });
  services.push(engine);

  /** One sbc-registrar process; BENCH_INSTANCES of them share the engine (it hands REGISTERs round-robin). */
  const startApp = async (index) => {
    const httpPort = await freeTcpPort('127.0.0.1');
    const app = startDaemon({
      name: 'sbc-registrar',
      command: process.execPath,
      args: [
        ...profile(`app${index}`),
        ...nodeArgs,
        ...(process.env.BENCH_PERF ? ['--perf-basic-prof'] : []),
        process.env.BENCH_APP ? resolve(process.env.BENCH_APP) : resolve(here, '../dist/index.js'),
      ],
      env: {
        PATH: process.env.PATH,
        DRACHTIO_HOST: '127.0.0.1',
        DRACHTIO_PORT: String(controlPort),
        DRACHTIO_SECRET: SECRET,
        JAMBONES_MYSQL_HOST: database.host,
        JAMBONES_MYSQL_PORT: String(database.port),
        JAMBONES_MYSQL_USER: 'bench',
        JAMBONES_MYSQL_PASSWORD: 'bench-pass',
        JAMBONES_MYSQL_DATABASE: database.database,
        // jambonz's SELECT cache for 1 s: the account is read once a second, not per REGISTER; each
        // step's users are new to it (steps are 1.5 s apart), so every client lookup reaches MariaDB.
        JAMBONES_MYSQL_REFRESH_TTL: process.env.BENCH_MYSQL_REFRESH_TTL ?? '1',
        ENCRYPTION_SECRET,
        JAMBONES_REDIS_HOST: redis.host,
        JAMBONES_REDIS_PORT: String(redis.port),
        JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
        HTTP_PORT: String(httpPort),
        SBC_REGBOT: '0',
        JAMBONES_LOGLEVEL: process.env.BENCH_LOGLEVEL ?? 'info',
      },
    });
    services.push(app);
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, {
      what: `sbc-registrar #${index} /readyz`,
      abort: app.exited,
      timeoutMs: 20_000,
    });
    return { pid: app.pid, httpPort };
  };
  const apps = [];
  for (let i = 0; i < INSTANCES; i++) apps.push(await startApp(i));
  await sleep(300);
  if (process.env.BENCH_PERF) {
    writeFileSync(process.env.BENCH_PERF, `${engine.pid} ${apps.map((a) => a.pid).join(' ')}\n`);
  }

  /** Cumulative counts of sbc_register_duration_seconds buckets (all results), by upper bound in ms. */
  const appHandlerTimes = async () => {
    const buckets = new Map();
    const texts = await Promise.all(
      apps.map(async ({ httpPort }) => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()),
    );
    for (const [, le, value] of texts
      .join('\n')
      .matchAll(/^sbc_register_duration_seconds_bucket\{le="([^"]+)"[^}]*\} (\d+)$/gm)) {
      const bound = le === '+Inf' ? Infinity : Number(le) * 1000;
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
    }
    return buckets;
  };

  const appsCpuSeconds = () => apps.reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);

  const flush = createRedisClient({ host: redis.host, port: redis.port });
  const dir = makeTempDir('bench-register');
  const csv = (realm) => {
    const path = resolve(dir.path, `${realm}.csv`);
    const lines = [
      'SEQUENTIAL',
      ...users.map(
        (u) => `${u.username};${realm};[authentication username=${u.username} password=${u.password}]`,
      ),
    ];
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };
  const files = { hook: csv('hook.bench.test'), local: csv('local.bench.test') };

  const step = async (mode, rate, { seconds = SECONDS, report = true } = {}) => {
    await flush.flushdb();
    const count = Math.min(USERS, Math.round(rate * seconds));
    const appTimesBefore = await appHandlerTimes();
    const engineBefore = cpuSeconds(engine.pid);
    const appBefore = appsCpuSeconds();
    const redisBefore = redis.pid ? cpuSeconds(redis.pid) : 0;
    const mysqlBefore = mysql.pid ? cpuSeconds(mysql.pid) : 0;
    const benchBefore = process.cpuUsage();
    const result = await runSipp({
      scenario: resolve(here, 'register.xml'),
      target: `127.0.0.1:${sipPort}`,
      localAddress: PHONE,
      usersFile: files[mode],
      rate,
      count,
      maxConcurrent: 5000,
      traceRtt: true,
      timeoutMs: (seconds + 30) * 1000,
    });
    const engineCpu = cpuSeconds(engine.pid) - engineBefore;
    const appCpu = appsCpuSeconds() - appBefore;
    const redisCpu = redis.pid ? cpuSeconds(redis.pid) - redisBefore : NaN;
    const mysqlCpu = mysql.pid ? cpuSeconds(mysql.pid) - mysqlBefore : NaN;
    const benchUsage = process.cpuUsage(benchBefore);
    const perRegistration = (seconds) =>
      result.successfulCalls ? (seconds * 1000) / result.successfulCalls : NaN;
    const times = (Object.values(result.responseTimes)[0] ?? []).sort((a, b) => a - b);
    const appTimes = diffBuckets(await appHandlerTimes(), appTimesBefore);
    const row = {
      mode,
      rate,
      count,
      registrations: result.successfulCalls,
      failed: result.failedCalls,
      retransmissions: result.retransmissions,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      cpuMs: perRegistration(engineCpu + appCpu),
      engineCpuMs: perRegistration(engineCpu),
      appCpuMs: perRegistration(appCpu),
      hookCpuMs: perRegistration((benchUsage.user + benchUsage.system) / 1e6),
      redisCpuMs: perRegistration(redisCpu),
      mysqlCpuMs: perRegistration(mysqlCpu),
      clean: result.failedCalls === 0 && result.retransmissions === 0 && result.successfulCalls === count,
      appP50: bucketPercentile(appTimes, 50),
      appP99: bucketPercentile(appTimes, 99),
    };
    if (!report) return row;
    console.log(
      `[bench] ${mode} ${rate}/s: ${row.registrations}/${count} ok, ${row.failed} failed, ${row.retransmissions} retransmissions, ` +
        `p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.cpuMs.toFixed(3)} ms CPU/registration ` +
        `(engine ${row.engineCpuMs.toFixed(3)}, app ${row.appCpuMs.toFixed(3)}; fake hook and this script ${row.hookCpuMs.toFixed(3)}, ` +
        `redis ${row.redisCpuMs.toFixed(3)}, mariadb ${row.mysqlCpuMs.toFixed(3)}); ` +
        `time in the app per REGISTER p50 ≤ ${row.appP50} ms, p99 ≤ ${row.appP99} ms`,
    );
    if (!row.clean && process.env.BENCH_DEBUG) console.log(result.describe().slice(0, 3000));
    await sleep(1500);
    return row;
  };

  const results = [];
  for (const mode of MODES) {
    // A fresh process runs cold (JIT, connection pools, MariaDB's buffer pool): warm up before measuring.
    const warm = await step(mode, WARMUP_RATE, { seconds: WARMUP_SECONDS, report: false });
    console.log(
      `[bench] ${mode} warm-up ${WARMUP_RATE}/s × ${WARMUP_SECONDS} s: ${warm.registrations}/${warm.count} ok`,
    );
    for (const rate of RATES) {
      let row = await step(mode, rate);
      if (!row.clean) row = await step(mode, rate);
      results.push(row);
      if (!row.clean) break;
    }
  }
  flush.disconnect();
  dir.remove();

  console.log(
    '\n| credentials | REGISTER/s | registrations | failed | retransmissions | p50 ms | p99 ms | CPU ms / registration (engine + app) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    console.log(
      `| ${r.mode} | ${r.rate} | ${r.registrations} | ${r.failed} | ${r.retransmissions} | ${r.p50} | ${r.p99} | ` +
        `${r.cpuMs.toFixed(2)} (${r.engineCpuMs.toFixed(2)} + ${r.appCpuMs.toFixed(2)}) |`,
    );
  }
  for (const mode of MODES) {
    const best = results.filter((r) => r.mode === mode && r.clean).at(-1);
    console.log(
      best
        ? `[bench] ${mode}: best clean rate ${best.rate}/s (p50 ${best.p50} ms, p99 ${best.p99} ms, ${best.cpuMs.toFixed(2)} ms CPU/registration)`
        : `[bench] ${mode}: no clean rate`,
    );
  }
}

main()
  .then(stopAll)
  .catch(async (err) => {
    console.error(`[bench] failed: ${err.stack ?? err}`);
    await stopAll();
    process.exit(1);
  });
