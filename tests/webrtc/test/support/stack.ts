/**
 * The platform a browser calls through, all real and on loopback: the SIP engine with UDP/TCP, WSS
 * and TLS listeners (a throwaway certificate made with openssl), Redis, MariaDB with the jambonz
 * schema and `seedDemo`'s data (realm demo.sbc.test, clients alice / bob), rtpengine with jambonz's
 * `public` / `private` interfaces, and sbc-registrar and sbc-inbound as production runs them
 * (`node dist/index.js`, configured by the environment). The feature server is sipp on 127.0.1.10.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, schemaSql, seedDemo, type Db, type DemoData } from '@sbc/db';
import {
  freePort,
  freeTcpPort,
  freeUdpPort,
  makeTempDir,
  ngCommand,
  writeSelfSignedCertificate,
  startDaemon,
  startRtpengine,
  startSbcStack,
  waitUntil,
  type Daemon,
  type RtpengineService,
  type SbcStack,
  type TempDir,
} from '@sbc/testkit';

export const SECRET = 'webrtc-test-secret';
export const FEATURE_SERVER = '127.0.1.10';

const entry = (app: string): string =>
  fileURLToPath(new URL(`../../../../apps/${app}/dist/index.js`, import.meta.url));

export interface Certificate {
  dir: TempDir;
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

/** A self-signed certificate for 127.0.0.1 (CN and subjectAltName), valid one day. */
export function makeCertificate(): Certificate {
  const dir = makeTempDir('webrtc-cert');
  const keyFile = join(dir.path, 'key.pem');
  const certFile = join(dir.path, 'cert.pem');
  writeSelfSignedCertificate({ keyFile, certFile, days: 1 });
  return { dir, keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

export interface WebrtcStack {
  sbc: SbcStack;
  db: Db;
  demo: DemoData;
  rtpengine: RtpengineService;
  certificate: Certificate;
  /** `wss://127.0.0.1:port` of the engine's WSS listener. */
  wssUrl: string;
  /** `127.0.0.1:port` of the engine's TLS listener. */
  tlsTarget: string;
  /** Where sbc-inbound sends calls (JAMBONES_FEATURE_SERVERS). */
  featureServerPort: number;
  apps: { name: string; daemon: Daemon }[];
  /** rtpengine's current sessions (call-ids). */
  rtpSessions(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startWebrtcStack(): Promise<WebrtcStack> {
  const certificate = makeCertificate();
  const [wssPort, tlsPort, featureServerPort] = await Promise.all([
    freeTcpPort('127.0.0.1'),
    freeTcpPort('127.0.0.1'),
    freePort(FEATURE_SERVER),
  ]);
  const dtmfPort = await freeUdpPort('127.0.0.1');
  const [sbc, rtpengine] = await Promise.all([
    startSbcStack({
      schema: schemaSql(),
      engine: {
        extraContacts: [`sip:127.0.0.1:${wssPort};transport=wss`, `sip:127.0.0.1:${tlsPort};transport=tls`],
        extraArgs: ['--key-file', certificate.keyFile, '--cert-file', certificate.certFile],
      },
    }),
    startRtpengine({
      interfaceNames: ['private', 'public'],
      dtmfLogDest: { host: '127.0.0.1', port: dtmfPort },
    }),
  ]);
  const { host, port, user, password, database } = sbc.database;
  const db = createDb({ host, port, user, password, database });
  const demo = await seedDemo(db, { encryptionSecret: SECRET });
  const env = {
    PATH: process.env.PATH ?? '',
    ...sbc.env,
    JAMBONES_NETWORK_CIDR: demo.private_network_cidr,
    JAMBONES_LOGLEVEL: process.env.SBC_TEST_LOGLEVEL ?? 'warn',
    ENCRYPTION_SECRET: SECRET,
    JWT_SECRET: SECRET,
    // SIP.js keeps only the last WWW-Authenticate / Proxy-Authenticate of a challenge and answers
    // nothing but MD5, so the default pair (MD5 then SHA-256) fails it: browsers get MD5 alone.
    SBC_DIGEST_ALGORITHMS: 'MD5',
  };
  const apps: WebrtcStack['apps'] = [];
  const stopApps = () => Promise.all(apps.map((a) => a.daemon.stop()));
  try {
    await Promise.all(
      [
        { name: 'sbc-registrar', extra: {} },
        {
          name: 'sbc-inbound',
          extra: {
            JAMBONES_RTPENGINES: rtpengine.ngAddress,
            DTMF_LISTEN_PORT: String(dtmfPort),
            SBC_DTMF_LISTEN_ADDRESS: '127.0.0.1',
            JAMBONES_FEATURE_SERVERS: `${FEATURE_SERVER}:${featureServerPort}`,
          },
        },
      ].map(async ({ name, extra }) => {
        const httpPort = await freeTcpPort('127.0.0.1');
        const daemon = startDaemon({
          name,
          command: process.execPath,
          args: [entry(name)],
          env: { ...env, ...extra, HTTP_PORT: String(httpPort) },
        });
        apps.push({ name, daemon });
        await waitUntil(
          async () =>
            (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.ok === true,
          { what: `${name} /readyz`, abort: daemon.exited, timeoutMs: 20_000, intervalMs: 100 },
        );
      }),
    );
  } catch (err) {
    await stopApps();
    await Promise.all([sbc.stop(), rtpengine.stop(), db.close()]);
    certificate.dir.remove();
    throw err;
  }
  return {
    sbc,
    db,
    demo,
    rtpengine,
    certificate,
    wssUrl: `wss://127.0.0.1:${wssPort}`,
    tlsTarget: `127.0.0.1:${tlsPort}`,
    featureServerPort,
    apps,
    async rtpSessions() {
      const list = await ngCommand(rtpengine.host, rtpengine.ngPort, { command: 'list' });
      return Array.isArray(list.calls) ? list.calls.map(String) : [];
    },
    async stop() {
      await stopApps();
      await db.close().catch(() => undefined);
      await Promise.all([sbc.stop(), rtpengine.stop()]);
      certificate.dir.remove();
    },
  };
}
