import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { freeTcpPort, makeTempDir, startDaemon, waitUntil, type Daemon, type TempDir } from '@sbc/testkit';

/**
 * A redis-server (or sentinel) this file owns outright, started with the test kit's daemon helpers:
 * unlike startRedis() it is never an external SBC_TEST_REDIS server, so tests may stop it, restart
 * it, give it a password or TLS.
 */
export interface PrivateRedis {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
  /** Starts the same server again on the same port. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

/** True once anything answers a RESP PING (+PONG, or -NOAUTH when a password is required). */
function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(/^[+-]/.test(data.toString())));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

export async function startPrivateRedis(
  extraArgs: (dir: string) => string[] = () => [],
  options: { sentinel?: boolean; configFile?: (dir: string, port: number) => string } = {},
): Promise<PrivateRedis> {
  const host = '127.0.0.1';
  const port = await freeTcpPort(host);
  const temp: TempDir = makeTempDir('redis-private');
  const dir = temp.path;
  let daemon: Daemon | undefined;
  const start = async (): Promise<void> => {
    const config = options.configFile ? [join(dir, 'redis.conf')] : [];
    if (options.configFile) writeFileSync(config[0]!, options.configFile(dir, port));
    daemon = startDaemon({
      name: options.sentinel ? 'redis-sentinel' : 'redis-server',
      command: 'redis-server',
      args: [
        ...config,
        ...(options.sentinel ? ['--sentinel'] : []),
        '--bind',
        host,
        '--port',
        String(port),
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        ...extraArgs(dir),
      ],
    });
    await waitUntil(() => answersPing(host, port), {
      what: `redis on ${host}:${port}`,
      abort: daemon.exited,
    });
  };
  await start();
  return {
    host,
    port,
    dir,
    stop: async () => {
      await daemon?.stop();
    },
    restart: start,
    remove: async () => {
      await daemon?.stop();
      temp.remove();
    },
  };
}

export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  files: { ca: string; serverCert: string; serverKey: string };
}

/** A throw-away CA, a server certificate for 127.0.0.1 and a client certificate (openssl, EC P-256). */
export function makeTestPki(dir: string): TestPki {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=sbc-test-ca',
  );
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const role of ['server', 'client']) {
    openssl(
      'req',
      ...ec,
      '-keyout',
      file(`${role}.key`),
      '-out',
      file(`${role}.csr`),
      '-subj',
      `/CN=sbc-test-${role}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${role}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${role}.crt`),
      '-days',
      '1',
      ...(role === 'server' ? ['-extfile', file('server.ext')] : []),
    );
  }
  const read = (name: string): string => readFileSync(file(name), 'utf8');
  return {
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    files: { ca: file('ca.crt'), serverCert: file('server.crt'), serverKey: file('server.key') },
  };
}
