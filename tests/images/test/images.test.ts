/**
 * The container images, built and run here (issue 18). scripts/images.sh builds the local base
 * when missing and every image with podman; Redis, MariaDB and rtpengine run as in every other
 * suite (@sbc/testkit); the SIP engine, sbc-registrar, sbc-options and sbc-inbound run as
 * containers with host networking on loopback ports. Checked: each app's /readyz, OPTIONS answered
 * 200 (sipp, by sbc-options), a REGISTER with digest answered 200 (sbc-registrar), each image's
 * HEALTHCHECK, the non-root user, and SIGTERM reaching node (a prompt stop with exit code 0).
 * Every container is removed at the end; the images stay as the build cache.
 *
 * Skipped, with the reason in the report, when podman cannot run here (see probePodman).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, schemaSql, seedAccount, seedClient, seedServiceProvider, type Db } from '@sbc/db';
import {
  SipPhone,
  createDatabaseUser,
  freePort,
  freeTcpPort,
  freeUdpPort,
  mysqlEnv,
  redisEnv,
  runSipp,
  scenarioPath,
  startMysql,
  startRedis,
  startRtpengine,
  waitUntil,
  type MysqlService,
  type RedisService,
  type RtpengineService,
  type TestDatabase,
} from '@sbc/testkit';
import { TAG, buildImages, probePodman, removeAll, runContainer, type Container } from './support/podman.js';

const probe = await probePodman();
const REALM = 'images.sbc.test';
const JWT_SECRET = 'images-jwt-secret';
const USER = 'alice';
const PASSWORD = 'alice-secret';
const SECRET = 'images';
const APPS = ['sbc-registrar', 'sbc-options', 'sbc-inbound'] as const;
type App = (typeof APPS)[number];
/** Containers of this run, named so leftovers are recognisable (`podman ps -a --filter name=sbc-it-`). */
const RUN = `sbc-it-${randomBytes(3).toString('hex')}`;

function report(line: string): void {
  process.stderr.write(`[images] ${line}\n`);
}

it(
  probe.usable
    ? 'podman is usable here: the images are built and run'
    : `podman is unusable here, so the image tests are skipped: ${probe.reason}`,
  () => {
    if (!probe.usable) report(`SKIPPED: ${probe.reason}`);
    // A skip always says why.
    expect(probe.usable || probe.reason.trim().length > 0).toBe(true);
  },
);

