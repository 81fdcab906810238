// `npm start`: the whole SBC on loopback with demo data, until Ctrl-C.
// Redis, MariaDB and InfluxDB keep their data in .sbc/; the SIP engine and the apps are this repo's
// builds. Ports can be moved with the SBC_STACK_* variables (see README).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDb, schemaSql, seedDemo } from '@sbc/db';
import {
  DaemonExitedError,
  startDaemon,
  startInfluxdb,
  startMysql,
  startRedis,
  startRtpengine,
  writeSelfSignedCertificate,
  waitUntil,
} from '@sbc/testkit';
import { startPageServer } from '../tests/webrtc/web/serve.mjs';

const root = resolve(import.meta.dirname, '..');
const stateDir = resolve(root, '.sbc');
const port = (name, fallback) => Number(process.env[name] ?? fallback);
const log = (line) => console.log(`[sbc] ${line}`);

const SIP_PORT = port('SBC_STACK_SIP_PORT', 5060);
const WS_PORT = port('SBC_STACK_WS_PORT', 8080);
const WSS_PORT = port('SBC_STACK_WSS_PORT', 8443);
const PHONE_PORT = port('SBC_STACK_PHONE_PORT', 8089);
const CONTROL_PORT = port('SBC_STACK_DRACHTIO_PORT', 9022);
const SECRET = process.env.SBC_STACK_DRACHTIO_SECRET ?? 'cymru';
// Demo secrets: fixed so that what the demo stores stays readable across restarts. Not for production.
const ENCRYPTION_SECRET = 'sbc-demo-encryption-secret';

const services = [];
async function stopAll() {
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
}

function startNode(name, script, env) {
  const daemon = startDaemon({
    name,
    command: process.execPath,
    args: [script],
    env: { ...process.env, ...env },
  });
  // Ctrl-C reaches every process of the terminal's group at once, Redis and MariaDB included, so an app
  // may then fail its last Redis write and exit 1, or be gone before this script has handled its own
  // SIGINT: an exit is news only if the stack is still running a moment later.
  daemon.exited.catch((err) => {
    setTimeout(() => {
      if (!stopping) log(describeExit(name, err));
    }, 500);
  });
  services.push(daemon);
  return daemon;
}

/** What happened to a process of the stack that ended while the stack runs. */
function describeExit(name, err) {
  const rest = 'the rest of the stack keeps running';
  if (!(err instanceof DaemonExitedError)) return `${name} stopped: ${err.message.split('\n')[0]}`;
  if (err.code === 0) {
    return `${name} shut down cleanly (exit code 0): it was asked to stop from outside this script (SIGTERM or SIGINT); ${rest}`;
  }
  if (err.signal) return `${name} was killed by ${err.signal}; ${rest}`;
  const last = err.output.trim().split('\n').pop()?.slice(0, 300);
  return `${name} failed (exit code ${err.code})${last ? `, last output: ${last}` : ''}; ${rest}`;
}

/** A self-signed certificate for 127.0.0.1 in .sbc/tls (made once with openssl): WSS and the web phone. */
function localCertificate() {
  const dir = resolve(stateDir, 'tls');
  const keyFile = resolve(dir, 'key.pem');
  const certFile = resolve(dir, 'cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true });
    writeSelfSignedCertificate({ keyFile, certFile, days: 825 });
  }
  return { keyFile, certFile };
}

