// Edge protection benchmark (`pnpm bench` in tests/edge, after the build; the root `npm run bench`
// runs it through turbo). The stack as `npm start` runs it, on loopback: the SIP engine with its
// defaults (rate limit 1,000 messages / 2 s per source, ban 300 s; 250 connections per source;
// spammer list) reading the Redis blacklist every second, sbc-registrar with local credentials (the
// clients table) and its default failure limit (20 in 60 s), sbc-options; Redis and MariaDB.
//
//   1. flood: 10 phones (127.0.0.101-110) register at 100/s each with sipp (REGISTER, 401,
//      REGISTER with credentials, 200) for BENCH_SECONDS, first alone, then beside one source
//      (127.0.0.200) sending REGISTERs at 2,000/s; CPU of engine + app per legitimate registration;
//   2. password guessing: 50 wrong passwords from 127.0.0.201 (20 a second), then the right one; another source;
//      how long the ban lasts (SBC_BAN_SECONDS=30 here);
//   3. scan: sipvicious' User-Agent, OPTIONS / REGISTER / INVITE to 1,000 extensions (3,000
//      requests at 400/s, under the rate limit, so only the spammer list stops them);
//   4. 1,000 TCP connections from one source, left idle: how many the engine keeps, its memory.
//
// Environment: BENCH_SECONDS (8), BENCH_LEGIT_RATE (100 per phone), BENCH_FLOOD_RATE (2000).
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createDb, schemaSql, seedAccount, seedClients, seedServiceProvider } from '@sbc/db';
import { createRedisClient } from '@sbc/redis';
import {
  authorization,
  challengesOf,
  cpuSeconds,
  freePort,
  freeTcpPort,
  makeTempDir,
  metricValue,
  rssMiB,
  runSipp,
  SipPhone,
  startDaemon,
  startEngineProcess,
  startMysql,
  startRedis,
  waitUntil,
} from '@sbc/testkit';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../../..');
const SECRET = 'edge-bench';
const ENCRYPTION_SECRET = 'edge-bench-encryption-secret';
const REALM = 'edge.bench.test';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LEGIT_RATE = Number(process.env.BENCH_LEGIT_RATE ?? 100);
const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? 2000);
const PHONES = Array.from({ length: 10 }, (_, i) => `127.0.0.${101 + i}`);
const USERS_PER_PHONE = LEGIT_RATE * SECONDS * 3 + 100; // warm-up, alone, beside the flood
const BAN_SECONDS = 30;

/** One digest registration with a 1.2 s wait per answer: the final status, or 'none' when dropped. */
async function attempt(phone, user, password, n) {
  const callId = `attempt-${n}-${Math.random().toString(36).slice(2)}@${phone.address}`;
  try {
    const first = await phone.send(
      phone.registerText({ user, realm: REALM, expires: 60, callId, cseq: 1 }),
      1200,
    );
    if (first.status !== 401) return first.status;
    const challenge = challengesOf(first)[0];
    const header = authorization(challenge, { username: user, password, uri: `sip:${REALM}` });
    const res = await phone.send(
      phone.registerText({ user, realm: REALM, expires: 60, callId, cseq: 2, authorization: header }),
      1200,
    );
    return res.status;
  } catch {
    return 'none';
  }
}

const services = [];
async function stopAll() {
  for (const s of services.reverse()) await s.stop().catch(() => undefined);
}

const loadAverage = () => execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ');