describe.skipIf(!probe.usable)('container images (podman)', () => {
  let redis: RedisService | undefined;
  let mysql: MysqlService | undefined;
  let rtpengine: RtpengineService | undefined;
  let dtmfListenPort = 0;
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  let engine: Container;
  const apps = new Map<App, Container & { http: string }>();
  const engineSip = { port: 0, control: 0, metrics: 0 };
  const timings: Record<string, number> = {};

  async function start(
    name: string,
    image: string,
    env: Record<string, string>,
    ready: () => Promise<boolean>,
    args: readonly string[] = [],
  ): Promise<Container> {
    const container = await runContainer({ name: `${RUN}-${name}`, image, env, args });
    await waitUntil(ready, {
      what: `${name} container ready`,
      timeoutMs: 30_000,
      intervalMs: 100,
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${name} logs:\n${await container.logs()}`);
    });
    const coldStartMs = Date.now() - container.startedAt;
    timings[`cold start ${name} (ms)`] = coldStartMs;
    return { ...container, coldStartMs };
  }

  const get = async (url: string): Promise<number | undefined> =>
    (await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status;

  beforeAll(async () => {
    const t0 = Date.now();
    // sbc-inbound's DTMF_LISTEN_PORT, where rtpengine sends the RFC 2833 digits it sees.
    const dtmfPort = await freeUdpPort('127.0.0.1');
    // The images build while the services start (both take a while on a fresh machine).
    const [, r, m, rtp] = await Promise.all([
      buildImages(420_000).then(() => (timings['images.sh (ms)'] = Date.now() - t0)),
      startRedis(),
      startMysql(),
      startRtpengine({
        interfaceNames: ['private', 'public'],
        dtmfLogDest: { host: '127.0.0.1', port: dtmfPort },
      }),
    ]);
    [redis, mysql, rtpengine] = [r, m, rtp];
    dtmfListenPort = dtmfPort;
    database = await mysql.createDatabase({ schema: schemaSql() });
    const databaseUser = await createDatabaseUser(mysql, database);
    db = createDb({
      host: database.host,
      port: database.port,
      user: database.user,
      password: database.password,
      database: database.database,
    });
    const sp = await seedServiceProvider(db, { root_domain: 'sbc.test' });
    const account = await seedAccount(db, {
      service_provider_sid: sp.service_provider_sid,
      sip_realm: REALM,
    });
    await seedClient(
      db,
      { account_sid: account.account_sid, username: USER, password: PASSWORD },
      { encryptionSecret: JWT_SECRET },
    );

    engineSip.port = await freePort('127.0.0.1');
    engineSip.control = await freeTcpPort('127.0.0.1');
    engineSip.metrics = await freeTcpPort('127.0.0.1');
    const t1 = Date.now();
    engine = await start(
      'sip-engine',
      `localhost/sbc-sip-engine:${TAG}`,
      { DRACHTIO_PROMETHEUS_SCRAPE_PORT: `127.0.0.1:${engineSip.metrics}` },
      async () => (await get(`http://127.0.0.1:${engineSip.metrics}/livez`)) === 200,
      [
        '--contact',
        `sip:127.0.0.1:${engineSip.port};transport=udp,tcp`,
        '--address',
        '127.0.0.1',
        '--port',
        String(engineSip.control),
        '--secret',
        SECRET,
        '--loglevel',
        'warning',
      ],
    );
    const env = {
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_PORT: String(engineSip.control),
      DRACHTIO_SECRET: SECRET,
      ...mysqlEnv(database, databaseUser),
      ...redisEnv(redis),
      JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
      JAMBONES_LOGLEVEL: process.env.SBC_TEST_LOGLEVEL ?? 'warn',
      JWT_SECRET,
      SBC_REGBOT: '0',
      JAMBONES_RTPENGINES: rtpengine.ngAddress,
      DTMF_LISTEN_PORT: String(dtmfListenPort),
      SBC_DTMF_LISTEN_ADDRESS: '127.0.0.1',
      SBC_DRAIN_GRACE_SECONDS: '2',
    };
    await Promise.all(
      APPS.map(async (app) => {
        const port = await freeTcpPort('127.0.0.1');
        const http = `http://127.0.0.1:${port}`;
        const container = await start(
          app,
          `localhost/${app}:${TAG}`,
          { ...env, HTTP_PORT: String(port) },
          async () => (await get(`${http}/readyz`)) === 200,
        );
        apps.set(app, { ...container, http });
      }),
    );
    timings['stack of containers ready (ms)'] = Date.now() - t1;
  }, 480_000);

  afterAll(async () => {
    report(`timings: ${JSON.stringify(timings)}`);
    await removeAll();
    await db?.close().catch(() => undefined);
    await database?.drop().catch(() => undefined);
    await Promise.all([redis?.stop(), mysql?.stop(), rtpengine?.stop()]);
  }, 90_000);

  it('every app answers /readyz and /livez from its container', async () => {
    for (const app of APPS) {
      const { http } = apps.get(app)!;
      expect(await get(`${http}/readyz`), `${app} /readyz`).toBe(200);
      expect(await get(`${http}/livez`), `${app} /livez`).toBe(200);
    }
  });

  it('answers OPTIONS with 200 through the engine container (sbc-options container)', async () => {
    const result = await runSipp({
      scenario: scenarioPath('options-uac'),
      target: `127.0.0.1:${engineSip.port}`,
      localAddress: '127.0.0.2',
      timeoutMs: 10_000,
    });
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(/SIP\/2\.0 200 OK/);
  });

  it('answers a REGISTER with digest: 401, then 200 (sbc-registrar container, MariaDB, Redis)', async () => {
    const phone = await SipPhone.open('127.0.0.3', `127.0.0.1:${engineSip.port}`);
    try {
      const { res } = await phone.registerWithAuth({
        user: USER,
        realm: REALM,
        password: PASSWORD,
        expires: 60,
      });
      expect(res.status, res.raw).toBe(200);
      expect(res.raw).toMatch(/^Contact:.*alice@127\.0\.0\.3/im);
    } finally {
      phone.close();
    }
  });

  it('runs every image as the unprivileged node user, with a HEALTHCHECK that passes', async () => {
    for (const container of [engine, ...APPS.map((app) => apps.get(app)!)]) {
      expect(await container.inspect('{{.Config.User}}'), container.name).toBe('node');
      expect(await container.inspect('{{json .Config.Healthcheck.Test}}'), container.name).toMatch(/livez/);
      await expect(container.healthcheck(), `${container.name} healthcheck`).resolves.toBe(0);
    }
  });

  it('delivers SIGTERM to node: each container stops promptly with exit code 0', async () => {
    for (const container of [...APPS.map((app) => apps.get(app)!), engine]) {
      const { ms, exitCode } = await container.stop(20);
      timings[`stop ${container.name.slice(RUN.length + 1)} (ms)`] = ms;
      expect(exitCode, `${container.name} exit code\n${await container.logs()}`).toBe(0);
      // SIGKILL would come after 20 s: a stop well before that is node handling SIGTERM.
      expect(ms, `${container.name} stop`).toBeLessThan(10_000);
    }
  });
});
