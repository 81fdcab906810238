/**
 * The platform of the failure suite, all real and on loopback: Redis primary + replica + three
 * sentinels, MariaDB on a fixed port and data dir (so it can be restarted), the SIP engine on fixed
 * ports (same), rtpengine with jambonz's `private` / `public` interfaces, a feature server, two
 * sbc-registrar processes, one sbc-options and one sbc-inbound process (`node dist/index.js`,
 * configured by the environment with JAMBONES_REDIS_SENTINELS like production). The registrars run
 * with SBC_REDIS_MIN_REPLICAS=1: a binding is answered 200 only once the replica holds it.
 */
import { fileURLToPath } from 'node:url';
import {
  createDb,
  schemaSql,
  seedAccount,
  seedApplication,
  seedCarrier,
  seedClient,
  seedServiceProvider,
  type Db,
} from '@sbc/db';
import {
  createDatabaseUser,
  freePort,
  freeTcpPort,
  freeUdpPort,
  makeTempDir,
  mysqlEnv,
  startDaemon,
  startEngine,
  startMysql,
  startRedisSentinelCluster,
  startRtpengine,
  waitUntil,
  type Daemon,
  type DatabaseUser,
  type EngineService,
  type MysqlService,
  type RedisSentinelCluster,
  type RtpengineService,
  type StartEngineOptions,
  type TempDir,
  type TestDatabase,
} from '@sbc/testkit';
import { FeatureServer } from './calls.js';

export const CLUSTER = 'failover';
export const REALM = 'failover.sbc.test';
export const JWT_SECRET = 'failover-jwt-secret';
export const RETRY_AFTER = '5';
/** SBC_REGBOT_CHECK_INTERVAL: the lock's TTL is this + 10 s (jambonz: 60 + 10). */
export const REGBOT_CHECK_SECONDS = 1;
export const REGBOT_LOCK_TTL_MS = (REGBOT_CHECK_SECONDS + 10) * 1000;
/** The carrier gateway calls come from, and the feature server's address (in JAMBONES_NETWORK_CIDR). */
export const CARRIER_GATEWAY = '127.0.38.20';
export const FEATURE_SERVER = '127.0.1.22';
/** SBC_REDIS_MIN_REPLICAS of the registrars, and their WAIT (ms). */
export const MIN_REPLICAS = 1;
export const REPLICA_WAIT_MS = 500;

const entry = (app: string): string =>
  fileURLToPath(new URL(`../../../../apps/${app}/dist/index.js`, import.meta.url));

export interface AppInstance {
  name: string;
  daemon: Daemon;
  http: string;
  /** `sbc_regbot_leader` (registrar only): 1 while it holds the token. */
  gauge(name: string): Promise<number | undefined>;
}

export class FailoverStack {
  redis!: RedisSentinelCluster;
  mysql!: MysqlService;
  mysqlDir!: TempDir;
  mysqlPort!: number;
  database!: TestDatabase;
  databaseUser!: DatabaseUser;
  db!: Db;
  engine!: EngineService;
  engineOptions!: StartEngineOptions;
  registrars: AppInstance[] = [];
  options!: AppInstance;
  inbound!: AppInstance;
  rtpengine!: RtpengineService;
  /** sbc-inbound's DTMF_LISTEN_PORT, rtpengine's --dtmf-log-dest. */
  private dtmfPort = 0;
  featureServer!: FeatureServer;
  /** The account calls are counted for (`incalls:account:<sid>`). */
  accountSid!: string;
  users: string[] = [];

  async start(userCount: number): Promise<void> {
    this.mysqlDir = makeTempDir('failover-mariadb');
    this.mysqlPort = await freeTcpPort('127.0.0.1');
    this.dtmfPort = await freeUdpPort('127.0.0.1');
    this.engineOptions = {
      loglevel: 'warning',
      sipPort: await freePort('127.0.0.1'),
      controlPort: await freeTcpPort('127.0.0.1'),
      secret: 'failover',
    };
    [this.redis, this.mysql, this.engine, this.rtpengine, this.featureServer] = await Promise.all([
      startRedisSentinelCluster(),
      startMysql({ port: this.mysqlPort, dataDir: this.mysqlDir.path }),
      startEngine(this.engineOptions),
      startRtpengine({
        interfaceNames: ['private', 'public'],
        dtmfLogDest: { host: '127.0.0.1', port: this.dtmfPort },
      }),
      FeatureServer.open(FEATURE_SERVER),
    ]);
    this.database = await this.mysql.createDatabase({ schema: schemaSql() });
    this.databaseUser = await createDatabaseUser(this.mysql, this.database);
    const { host, port, user, password, database } = this.database;
    this.db = createDb({ host, port, user, password, database });
    const sp = await seedServiceProvider(this.db, { root_domain: 'sbc.test' });
    const account_sid = await seedAccount(this.db, {
      service_provider_sid: sp.service_provider_sid,
      sip_realm: REALM,
    });
    this.accountSid = account_sid.account_sid;
    // Calls from the carrier's gateway go to this account's application.
    const app = await seedApplication(this.db, { account_sid: this.accountSid, name: 'failover-app' });
    await seedCarrier(this.db, {
      name: 'failover-carrier',
      service_provider_sid: sp.service_provider_sid,
      account_sid: this.accountSid,
      application_sid: app.application_sid,
      gateways: [{ ipv4: CARRIER_GATEWAY, outbound: false }],
    });
    this.users = Array.from({ length: userCount }, (_, i) => `u${i}`);
    for (let i = 0; i < this.users.length; i += 100) {
      await Promise.all(
        this.users
          .slice(i, i + 100)
          .map((username) =>
            seedClient(
              this.db,
              { account_sid: account_sid.account_sid, username, password: password_(username) },
              { encryptionSecret: JWT_SECRET },
            ),
          ),
      );
    }
    const [a, b, o, i] = await Promise.all([
      this.startApp('sbc-registrar', 'registrar-a'),
      this.startApp('sbc-registrar', 'registrar-b'),
      this.startApp('sbc-options', 'options'),
      this.startApp('sbc-inbound', 'inbound'),
    ]);
    this.registrars = [a, b];
    this.options = o;
    this.inbound = i;
  }