function registerText(from, port, user, n) {
  return [
    `REGISTER sip:${REALM} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from}:${port};branch=z9hG4bK-flood-${n};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${REALM}>;tag=f${n}`,
    `To: <sip:${user}@${REALM}>`,
    `Call-ID: flood-${n}@${from}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${from}:${port}>`,
    'Expires: 3600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function scanText(method, from, port, ext, n, target) {
  return [
    `${method} sip:${ext}@${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from}:${port};branch=z9hG4bK-scan-${n};rport`,
    'Max-Forwards: 70',
    `From: "${ext}" <sip:${ext}@${target}>;tag=s${n}`,
    `To: "${ext}" <sip:${ext}@${target}>`,
    `Call-ID: scan-${n}@${from}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:${ext}@${from}:${port}>`,
    'User-Agent: friendly-scanner',
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A UDP source sending `make(n)` at `rate`/s for `seconds`; counts answers and the time of the last one. */
async function udpSource(address, target, rate, seconds, make) {
  const socket = createSocket('udp4');
  await new Promise((r) => socket.bind(0, address, r));
  const port = socket.address().port;
  const [host, targetPort] = target.split(':');
  let answers = 0;
  let lastAnswer = 0;
  const started = performance.now();
  socket.on('message', () => {
    answers++;
    lastAnswer = performance.now() - started;
  });
  let sent = 0;
  const total = Math.round(rate * seconds);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) socket.send(make(sent++, port), Number(targetPort), host);
    await sleep(5);
  }
  await sleep(1000);
  socket.close();
  return { sent, answers, lastAnswerMs: lastAnswer };
}

async function main() {
  console.log(
    `[bench] starting Redis, MariaDB, the SIP engine, sbc-registrar and sbc-options (load ${loadAverage()})`,
  );
  const [redis, mysql] = await Promise.all([startRedis(), startMysql()]);
  services.push(redis, mysql);
  const database = await mysql.createDatabase({ schema: schemaSql() });
  const db = createDb({ ...database.connectionOptions, database: database.database });
  await db.execute(`CREATE USER IF NOT EXISTS 'bench'@'%' IDENTIFIED BY 'bench-pass'`, []);
  await db.execute(`GRANT ALL ON \`${database.database}\`.* TO 'bench'@'%'`, []);
  const sp = await seedServiceProvider(db, { root_domain: 'bench.test' });
  const account = await seedAccount(db, { service_provider_sid: sp.service_provider_sid, sip_realm: REALM });
  const users = PHONES.flatMap((_, p) =>
    Array.from({ length: USERS_PER_PHONE }, (_, i) => ({ username: `p${p}u${i}`, password: `pw-${p}-${i}` })),
  );
  users.push({ username: 'victim', password: 'right-pass' }, { username: 'neighbour', password: 'n-pass' });
  await seedClients(db, account.account_sid, users, { encryptionSecret: ENCRYPTION_SECRET });
  await db.execute('CREATE INDEX clients_username_idx ON clients (username)', []);
  await db.close();

  const metricsPort = await freeTcpPort('127.0.0.1');
  const {
    daemon: engine,
    sipPort,
    controlPort,
  } = await startEngineProcess({
    cli: resolve(root, 'packages/sip-engine/dist/cli.js'),
    secret: SECRET,
    args: [
      // startEngineProcess turns the rate limit off for capacity benchmarks: back to the default here
      '--rate-limit-requests',
      '1000',
      '--blacklist-redis-address',
      redis.host,
      '--blacklist-redis-port',
      String(redis.port),
      '--blacklist-redis-key',
      'blacklist-sip-ips',
      '--blacklist-refresh-secs',
      '1',
      '--prometheus-scrape-port',
      `127.0.0.1:${metricsPort}`,
    ],
  });
  services.push(engine);
  const target = `127.0.0.1:${sipPort}`;
  const common = {
    PATH: process.env.PATH,
    DRACHTIO_HOST: '127.0.0.1',
    DRACHTIO_PORT: String(controlPort),
    DRACHTIO_SECRET: SECRET,
    JAMBONES_MYSQL_HOST: database.host,
    JAMBONES_MYSQL_PORT: String(database.port),
    JAMBONES_MYSQL_USER: 'bench',
    JAMBONES_MYSQL_PASSWORD: 'bench-pass',
    JAMBONES_MYSQL_DATABASE: database.database,
    JAMBONES_MYSQL_REFRESH_TTL: '1',
    ENCRYPTION_SECRET,
    JAMBONES_REDIS_HOST: redis.host,
    JAMBONES_REDIS_PORT: String(redis.port),
    JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
    JAMBONES_LOGLEVEL: 'warn',
    SBC_BAN_SECONDS: String(BAN_SECONDS),
  };
  const apps = {};
  for (const [name, extra] of [
    ['sbc-registrar', { SBC_REGBOT: '0' }],
    ['sbc-options', { SBC_SOCKET_PATH: resolve(makeTempDir('edge-bench').path, 'cli.sock') }],
  ]) {
    const httpPort = await freeTcpPort('127.0.0.1');
    const daemon = startDaemon({
      name,
      command: process.execPath,
      args: [resolve(root, `apps/${name}/dist/index.js`)],
      env: { ...common, ...extra, HTTP_PORT: String(httpPort) },
    });
    services.push(daemon);
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, {
      what: `${name} /readyz`,
      abort: daemon.exited,
      timeoutMs: 20_000,
    });
    apps[name] = { pid: daemon.pid, httpPort };
  }
  const appOutput = () =>
    services
      .map((d) => d.output?.() ?? '')
      .join('\n')
      .slice(-4000);
  const engineMetrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const dir = makeTempDir('edge-bench-users');
  const rows = [];

  // ---- 1. flood beside legitimate phones ----
  let userOffset = 0;
  const legitimate = async () => {
    const runs = PHONES.map((phone, p) => {
      const file = resolve(dir.path, `phone${p}.csv`);
      const lines = ['SEQUENTIAL'];
      for (let i = userOffset; i < userOffset + LEGIT_RATE * SECONDS; i++) {
        lines.push(`p${p}u${i};${REALM};[authentication username=p${p}u${i} password=pw-${p}-${i}]`);
      }
      writeFileSync(file, `${lines.join('\n')}\n`);
      return runSipp({
        scenario: resolve(root, 'apps/sbc-registrar/bench/register.xml'),
        target,
        localAddress: phone,
        usersFile: file,
        rate: LEGIT_RATE,
        count: LEGIT_RATE * SECONDS,
        maxConcurrent: 2000,
        traceMessages: false,
        timeoutMs: (SECONDS + 40) * 1000,
      });
    });
    userOffset += LEGIT_RATE * SECONDS;
    const results = await Promise.all(runs);
    if (process.env.BENCH_DEBUG) console.log(results[0].describe().slice(0, 4000));
    return {
      ok: results.reduce((n, r) => n + r.successfulCalls, 0),
      failed: results.reduce((n, r) => n + r.failedCalls, 0),
      retrans: results.reduce((n, r) => n + r.retransmissions, 0),
    };
  };
  const cpuOf = () => cpuSeconds(engine.pid) + cpuSeconds(apps['sbc-registrar'].pid);
  // warm-up
  const warm = await legitimate();
  const bansAfterWarmUp = metricValue(await engineMetrics(), 'sbc_sip_engine_rate_bans_total', {}) ?? 0;
  console.log(
    `[bench] warm-up: ${warm.ok} ok, ${warm.failed} failed, ${warm.retrans} retransmissions; rate bans so far: ${bansAfterWarmUp}`,
  );
  if (process.env.BENCH_DEBUG) console.log(appOutput());
  let cpu = cpuOf();
  const alone = await legitimate();
  const aloneCpuMs = ((cpuOf() - cpu) * 1000) / Math.max(1, alone.ok);
  console.log(
    `[bench] legitimate alone: ${alone.ok} ok, ${alone.failed} failed, ${alone.retrans} retransmissions, ${aloneCpuMs.toFixed(3)} ms CPU/registration (load ${loadAverage()})`,
  );
  cpu = cpuOf();
  const [flood, beside] = await Promise.all([
    udpSource('127.0.0.200', target, FLOOD_RATE, SECONDS, (n, port) =>
      registerText('127.0.0.200', port, `flood${n}`, n),
    ),
    legitimate(),
  ]);
  const besideCpuMs = ((cpuOf() - cpu) * 1000) / Math.max(1, beside.ok);
  console.log(
    `[bench] beside the flood: ${beside.ok} ok, ${beside.failed} failed, ${beside.retrans} retransmissions, ${besideCpuMs.toFixed(3)} ms CPU/registration; flooder: ${flood.sent} sent, ${flood.answers} answered, last answer after ${flood.lastAnswerMs.toFixed(0)} ms (load ${loadAverage()})`,
  );
  const expected = PHONES.length * LEGIT_RATE * SECONDS;
  rows.push([
    `flood: 1 source at ${FLOOD_RATE} REGISTER/s for ${SECONDS} s beside 10 phones at ${LEGIT_RATE}/s each`,
    `flooder answered ${flood.answers} of ${flood.sent}, none after ${(flood.lastAnswerMs / 1000).toFixed(2)} s (rate ban); phones ${beside.ok}/${expected} registered (${((100 * beside.ok) / expected).toFixed(1)} %, ${beside.retrans} retransmissions); engine + app CPU ${besideCpuMs.toFixed(2)} ms per registration vs ${aloneCpuMs.toFixed(2)} ms without the flood (${alone.ok}/${expected} registered then)`,
  ]);

  // ---- 2. password guessing ----
  const guesser = await SipPhone.open('127.0.0.201', target);
  const neighbour = await SipPhone.open('127.0.0.202', target);
  let answered403 = 0;
  let firstUnanswered;
  for (let i = 1; i <= 50; i++) {
    const status = await attempt(guesser, 'victim', `guess-${i}`, i);
    if (status === 403) answered403++;
    else if (status === 'none') firstUnanswered ??= i;
    await sleep(50); // 20 guesses a second
  }
  if (process.env.BENCH_DEBUG) {
    const text = await (await fetch(`http://127.0.0.1:${apps['sbc-registrar'].httpPort}/metrics`)).text();
    console.log(
      appOutput(),
      text
        .split('\n')
        .filter((l) => /auth_failures|source_bans|registrations_total/.test(l))
        .join('\n'),
    );
  }
  // when the registrar banned the source (the ban's bookkeeping in Redis)
  const bans = createRedisClient({ host: redis.host, port: redis.port });
  const details = JSON.parse((await bans.hget('blacklist-sip-ips:details', '127.0.0.201')) ?? '{}');
  bans.disconnect();
  const bannedAt = details.since ?? Date.now();
  const rightDropped = (await attempt(guesser, 'victim', 'right-pass', 51)) === 'none';
  const other = await attempt(neighbour, 'neighbour', 'n-pass', 1);
  let readmittedAfter = NaN;
  for (let n = 52; Date.now() - bannedAt < (BAN_SECONDS + 30) * 1000; n++) {
    if ((await attempt(guesser, 'victim', 'right-pass', n)) === 200) {
      readmittedAfter = (Date.now() - bannedAt) / 1000;
      break;
    }
    await sleep(500);
  }
  guesser.close();
  neighbour.close();
  console.log(
    `[bench] guessing: ${answered403} answered 403, first unanswered attempt #${firstUnanswered}, right password while banned dropped: ${rightDropped}, other source: ${other}, readmitted after ${readmittedAfter} s`,
  );
  rows.push([
    '50 wrong passwords from one source, 20 a second (limit 20 in 60 s), then the right one',
    `${answered403} answered 403, dropped from attempt #${firstUnanswered ?? '–'} on (the engine reads the set every second); the right password while banned: ${rightDropped ? 'no answer' : 'ANSWERED'}; another source: ${other}; the source answered again ${readmittedAfter.toFixed(1)} s after the ban (SBC_BAN_SECONDS=${BAN_SECONDS}, + the 5 s expiry sweep and the 1 s refresh)`,
  ]);

  // ---- 3. sipvicious-style scan ----
  const before = await engineMetrics();
  const methods = ['OPTIONS', 'REGISTER', 'INVITE'];
  const scan = await udpSource('127.0.0.203', target, 400, 3000 / 400, (n, port) =>
    scanText(methods[n % 3], '127.0.0.203', port, 1000 + Math.floor(n / 3), n, target),
  );
  const after = await engineMetrics();
  const spammerDrops =
    metricValue(after, 'sbc_sip_engine_edge_dropped_total', { reason: 'spammer', protocol: 'udp' }) -
    (metricValue(before, 'sbc_sip_engine_edge_dropped_total', { reason: 'spammer', protocol: 'udp' }) ?? 0);
  console.log(
    `[bench] scan: ${scan.sent} sent, ${scan.answers} answered, ${spammerDrops} dropped by the spammer list`,
  );
  rows.push([
    'sipvicious-style scan: OPTIONS / REGISTER / INVITE to 1,000 extensions, User-Agent friendly-scanner, 400/s',
    `${scan.answers} of ${scan.sent} answered; ${spammerDrops} dropped by the spammer list`,
  ]);

  // ---- 4. idle TCP connections ----
  const rssBefore = rssMiB(engine.pid);
  const sockets = [];
  let closed = 0;
  for (let i = 0; i < 1000; i++) {
    const socket = connect({ host: '127.0.0.1', port: sipPort, localAddress: '127.0.0.204' });
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
    sockets.push(socket);
    if (i % 50 === 49) await sleep(20);
  }
  await sleep(2000);
  const rssAfter = rssMiB(engine.pid);
  const kept = sockets.length - closed;
  const otherPort = await freePort('127.0.0.205');
  const otherIn = await new Promise((resolveOk) => {
    const s = connect({
      host: '127.0.0.1',
      port: sipPort,
      localAddress: '127.0.0.205',
      localPort: otherPort,
    });
    s.on('connect', () => setTimeout(() => resolveOk(!s.destroyed), 300));
    s.on('error', () => resolveOk(false));
    sockets.push(s);
  });
  const connectionDrops = metricValue(await engineMetrics(), 'sbc_sip_engine_edge_dropped_total', {
    reason: 'connection_limit',
    protocol: 'tcp',
  });
  for (const s of sockets) s.destroy();
  console.log(
    `[bench] idle TCP: ${kept} kept, ${closed} refused; engine RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB; another source connects: ${otherIn}`,
  );
  rows.push([
    '1,000 idle TCP connections from one source',
    `${kept} kept (limit 250 per source), ${closed} refused (${connectionDrops} counted); engine RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB; another source still connects: ${otherIn ? 'yes' : 'NO'}`,
  ]);

  dir.remove();
  console.log(`\nLoad average at the end: ${loadAverage()}\n`);
  console.log('| attack | result |');
  console.log('|---|---|');
  for (const [what, result] of rows) console.log(`| ${what} | ${result} |`);
}

main()
  .then(stopAll)
  .catch(async (err) => {
    console.error(`[bench] failed: ${err.stack ?? err}`);
    await stopAll();
    process.exit(1);
  });
