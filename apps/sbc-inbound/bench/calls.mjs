// sbc-inbound benchmark (`pnpm bench` in apps/sbc-inbound, after the build).
//
// Carrier calls, the call shape of issue 10: a sipp caller on 127.0.0.2 (a seeded carrier gateway
// with a DID) sends INVITE → 180 → 200 → ACK → hold (BENCH_HOLD_MS, 1 s) → BYE through the SIP engine
// (its CLI, as a process), sbc-inbound (`node dist/index.js`, configured by the environment), Redis,
// MariaDB and a userspace rtpengine (public/private interfaces, as jambonz offers) to a sipp feature
// server on 127.0.1.10 (in `default:active-fs`, as sbc-options would put it). SDP only: no RTP flows
// (rtpengine allocates and releases the ports of every call, but relays no packets).
//
// It raises the rate step by step and reports, per step: calls ok / failed, retransmissions (caller
// and feature server), p50/p99 setup time (INVITE → 200 at the caller, sipp -trace_rtt), the most
// calls up at once in the app, the CPU time (utime + stime from /proc/<pid>/stat) per call of the
// engine, the app and rtpengine, and the app's RSS at peak and per concurrent call. A step is clean
// with 0 failed calls and 0 retransmissions on both sides; an unclean step is run once more before the
// ladder stops (the machine is shared). Bounded: BENCH_SECONDS of traffic per step, a few minutes in all.
//
// Environment: BENCH_RATES=100,200,… BENCH_SECONDS=6 BENCH_HOLD_MS=1000
//   BENCH_LOGLEVEL (info)          JAMBONES_LOGLEVEL of the app
//   BENCH_MYSQL_REFRESH_TTL (1)    JAMBONES_MYSQL_REFRESH_TTL of the app ('' = off, jambonz's default)
//   BENCH_APP_ENV="K=V K=V"        more environment for the app, e.g. UDP_RECV_BUFSIZE=4194304 (rtpengine-client's
//                                  NG socket receive buffer; the kernel default of 208 KiB drops answers in bursts)
//   BENCH_WARMUP=rate:seconds      warm-up step before the ladder (100:3)
//   BENCH_NO_STOP=1                run every rate even after an unclean one
//   BENCH_PROFILE=<dir>            V8 CPU profiles of the engine and the app (written when they stop)
//   BENCH_DEBUG=1                  sipp's summary and the app's last log lines for an unclean step
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createDb,
  schemaSql,
  seedAccount,
  seedApplication,
  seedCarrier,
  seedPhoneNumber,
  seedServiceProvider,
} from '@sbc/db';
import { createRedisClient, ServerSets } from '@sbc/redis';
import {
  createDatabaseUser,
  freePort,
  freeTcpPort,
  freeUdpPort,
  mysqlEnv,
  redisEnv,
  runSipp,
  startDaemon,
  startMysql,
  startRedis,
  startRtpengine,
  startSipp,
  waitUntil,
  cpuSeconds,
  machineJiffies,
  percentile,
  rssMiB,
  startEngineProcess,
} from '@sbc/testkit';