  env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      DRACHTIO_HOST: this.engine.host,
      DRACHTIO_PORT: String(this.engine.port),
      DRACHTIO_SECRET: this.engine.secret,
      ...mysqlEnv(this.database, this.databaseUser),
      ...this.redis.env,
      JAMBONES_CLUSTER_ID: CLUSTER,
      JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
      JAMBONES_LOGLEVEL: process.env.SBC_TEST_LOGLEVEL ?? 'warn',
      JWT_SECRET,
      SBC_RETRY_AFTER: RETRY_AFTER,
      SBC_REGBOT_CHECK_INTERVAL: String(REGBOT_CHECK_SECONDS),
      JAMBONES_REGBOT_INITIAL_DELAY_MS: '0',
      // Feature servers stay in the health set for the whole suite unless they stop pinging.
      EXPIRES_INTERVAL: '120000',
      SBC_REDIS_MIN_REPLICAS: String(MIN_REPLICAS),
      SBC_REDIS_REPLICA_WAIT_MS: String(REPLICA_WAIT_MS),
      // sbc-inbound: rtpengine, the feature server, calls counted per account.
      JAMBONES_RTPENGINES: this.rtpengine.ngAddress,
      DTMF_LISTEN_PORT: String(this.dtmfPort),
      SBC_DTMF_LISTEN_ADDRESS: '127.0.0.1',
      JAMBONES_FEATURE_SERVERS: this.featureServer.hostport,
      JAMBONES_TRACK_ACCOUNT_CALLS: '1',
      SBC_FS_ANSWER_TIMEOUT_MS: '1500',
      SBC_RTPENGINE_TIMEOUT_MS: '500',
    };
  }

  async startApp(
    app: 'sbc-registrar' | 'sbc-options' | 'sbc-inbound',
    name: string,
    extraEnv: Record<string, string> = {},
    without: readonly string[] = [],
  ): Promise<AppInstance> {
    const port = await freeTcpPort('127.0.0.1');
    const http = `http://127.0.0.1:${port}`;
    const sock = `${this.mysqlDir.path}/${name}.sock`;
    const daemon = startDaemon({
      name,
      command: process.execPath,
      args: [entry(app)],
      env: Object.fromEntries(
        Object.entries({ ...this.env(), HTTP_PORT: String(port), SBC_SOCKET_PATH: sock, ...extraEnv }).filter(
          ([key]) => !without.includes(key),
        ),
      ),
    });
    await waitUntil(async () => (await fetch(`${http}/readyz`).catch(() => undefined))?.status === 200, {
      what: `${name} /readyz`,
      abort: daemon.exited,
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    return {
      name,
      daemon,
      http,
      async gauge(metric) {
        const text = await (await fetch(`${http}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `));
        return line === undefined ? undefined : Number(line.split(' ').pop());
      },
    };
  }

  /**
   * Listen mode ("outbound connections"): a second engine that dials an sbc-registrar listening on
   * DRACHTIO_PORT (DRACHTIO_HOST unset) for every new request. `restart()` restarts that engine.
   */
  async startListenMode(): Promise<{
    engine: () => EngineService;
    app: AppInstance;
    restart(): Promise<void>;
    stop(): Promise<void>;
  }> {
    const appPort = await freeTcpPort('127.0.0.1');
    const options: StartEngineOptions = {
      loglevel: 'warning',
      sipPort: await freePort('127.0.0.1'),
      controlPort: await freeTcpPort('127.0.0.1'),
      secret: 'failover',
      httpHandler: `tcp://127.0.0.1:${appPort}`,
    };
    const app = await this.startApp(
      'sbc-registrar',
      'registrar-listen',
      { DRACHTIO_PORT: String(appPort), SBC_REGBOT: 'false' },
      ['DRACHTIO_HOST'],
    );
    let engine = await startEngine(options);
    return {
      engine: () => engine,
      app,
      async restart() {
        await engine.stop();
        engine = await startEngine(options);
      },
      async stop() {
        await app.daemon.stop();
        await engine.stop();
      },
    };
  }

  /** Stops the engine and starts it again on the same ports and secret. */
  async restartEngine(): Promise<void> {
    await this.engine.stop();
    this.engine = await startEngine(this.engineOptions);
  }

  /** SIGTERM to MariaDB (a clean restart), then starts it again on the same port and data. */
  async restartMysql(pauseMs: number): Promise<void> {
    await this.mysql.stop();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    this.mysql = await startMysql({ port: this.mysqlPort, dataDir: this.mysqlDir.path });
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.registrars, this.options, this.inbound].filter(Boolean).map((a) => a.daemon.stop()),
    );
    await this.db?.close().catch(() => undefined);
    this.featureServer?.close();
    await Promise.all([this.engine?.stop(), this.redis?.stop(), this.mysql?.stop(), this.rtpengine?.stop()]);
    this.mysqlDir?.remove();
  }
}

export function password_(user: string): string {
  return `${user}-secret`;
}
