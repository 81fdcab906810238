import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startDaemon } from './daemon.js';
import { freePort, freeTcpPort } from './ports.js';
import { waitUntil } from './wait.js';

export interface SipHostport {
  protocol: string;
  host: string;
  port: number;
}

export interface EngineService {
  /** Control channel address for `srf.connect({ host, port, secret })`. */
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  /** The SIP listeners the engine reported in its authenticate answer (spec §3.1). */
  readonly sip: readonly SipHostport[];
  /** `host:port` of the first UDP listener: where sipp sends. */
  readonly sipTarget: string;
  readonly external: boolean;
  output(): string;
  stop(): Promise<void>;
}

export interface StartEngineOptions {
  /** SIP address (default 127.0.0.1) and port (a free one) for UDP and TCP. */
  sipAddress?: string;
  sipPort?: number;
  /** More `--contact` values, e.g. `sip:127.0.0.1:8080;transport=ws`. */
  extraContacts?: string[];
  secret?: string;
  /** Control port (a free one by default); fixed to restart an engine where apps expect it. */
  controlPort?: number;
  /** Outbound mode: `tcp://host:port` of an app that listens. */
  httpHandler?: string;
  loglevel?: 'notice' | 'error' | 'warning' | 'info' | 'debug';
  extraArgs?: string[];
  /** Extra environment of the engine process (e.g. JAMBONES_NETWORK_CIDR), over this process's. */
  env?: NodeJS.ProcessEnv;
}

/** The engine CLI inside this repository (override with SBC_SIP_ENGINE_CLI). */
function engineCli(): string {
  const path =
    process.env.SBC_SIP_ENGINE_CLI ?? fileURLToPath(new URL('../../sip-engine/dist/cli.js', import.meta.url));
  if (!existsSync(path)) throw new Error(`the SIP engine is not built (${path}): run the build first`);
  return path;
}

/** One framed exchange on the control channel: authenticate, read the hostports, hang up. */
export function probeEngine(host: string, port: number, secret: string): Promise<SipHostport[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from the engine at ${host}:${port}`));
    }, 2000);
    let buffer = '';
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => {
      const payload = `${randomUUID()}|authenticate|${secret}|`;
      socket.write(`${Buffer.byteLength(payload)}#${payload}`);
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const hash = buffer.indexOf('#');
      if (hash < 0 || buffer.length < hash + 1 + Number(buffer.slice(0, hash))) return;
      clearTimeout(timer);
      socket.destroy();
      const tokens = buffer
        .slice(hash + 1)
        .split('\r\n')[0]!
        .split('|');
      if (tokens[3] !== 'OK') {
        reject(new Error(`engine at ${host}:${port} refused the secret: ${tokens.slice(3).join('|')}`));
        return;
      }
      resolve(
        (tokens[4] ?? '')
          .split(',')
          .map((hp) => /^(.*)\/(.*):(\d+)$/.exec(hp))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ protocol: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) })),
      );
    });
  });
}

function serviceFrom(
  host: string,
  port: number,
  secret: string,
  sip: SipHostport[],
  external: boolean,
  output: () => string,
  stop: () => Promise<void>,
): EngineService {
  const udp = sip.find((s) => s.protocol === 'udp') ?? sip[0];
  if (!udp) throw new Error(`the engine at ${host}:${port} reported no SIP listener`);
  return { host, port, secret, sip, sipTarget: `${udp.host}:${udp.port}`, external, output, stop };
}

/**
 * The SIP engine for a test: our `sbc-sip-engine` CLI on loopback ports it picks, or the external
 * drachtio-server named by SBC_TEST_DRACHTIO=host:port:secret (so the suite can run against the real one).
 */
export async function startEngine(options: StartEngineOptions = {}): Promise<EngineService> {
  const externalSpec = process.env.SBC_TEST_DRACHTIO;
  if (externalSpec) {
    const match = /^(.+):(\d+):(.+)$/.exec(externalSpec);
    if (!match) throw new Error(`SBC_TEST_DRACHTIO=${externalSpec} is not host:port:secret`);
    const [, host, port, secret] = match as unknown as [string, string, string, string];
    const sip = await probeEngine(host, Number(port), secret);
    return serviceFrom(
      host,
      Number(port),
      secret,
      sip,
      true,
      () => '',
      () => Promise.resolve(),
    );
  }
  const sipAddress = options.sipAddress ?? '127.0.0.1';
  const sipPort = options.sipPort ?? (await freePort(sipAddress));
  const controlPort = options.controlPort ?? (await freeTcpPort('127.0.0.1'));
  const secret = options.secret ?? 'cymru';
  const host = sipAddress.includes(':') ? `[${sipAddress}]` : sipAddress;
  const args = [
    engineCli(),
    '--contact',
    `sip:${host}:${sipPort};transport=udp,tcp`,
    ...(options.extraContacts ?? []).flatMap((c) => ['--contact', c]),
    '--address',
    '127.0.0.1',
    '--port',
    String(controlPort),
    '--secret',
    secret,
    '--loglevel',
    options.loglevel ?? 'info',
    ...(options.httpHandler ? ['--http-handler', options.httpHandler] : []),
    ...(options.extraArgs ?? []),
  ];
  const daemon = startDaemon({
    name: 'sbc-sip-engine',
    command: process.execPath,
    args,
    env: options.env ? { ...process.env, ...options.env } : undefined,
  });
  let sip: SipHostport[] = [];
  try {
    await waitUntil(
      async () => {
        sip = await probeEngine('127.0.0.1', controlPort, secret);
        return true;
      },
      { what: `sbc-sip-engine control port 127.0.0.1:${controlPort}`, abort: daemon.exited, intervalMs: 50 },
    );
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return serviceFrom(
    '127.0.0.1',
    controlPort,
    secret,
    sip,
    false,
    () => daemon.output(),
    () => daemon.stop(),
  );
}
