// Engine benchmark: sipp → sbc-sip-engine (dist/cli.js, UDP on loopback) → a trivial drachtio-srf app in
// its own process. For OPTIONS and for INVITE→200→ACK→BYE it climbs a ladder of call rates and prints,
// per step, calls ok / failed / retransmitted, p50 / p99 response time from sipp's rtd samples and the
// CPU the engine and the app spent per call (/proc/<pid>/stat). The peak is the highest clean step: every
// call ok, no failure, no retransmission (a step that is not clean is run once more before the ladder
// stops, as the machine may be shared).
//
//   node bench/run.mjs                      both ladders (about 3 minutes)
//   node bench/run.mjs --profile [--rate N] [--flow options|invite]
//                                           one step with the engine under --cpu-prof, then the top
//                                           self-time functions (bench/profile-summary.mjs)
//   node bench/run.mjs --memory [--rate 3000] [--seconds 45]
//                                           OPTIONS at one rate for longer than Timer J (32 s), sampling the
//                                           engine's resident memory (/proc/<pid>/status VmRSS) every second
//   --profile-out FILE keeps the .cpuprofile; SBC_SIP_ENGINE_CLI=path runs another build of the engine
//   --seconds S (per step, default 8)  --options-rates 500,1000,…  --invite-rates 100,200,…  --keep-going
import { fork } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  freeTcpPort,
  probeEngine,
  runSipp,
  scenarioPath,
  startDaemon,
  waitUntil,
} from '@sbc/testkit';
import { summarizeProfile } from './profile-summary.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const ENGINE_CLI = process.env.SBC_SIP_ENGINE_CLI ?? here('../dist/cli.js');
const APP = here('./app.mjs');
const INVITE_SCENARIO = here('./scenarios/uac-invite-bye.xml');
const PHONE = '127.0.0.3';
const SECRET = 'bench';
const CLK_TCK = 100; // USER_HZ: /proc/<pid>/stat counts in 1/100 s on Linux

// ---- options -------------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = {
    seconds: 8,
    optionsRates: [1000, 2000, 3000, 4000, 5000, 6000, 7000],
    inviteRates: [400, 800, 1200, 1600, 2000, 2500, 3000],
    profile: false,
    memory: false,
    profileRate: 3000,
    profileFlow: 'options',
    keepGoing: false,
  };
  const rates = (v) =>
    v
      .split(',')
      .map(Number)
      .filter((n) => n > 0);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--seconds') opts.seconds = Number(next());
    else if (a === '--options-rates') opts.optionsRates = rates(next());
    else if (a === '--invite-rates') opts.inviteRates = rates(next());
    else if (a === '--profile') opts.profile = true;
    else if (a === '--memory') opts.memory = true;
    else if (a === '--rate') opts.profileRate = Number(next());
    else if (a === '--flow') opts.profileFlow = next();
    else if (a === '--keep-going') opts.keepGoing = true;
    else if (a === '--profile-out') opts.profileOut = next();
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

// ---- processes -----------------------------------------------------------------------------------

/** utime + stime of a process in ms; with `children`, cutime + cstime (children that have exited: sipp). */
function cpuMs(pid, children = false) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = children ? 13 : 11;
  return ((Number(fields[at]) + Number(fields[at + 1])) * 1000) / CLK_TCK;
}

const cleanups = [];
async function cleanup() {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function startEngine(nodeFlags, extraArgs = []) {
  const sipPort = await freePort('127.0.0.1');
  const controlPort = await freeTcpPort('127.0.0.1');
  const daemon = startDaemon({
    name: 'sbc-sip-engine',
    command: process.execPath,
    args: [
      ...nodeFlags,
      ENGINE_CLI,
      '--contact',
      `sip:127.0.0.1:${sipPort};transport=udp`,
      '--address',
      '127.0.0.1',
      '--port',
      String(controlPort),
      '--secret',
      SECRET,
      '--loglevel',
      'error',
      // one sipp source sends thousands of requests per second: the capacity measured here is past
      // the per-source rate limit (its cost per message is in the edge benchmark)
      '--edge-allow',
      PHONE,
      ...extraArgs,
    ],
  });
  cleanups.push(() => daemon.stop(10_000));
  await waitUntil(() => probeEngine('127.0.0.1', controlPort, SECRET).then(() => true), {
    what: `sbc-sip-engine on 127.0.0.1:${controlPort}`,
    abort: daemon.exited,
    intervalMs: 50,
  });
  return { daemon, pid: daemon.pid, controlPort, target: `127.0.0.1:${sipPort}` };
}

async function startApp(controlPort) {
  const child = fork(APP, ['127.0.0.1', String(controlPort), SECRET], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const gone = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await gone;
  };
  cleanups.push(stop);
  process.once('exit', () => child.kill('SIGKILL'));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the srf app did not connect within 5 s')), 5000);
    child.on('message', (msg) => {
      if (msg?.ready) {
        clearTimeout(timer);
        resolve();
      } else if (msg?.error) {
        clearTimeout(timer);
        reject(new Error(`srf app: ${msg.error}`));
      }
    });
    void gone.then(() => reject(new Error('the srf app exited')));
  });
  return { pid: child.pid, stop };
}