const here = import.meta.dirname;
const root = resolve(here, '../../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 1000);
const RATES = (process.env.BENCH_RATES ?? '100,200,400,600,800,1000,1200').split(',').map(Number);
const [WARMUP_RATE, WARMUP_SECONDS] = (process.env.BENCH_WARMUP ?? '100:3').split(':').map(Number);
const CARRIER = '127.0.0.2';
const FEATURE_SERVER = '127.0.1.10';
const DID = '16175550100';
const SECRET = 'bench-secret';
/** RTP + RTCP on both legs (caller side and feature server side) of a call. */
const PORTS_PER_CALL = 4;
const MEDIA_PORTS = 10_000;

/** BENCH_PROFILE=<dir>: V8 CPU profiles of the engine and the app, written when they stop. */
const profile = (name) =>
  process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE, name)}`]
    : [];

const services = [];
async function stopAll() {
  for (const s of services.reverse()) await s.stop().catch(() => undefined);
}

async function main() {
  console.log(
    `[bench] carrier calls ${CARRIER} → engine → sbc-inbound → rtpengine → feature server ${FEATURE_SERVER}: ` +
      `INVITE/180/200/ACK, hold ${HOLD_MS} ms, BYE; SDP only, no RTP is sent (media ports are allocated, no packets relayed)`,
  );
  console.log('[bench] starting Redis, MariaDB, rtpengine, the SIP engine and sbc-inbound');
  // rtpengine reports RFC 2833 digits to sbc-inbound's DTMF_LISTEN_PORT, as in production.
  const dtmfPort = await freeUdpPort('127.0.0.1');
  const [redis, mysql, rtpengine] = await Promise.all([
    startRedis(),
    startMysql(),
    startRtpengine({
      interfaceNames: ['private', 'public'],
      mediaPorts: MEDIA_PORTS,
      dtmfLogDest: { host: '127.0.0.1', port: dtmfPort },
    }),
  ]);
  services.push(redis, mysql, rtpengine);
  const database = await mysql.createDatabase({ schema: schemaSql() });
  services.push({ stop: () => database.drop() });
  const user = await createDatabaseUser(mysql, database);

  // One service provider, account and application; a carrier whose gateway is the sipp caller, and
  // the DID it calls (the number routes the call to the account's application).
  const db = createDb({ ...database.connectionOptions, database: database.database });
  const sp = await seedServiceProvider(db, { name: 'bench SP', root_domain: 'bench.test' });
  const account = await seedAccount(db, {
    service_provider_sid: sp.service_provider_sid,
    name: 'bench account',
    sip_realm: 'sip.bench.test',
  });
  const application = await seedApplication(db, { account_sid: account.account_sid, name: 'bench app' });
  const carrier = await seedCarrier(db, {
    name: 'benchco',
    service_provider_sid: sp.service_provider_sid,
    account_sid: account.account_sid,
    gateways: [{ ipv4: CARRIER, outbound: false }],
  });
  await seedPhoneNumber(db, {
    number: DID,
    voip_carrier_sid: carrier.voip_carrier_sid,
    account_sid: account.account_sid,
    application_sid: application.application_sid,
    service_provider_sid: sp.service_provider_sid,
  });
  await db.close();

  const engineMetricsPort = await freeTcpPort('127.0.0.1');
  const {
    daemon: engine,
    sipPort,
    controlPort,
  } = await startEngineProcess({
    cli: resolve(root, 'packages/sip-engine/dist/cli.js'),
    secret: SECRET,
    nodeArgs: profile('engine'),
    args: ['--prometheus-scrape-port', `127.0.0.1:${engineMetricsPort}`],
  });
  services.push(engine);

  const httpPort = await freeTcpPort('127.0.0.1');
  const app = startDaemon({
    name: 'sbc-inbound',
    command: process.execPath,
    args: [...profile('app'), resolve(here, '../dist/index.js')],
    env: {
      PATH: process.env.PATH,
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_PORT: String(controlPort),
      DRACHTIO_SECRET: SECRET,
      ...mysqlEnv(database, user),
      ...redisEnv(redis),
      // jambonz's SELECT cache: the carrier, number and account are read once a second, not per call.
      JAMBONES_MYSQL_REFRESH_TTL: process.env.BENCH_MYSQL_REFRESH_TTL ?? '1',
      JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
      JAMBONES_RTPENGINES: rtpengine.ngAddress,
      DTMF_LISTEN_PORT: String(dtmfPort),
      SBC_DTMF_LISTEN_ADDRESS: '127.0.0.1',
      JWT_SECRET: 'bench-jwt-secret',
      HTTP_PORT: String(httpPort),
      JAMBONES_LOGLEVEL: process.env.BENCH_LOGLEVEL ?? 'info',
      ...Object.fromEntries(
        (process.env.BENCH_APP_ENV ?? '')
          .split(/[\s,]+/)
          .filter((kv) => kv.includes('='))
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    },
  });
  services.push(app);
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, {
    what: 'sbc-inbound /readyz',
    abort: app.exited,
    timeoutMs: 20_000,
  });
  // srf registers for INVITE right after it authenticates: let that land.
  await sleep(300);

  // The feature server, as sbc-options marks a healthy one (one sipp per step, always on this port).
  const fsPort = await freePort(FEATURE_SERVER);
  const redisClient = createRedisClient({ host: redis.host, port: redis.port });
  await new ServerSets(redisClient).touch('active-fs', `${FEATURE_SERVER}:${fsPort}`);

  /**
   * The longest event-loop stall (ms) of the engine and the app since the last call: prom-client
   * resets nodejs_eventloop_lag_max_seconds at each scrape.
   */
  const eventLoopMaxMs = async () => {
    const lag = async (url) => {
      const text = await (await fetch(url)).text();
      const match = /^\S*nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
      return match ? Math.round(Number(match[1]) * 1000) : NaN;
    };
    const [engineLag, appLag] = await Promise.all([
      lag(`http://127.0.0.1:${engineMetricsPort}/metrics`).catch(() => NaN),
      lag(`http://127.0.0.1:${httpPort}/metrics`).catch(() => NaN),
    ]);
    return { engine: engineLag, app: appLag };
  };

  /**
   * The app's INVITE outcomes other than `connected` (sbc_invites_total) and its rtpengine commands
   * that were not answered (sbc_rtpengine_duration_seconds_count{result!="ok"}), by label set.
   */
  const appCounters = async () => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const counters = new Map();
    const series =
      /^(sbc_invites_total|sbc_rtpengine_duration_seconds_count|sbc_feature_server_failovers_total)(\{[^}]*\})? (\S+)$/gm;
    for (const [, name, labels = '', value] of text.matchAll(series)) {
      if (/outcome="connected"|result="ok"/.test(labels)) continue;
      const shown = labels.replace(/,?app="[^"]*"/, '').replace('{,', '{');
      counters.set(`${name}${shown === '{}' ? '' : shown}`, Number(value));
    }
    return counters;
  };
  const counterDeltas = (after, before) =>
    [...after]
      .map(([key, value]) => [key, value - (before.get(key) ?? 0)])
      .filter(([, delta]) => delta > 0)
      .map(([key, delta]) => `${delta} × ${key}`);

  const callsUp = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/`)).json()).calls;

  const step = async (rate, { seconds = SECONDS, report = true } = {}) => {
    const count = Math.round(rate * seconds);
    // Enough room for every call sipp keeps open: hold + setup + BYE at this rate, with margin.
    const maxConcurrent = Math.max(1000, Math.ceil(rate * (HOLD_MS / 1000 + 5)));
    if (rate * (HOLD_MS / 1000 + 1) * PORTS_PER_CALL > MEDIA_PORTS) {
      console.log(`[bench] note: ${rate}/s may need more than rtpengine's ${MEDIA_PORTS} media ports`);
    }
    const timeoutMs = (seconds + HOLD_MS / 1000 + 30) * 1000;
    const sippArgs = ['-buff_size', String(4 * 1024 * 1024), '-max_recv_loops', '10000'];
    const fs = await startSipp({
      scenario: resolve(here, 'uas-fs.xml'),
      localAddress: FEATURE_SERVER,
      localPort: fsPort,
      count,
      maxConcurrent: maxConcurrent * 2,
      timeoutMs: timeoutMs + 10_000,
      traceMessages: false,
      extraArgs: sippArgs,
    });

    await eventLoopMaxMs();
    const countersBefore = await appCounters();
    const rssBefore = rssMiB(app.pid);
    const engineBefore = cpuSeconds(engine.pid);
    const appBefore = cpuSeconds(app.pid);
    const rtpBefore = cpuSeconds(rtpengine.pid);
    const redisBefore = redis.pid ? cpuSeconds(redis.pid) : 0;
    const mysqlBefore = mysql.pid ? cpuSeconds(mysql.pid) : 0;
    const machineBefore = machineJiffies();

    // While sipp runs: the most calls the app holds at once and its largest RSS.
    let maxCalls = 0;
    let peakRss = rssBefore;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxCalls = Math.max(maxCalls, await callsUp().catch(() => 0));
        peakRss = Math.max(peakRss, rssMiB(app.pid));
        await sleep(100);
      }
    })();

    const caller = await runSipp({
      scenario: resolve(here, 'uac-call.xml'),
      target: `127.0.0.1:${sipPort}`,
      localAddress: CARRIER,
      rate,
      count,
      maxConcurrent,
      traceRtt: true,
      traceMessages: false,
      timeoutMs,
      extraArgs: ['-s', `+${DID}`, '-d', String(HOLD_MS), ...sippArgs],
    });
    // The feature server ends once it answered `count` BYEs; one that lost calls is stopped.
    const served = await Promise.race([fs.done, sleep(2000).then(() => fs.stop())]);
    sampling = false;
    await sampler;

    const stall = await eventLoopMaxMs();
    const problems = counterDeltas(await appCounters(), countersBefore);
    const engineCpu = cpuSeconds(engine.pid) - engineBefore;
    const appCpu = cpuSeconds(app.pid) - appBefore;
    const rtpCpu = cpuSeconds(rtpengine.pid) - rtpBefore;
    const redisCpu = redis.pid ? cpuSeconds(redis.pid) - redisBefore : NaN;
    const mysqlCpu = mysql.pid ? cpuSeconds(mysql.pid) - mysqlBefore : NaN;
    const machine = machineJiffies();
    const perCall = (s) => (caller.successfulCalls ? (s * 1000) / caller.successfulCalls : NaN);
    const times = (Object.values(caller.responseTimes)[0] ?? []).sort((a, b) => a - b);
    const row = {
      rate,
      count,
      calls: caller.successfulCalls,
      failed: caller.failedCalls + served.failedCalls,
      callerFailed: caller.failedCalls,
      fsFailed: served.failedCalls,
      retransmissions: caller.retransmissions + served.retransmissions,
      callerRetrans: caller.retransmissions,
      fsRetrans: served.retransmissions,
      p50: Math.round(percentile(times, 50)),
      p99: Math.round(percentile(times, 99)),
      maxCalls,
      engineCpuMs: perCall(engineCpu),
      appCpuMs: perCall(appCpu),
      rtpCpuMs: perCall(rtpCpu),
      cpuMs: perCall(engineCpu + appCpu + rtpCpu),
      redisCpuMs: perCall(redisCpu),
      mysqlCpuMs: perCall(mysqlCpu),
      machineBusy: (100 * (machine.busy - machineBefore.busy)) / (machine.total - machineBefore.total),
      engineStallMs: stall.engine,
      appStallMs: stall.app,
      rssBefore,
      peakRss,
      rssKiBPerCall: maxCalls ? ((peakRss - rssBefore) * 1024) / maxCalls : NaN,
      clean:
        caller.failedCalls === 0 &&
        served.failedCalls === 0 &&
        caller.retransmissions === 0 &&
        served.retransmissions === 0 &&
        caller.successfulCalls === count,
    };
    // Calls left in the app (lost BYEs) would skew the next step: wait for them to end.
    await waitUntil(async () => (await callsUp()) === 0, { what: 'calls to end', timeoutMs: 10_000 }).catch(
      () => console.log(`[bench] ${rate}/s: calls still up in the app after the step`),
    );
    if (!report) return row;
    console.log(
      `[bench] ${rate}/s: ${row.calls}/${count} ok, ${row.failed} failed (caller ${row.callerFailed}, fs ${row.fsFailed}), ` +
        `${row.retransmissions} retransmissions (caller ${row.callerRetrans}, fs ${row.fsRetrans}), ` +
        `setup p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.maxCalls} calls up at most; ` +
        `CPU ms/call ${row.cpuMs.toFixed(3)} (engine ${row.engineCpuMs.toFixed(3)}, app ${row.appCpuMs.toFixed(3)}, ` +
        `rtpengine ${row.rtpCpuMs.toFixed(3)}; redis ${row.redisCpuMs.toFixed(3)}, mariadb ${row.mysqlCpuMs.toFixed(3)}); ` +
        `machine ${row.machineBusy.toFixed(0)} % busy; longest event-loop stall engine ${row.engineStallMs} ms, ` +
        `app ${row.appStallMs} ms; app RSS ${row.rssBefore.toFixed(1)} → ${row.peakRss.toFixed(1)} MiB ` +
        `(${row.rssKiBPerCall.toFixed(1)} KiB per concurrent call)`,
    );
    if (problems.length > 0) console.log(`  the app counted: ${problems.join(', ')}`);
    if (!row.clean && process.env.BENCH_DEBUG) {
      console.log(
        `caller: ${caller.describe().slice(0, 3000)}\nfeature server: ${served.describe().slice(0, 2000)}`,
      );
      // The app's warnings and errors still in the kept output (its last 64 KiB), by message.
      const reasons = new Map();
      for (const line of app.output().split('\n')) {
        try {
          const entry = JSON.parse(line);
          if (entry.level < 40) continue;
          const key = `${entry.msg}: ${typeof entry.err === 'string' ? entry.err : (entry.err?.message ?? '')}`;
          reasons.set(key, (reasons.get(key) ?? 0) + 1);
        } catch {
          // not a log line
        }
      }
      const rtpErrors = rtpengine
        .output()
        .split('\n')
        .filter((line) => /ERR|WARN|CRIT/.test(line))
        .slice(-5);
      console.log(`rtpengine's last errors and warnings:\n${rtpErrors.join('\n')}`);
      console.log(
        `app warnings and errors (recent):\n${[...reasons].map(([k, n]) => `  ${n} × ${k}`).join('\n')}`,
      );
    }
    await sleep(1500);
    return row;
  };

  // A fresh process runs cold (JIT, connection pools, MariaDB's buffer pool): warm up before measuring.
  if (WARMUP_SECONDS > 0) {
    const warm = await step(WARMUP_RATE, { seconds: WARMUP_SECONDS, report: false });
    console.log(
      `[bench] warm-up ${WARMUP_RATE}/s × ${WARMUP_SECONDS} s: ${warm.calls}/${warm.count} ok, ${warm.failed} failed, ` +
        `${warm.retransmissions} retransmissions`,
    );
  }
  const results = [];
  for (const rate of RATES) {
    let row = await step(rate);
    if (!row.clean) row = await step(rate);
    results.push(row);
    if (!row.clean && !process.env.BENCH_NO_STOP) break;
  }
  redisClient.disconnect();

  console.log(
    `\nCarrier calls, hold ${HOLD_MS} ms, ${SECONDS} s per step, SDP only (no RTP); CPU = utime + stime per successful call.`,
  );
  console.log(
    '| calls/s | ok | failed | retrans. | setup p50 ms | p99 ms | max calls up | CPU ms/call engine + app + rtpengine = sum | machine busy | app RSS peak MiB | KiB / concurrent call |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.rate} | ${r.calls} | ${r.failed} | ${r.retransmissions} | ${r.p50} | ${r.p99} | ${r.maxCalls} | ` +
        `${r.engineCpuMs.toFixed(2)} + ${r.appCpuMs.toFixed(2)} + ${r.rtpCpuMs.toFixed(2)} = ${r.cpuMs.toFixed(2)} | ` +
        `${r.machineBusy.toFixed(0)} % | ${r.peakRss.toFixed(1)} | ${r.rssKiBPerCall.toFixed(1)} |`,
    );
  }
  const best = results.filter((r) => r.clean).at(-1);
  console.log(
    best
      ? `[bench] best clean rate ${best.rate} calls/s (setup p50 ${best.p50} ms, p99 ${best.p99} ms, ` +
          `${best.cpuMs.toFixed(2)} ms CPU/call: engine ${best.engineCpuMs.toFixed(2)}, app ${best.appCpuMs.toFixed(2)}, ` +
          `rtpengine ${best.rtpCpuMs.toFixed(2)})`
      : '[bench] no clean rate',
  );
}

main()
  .then(stopAll)
  .catch(async (err) => {
    console.error(`[bench] failed: ${err.stack ?? err}`);
    await stopAll();
    process.exit(1);
  });