async function main() {
  mkdirSync(resolve(stateDir, 'redis'), { recursive: true });
  mkdirSync(resolve(stateDir, 'mysql'), { recursive: true });
  mkdirSync(resolve(stateDir, 'influxdb'), { recursive: true });

  const redis = await startRedis({
    port: port('SBC_STACK_REDIS_PORT', 16379),
    dataDir: resolve(stateDir, 'redis'),
  });
  services.push(redis);
  const mysql = await startMysql({
    port: port('SBC_STACK_MYSQL_PORT', 13306),
    dataDir: resolve(stateDir, 'mysql'),
  });
  services.push(mysql);
  // jambonz's named interfaces: sbc-inbound offers with direction public (callers) / private (feature servers).
  // RFC 2833 digits rtpengine sees go to sbc-inbound's DTMF_LISTEN_PORT (jambonz's 22224).
  const dtmfPort = port('SBC_STACK_DTMF_PORT', 22224);
  const rtpengine = await startRtpengine({
    ngPort: port('SBC_STACK_RTPENGINE_PORT', 22222),
    interfaceNames: ['private', 'public'],
    dtmfLogDest: { host: '127.0.0.1', port: dtmfPort },
  });
  services.push(rtpengine);
  // CDRs, alerts and call counts (databases cdrs, alerts, call_counts…), as jambonz's portal reads them.
  const influxdb = await startInfluxdb({
    port: port('SBC_STACK_INFLUXDB_PORT', 18086),
    dataDir: resolve(stateDir, 'influxdb'),
  });
  services.push(influxdb);

  // The jambonz schema and the demo data (both idempotent), and the user the apps log in as.
  const database = await mysql.createDatabase({ name: 'jambones', schema: schemaSql() });
  const admin = await mysql.connect();
  await admin.query("CREATE USER IF NOT EXISTS 'jambones'@'localhost' IDENTIFIED BY 'jambones'");
  await admin.query("CREATE USER IF NOT EXISTS 'jambones'@'127.0.0.1' IDENTIFIED BY 'jambones'");
  await admin.query("GRANT ALL ON jambones.* TO 'jambones'@'localhost', 'jambones'@'127.0.0.1'");
  await admin.end();
  const db = createDb({ ...database.connectionOptions, user: 'jambones', password: 'jambones' });
  const demo = await seedDemo(db, { encryptionSecret: ENCRYPTION_SECRET });
  await db.close();

  const tls = localCertificate();
  const engine = startDaemon({
    name: 'sbc-sip-engine',
    command: process.execPath,
    args: [
      resolve(root, 'packages/sip-engine/dist/cli.js'),
      '--contact',
      `sip:127.0.0.1:${SIP_PORT};transport=udp,tcp`,
      '--contact',
      `sip:127.0.0.1:${WS_PORT};transport=ws`,
      '--contact',
      `sip:127.0.0.1:${WSS_PORT};transport=wss`,
      '--key-file',
      tls.keyFile,
      '--cert-file',
      tls.certFile,
      '--address',
      '127.0.0.1',
      '--port',
      String(CONTROL_PORT),
      '--secret',
      SECRET,
      '--loglevel',
      'info',
      // edge protection: the rate and connection limits are on by default; the bans the apps write
      // into Redis are read back every 5 s (drachtio-server's --blacklist-redis-* options)
      '--blacklist-redis-address',
      '127.0.0.1',
      '--blacklist-redis-port',
      String(redis.port),
      '--blacklist-redis-key',
      'blacklist-sip-ips',
      '--blacklist-refresh-secs',
      '5',
    ],
    // the private network (feature servers) is never rate-limited
    env: { ...process.env, JAMBONES_NETWORK_CIDR: demo.private_network_cidr },
  });
  services.push(engine);
  await waitUntil(async () => engine.output().includes('control channel listening'), {
    what: 'the SIP engine',
    abort: engine.exited,
  });

  const common = {
    DRACHTIO_HOST: '127.0.0.1',
    DRACHTIO_PORT: String(CONTROL_PORT),
    DRACHTIO_SECRET: SECRET,
    JAMBONES_MYSQL_HOST: '127.0.0.1',
    JAMBONES_MYSQL_PORT: String(mysql.port),
    JAMBONES_MYSQL_USER: 'jambones',
    JAMBONES_MYSQL_PASSWORD: 'jambones',
    JAMBONES_MYSQL_DATABASE: 'jambones',
    JAMBONES_REDIS_HOST: '127.0.0.1',
    JAMBONES_REDIS_PORT: String(redis.port),
    JAMBONES_NETWORK_CIDR: demo.private_network_cidr,
    JAMBONES_TIME_SERIES_HOST: '127.0.0.1',
    JAMBONES_TIME_SERIES_PORT: String(influxdb.port),
    JAMBONES_LOGLEVEL: process.env.JAMBONES_LOGLEVEL ?? 'info',
    ENCRYPTION_SECRET,
    JWT_SECRET: ENCRYPTION_SECRET,
    // The web phone's SIP.js answers MD5 only, and only the last of several challenges.
    SBC_DIGEST_ALGORITHMS: process.env.SBC_DIGEST_ALGORITHMS ?? 'MD5',
  };
  const apps = [
    [
      'sbc-inbound',
      'apps/sbc-inbound/dist/index.js',
      {
        HTTP_PORT: '3001',
        JAMBONES_RTPENGINES: rtpengine.ngAddress,
        DTMF_LISTEN_PORT: String(dtmfPort),
        SBC_DTMF_LISTEN_ADDRESS: '127.0.0.1',
        // Ctrl-C: calls still up get a BYE after 1 s instead of the production hour of draining.
        SBC_DRAIN_GRACE_SECONDS: process.env.SBC_DRAIN_GRACE_SECONDS ?? '1',
      },
    ],
    ['sbc-registrar', 'apps/sbc-registrar/dist/index.js', { HTTP_PORT: '3002' }],
    ['sbc-options', 'apps/sbc-options/dist/index.js', { HTTP_PORT: '3003' }],
  ];
  const started = [];
  const ready = [];
  for (const [name, script, env] of apps) {
    if (!existsSync(resolve(root, script))) continue;
    const daemon = startNode(name, resolve(root, script), { ...common, ...env });
    const url = `http://127.0.0.1:${env.HTTP_PORT}/readyz`;
    started.push(`${name} (${url})`);
    // "up" only once every app has its engine, MySQL and Redis: a call placed at once then connects.
    ready.push(
      waitUntil(async () => (await fetch(url)).ok, {
        what: `${name} ready (${url})`,
        abort: daemon.exited,
      }).catch((err) => {
        throw new Error(`${err.message}\n${daemon.output().slice(-2000)}`);
      }),
    );
  }
  await Promise.all(ready);

  // The web phone of tests/webrtc, over HTTPS with the same certificate as the WSS listener.
  const [alice] = demo.clients;
  const phone = await startPageServer({
    port: PHONE_PORT,
    key: readFileSync(tls.keyFile),
    cert: readFileSync(tls.certFile),
    config: {
      server: `wss://127.0.0.1:${WSS_PORT}`,
      user: alice.username,
      realm: demo.sip_realm,
      password: alice.password,
      target: `sip:${demo.phone_numbers.exact}@${demo.sip_realm}`,
    },
  });
  services.push({ stop: () => phone.close() });

  log(`redis        127.0.0.1:${redis.port}`);
  log(`mariadb      127.0.0.1:${mysql.port} database jambones (user jambones / jambones)`);
  log(`rtpengine    NG ${rtpengine.ngAddress}, media ports ${rtpengine.portMin}-${rtpengine.portMax}`);
  log(`influxdb     http://127.0.0.1:${influxdb.port} (cdrs, alerts, call counts)`);
  log(
    `SIP engine   sip:127.0.0.1:${SIP_PORT} (udp, tcp), ws://127.0.0.1:${WS_PORT}, wss://127.0.0.1:${WSS_PORT}; control 127.0.0.1:${CONTROL_PORT}`,
  );
  log(`apps         ${started.length ? started.join(', ') : 'none built yet'}`);
  log(
    `demo         realm ${demo.sip_realm}; users ${demo.clients.map((c) => `${c.username}/${c.password}`).join(', ')}; ` +
      `carrier 127.0.0.2 (DID ${demo.phone_numbers.exact}); feature servers ${demo.private_network_cidr}`,
  );
  log(`web phone    ${phone.url} (self-signed certificate ${tls.certFile}; see the README)`);
  log('up. Ctrl-C stops everything.');
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    void stopAll().then(() => process.exit(0));
  });
}

main().catch(async (err) => {
  // Ctrl-C while starting ends the services being waited for: the signal handler stops the rest, and
  // that is no failure to start (the SIGINT may be handled a moment after the exit it caused).
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (stopping) return;
  console.error(`[sbc] could not start the stack: ${err.message}`);
  await stopAll();
  process.exit(1);
});