/** Resident set size of a process in MB (VmRSS of /proc/<pid>/status). */
function rssMb(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Heap used (MB) and live server transactions, from the engine's /metrics. */
async function scrapeEngine(metricsPort) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const value = (re) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    heapMb: value(/^sbc_sip_engine_nodejs_heap_size_used_bytes (\S+)/m) / 2 ** 20,
    servers: value(/^sbc_sip_engine_active_transactions\{side="server"\} (\S+)/m),
  };
}

// ---- one step ------------------------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function step({ scenario, rate, count, engine, app, rtd }) {
  const before = { engine: cpuMs(engine.pid), app: cpuMs(app.pid), sipp: cpuMs(process.pid, true) };
  const result = await runSipp({
    scenario,
    target: engine.target,
    localAddress: PHONE,
    transport: 'udp',
    rate,
    count,
    traceRtt: true,
    timeoutMs: (count / rate) * 1000 + 20_000,
  });
  // what is still in flight on the engine and app side (the last responses, ACK/BYE handling) is theirs
  await new Promise((r) => setTimeout(r, 300));
  const after = { engine: cpuMs(engine.pid), app: cpuMs(app.pid), sipp: cpuMs(process.pid, true) };
  const samples = (rtd ? (result.responseTimes[rtd] ?? []) : Object.values(result.responseTimes).flat()).sort(
    (a, b) => a - b,
  );
  const bye = rtd ? (result.responseTimes.bye ?? []).sort((a, b) => a - b) : [];
  const calls = Math.max(1, result.successfulCalls + result.failedCalls);
  return {
    rate,
    count,
    ok: result.successfulCalls,
    failed: result.failedCalls,
    retransmissions: result.retransmissions,
    achieved: Number(result.stats['CallRate(C)'] ?? NaN),
    mean: samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : NaN,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    byeP50: percentile(bye, 50),
    byeP99: percentile(bye, 99),
    engineMs: (after.engine - before.engine) / calls,
    appMs: (after.app - before.app) / calls,
    sippMs: (after.sipp - before.sipp) / calls,
    clean:
      result.exitCode === 0 &&
      result.failedCalls === 0 &&
      result.retransmissions === 0 &&
      result.successfulCalls === count,
    detail: result.ok ? '' : result.describe().split('\n').slice(0, 3).join(' '),
  };
}

// ---- table ---------------------------------------------------------------------------------------

const COLUMNS = [
  ['rate/s', (r) => r.rate],
  ['sipp/s', (r) => (Number.isFinite(r.achieved) ? r.achieved.toFixed(0) : '-')],
  ['ok', (r) => r.ok],
  ['failed', (r) => r.failed],
  ['retrans', (r) => r.retransmissions],
  ['mean ms', (r) => fmt(r.mean)],
  ['p50 ms', (r) => fmt(r.p50, 0)],
  ['p99 ms', (r) => fmt(r.p99, 0)],
  ['CPU ms/call', (r) => (r.engineMs + r.appMs).toFixed(3)],
  ['engine', (r) => r.engineMs.toFixed(3)],
  ['app', (r) => r.appMs.toFixed(3)],
  ['sipp', (r) => r.sippMs.toFixed(3)],
  ['', (r) => (r.clean ? 'clean' : 'NOT CLEAN')],
];
const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function printHeader(title) {
  console.log(`\n${title}`);
  console.log('(sipp measures whole ms: p50 0 is under 1 ms. CPU ms/call = engine + app; sipp apart)\n');
  console.log(`| ${COLUMNS.map(([h]) => h).join(' | ')} |`);
  console.log(`|${COLUMNS.map(([h]) => (h === '' ? '---' : '---:')).join('|')}|`);
}
function printRow(r) {
  console.log(`| ${COLUMNS.map(([, f]) => String(f(r))).join(' | ')} |`);
  if (r.detail) console.log(`  ${r.detail}`);
}

async function ladder({ title, scenario, rates, seconds, engine, app, rtd, keepGoing }) {
  printHeader(title);
  const rows = [];
  for (const rate of rates) {
    let row = await step({ scenario, rate, count: Math.round(rate * seconds), engine, app, rtd });
    rows.push(row);
    printRow(row);
    if (!row.clean) {
      // the box may be shared: one more try after a pause before calling this rate the limit
      await new Promise((r) => setTimeout(r, 3000));
      row = await step({ scenario, rate, count: Math.round(rate * seconds), engine, app, rtd });
      rows.push(row);
      printRow(row);
    }
    if (!row.clean && !keepGoing) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const peak = rows.filter((r) => r.clean).at(-1);
  console.log(peak ? `peak clean rate: ${peak.rate}/s` : 'no clean step');
  return rows;
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  console.log(
    `sbc-sip-engine benchmark: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ${opts.seconds} s per step, sipp UDP from ${PHONE}`,
  );

  if (opts.profile) {
    const dir = mkdtempSync(join(tmpdir(), 'sip-engine-prof-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const engine = await startEngine(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const app = await startApp(engine.controlPort);
    // warm-up, then the profiled step
    const invite = opts.profileFlow === 'invite';
    const scenario = invite ? INVITE_SCENARIO : scenarioPath('options-uac');
    const rtd = invite ? 'setup' : undefined;
    await step({ scenario, rate: invite ? 100 : 500, count: invite ? 200 : 1000, engine, app, rtd });
    printHeader(`${invite ? 'INVITE' : 'OPTIONS'} under --cpu-prof (${opts.profileRate}/s)`);
    printRow(
      await step({
        scenario,
        rate: opts.profileRate,
        count: Math.round(opts.profileRate * opts.seconds),
        engine,
        app,
        rtd,
      }),
    );
    await app.stop();
    await engine.daemon.stop(15_000); // SIGTERM: the CLI exits normally and node writes the profile
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the engine wrote no .cpuprofile');
    console.log(`\nengine CPU profile (${join(dir, file)}), top 20 by self time:`);
    console.log(summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), 20));
    if (opts.profileOut) {
      copyFileSync(join(dir, file), opts.profileOut);
      console.log(`profile copied to ${opts.profileOut}`);
    }
    return;
  }

  if (opts.memory) {
    const metricsPort = await freeTcpPort('127.0.0.1');
    const engine = await startEngine([], ['--prometheus-scrape-port', `127.0.0.1:${metricsPort}`]);
    const app = await startApp(engine.controlPort);
    await step({ scenario: scenarioPath('options-uac'), rate: 500, count: 1000, engine, app });
    await new Promise((r) => setTimeout(r, 1000));
    const seconds = opts.seconds === 8 ? 45 : opts.seconds;
    const rate = opts.profileRate;
    const start = rssMb(engine.pid);
    const samples = [];
    const scrapes = [];
    const sampler = setInterval(() => {
      samples.push(rssMb(engine.pid));
      scrapeEngine(metricsPort).then(
        (s) => scrapes.push(s),
        () => undefined,
      );
    }, 1000);
    const row = await step({
      scenario: scenarioPath('options-uac'),
      rate,
      count: Math.round(rate * seconds),
      engine,
      app,
    });
    clearInterval(sampler);
    const end = rssMb(engine.pid);
    console.log(
      `\nOPTIONS at ${rate}/s for ${seconds} s (Timer J keeps each completed UDP transaction 32 s)\n`,
    );
    // heap per live server transaction, at the sample with the most of them (Timer J's steady state)
    const busiest = scrapes.reduce((a, b) => (b.servers > (a?.servers ?? -1) ? b : a), undefined);
    const baseline = scrapes[0];
    const perTxn =
      busiest && baseline && busiest.servers > 0
        ? (((busiest.heapMb - baseline.heapMb) * 2 ** 20) / busiest.servers / 1024).toFixed(2)
        : '-';
    console.log(
      '| rate/s | s | ok | failed | retrans | RSS before MB | RSS peak MB | RSS at end MB | live server txns | heap MB then | KB heap/txn | engine CPU ms/call |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${rate} | ${seconds} | ${row.ok} | ${row.failed} | ${row.retransmissions} | ${start.toFixed(0)} | ` +
        `${Math.max(...samples, end).toFixed(0)} | ${end.toFixed(0)} | ${busiest?.servers ?? '-'} | ` +
        `${busiest ? busiest.heapMb.toFixed(0) : '-'} | ${perTxn} | ${row.engineMs.toFixed(3)} |`,
    );
    return;
  }

  const engine = await startEngine([]);
  const app = await startApp(engine.controlPort);
  // warm-up (JIT, sockets), not reported
  await step({ scenario: scenarioPath('options-uac'), rate: 500, count: 1000, engine, app });
  await step({ scenario: INVITE_SCENARIO, rate: 100, count: 200, engine, app, rtd: 'setup' });

  await ladder({
    title: 'OPTIONS → srf app → 200 (UDP); p50/p99: OPTIONS→200',
    scenario: scenarioPath('options-uac'),
    rates: opts.optionsRates,
    seconds: opts.seconds,
    engine,
    app,
    keepGoing: opts.keepGoing,
  });
  await new Promise((r) => setTimeout(r, 2000));
  const invite = await ladder({
    title: 'INVITE→200→ACK, BYE→200 through srf.createUAS (UDP); p50/p99: INVITE→200',
    scenario: INVITE_SCENARIO,
    rates: opts.inviteRates,
    seconds: opts.seconds,
    engine,
    app,
    rtd: 'setup',
    keepGoing: opts.keepGoing,
  });
  const byes = invite.filter((r) => Number.isFinite(r.byeP50));
  if (byes.length) {
    console.log(
      `BYE→200 p50/p99 ms per step: ${byes.map((r) => `${r.rate}/s ${fmt(r.byeP50, 0)}/${fmt(r.byeP99, 0)}`).join(', ')}`,
    );
  }
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main()
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
