import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { bdecode, bencode, type BValue } from './bencode.js';
import { startDaemon } from './daemon.js';
import { freeUdpPort, randomPortRange } from './ports.js';
import { waitUntil } from './wait.js';

export interface RtpengineService {
  readonly host: string;
  /** NG control port (UDP). */
  readonly ngPort: number;
  /** `host:port` as JAMBONES_RTPENGINES takes it. */
  readonly ngAddress: string;
  readonly portMin: number;
  readonly portMax: number;
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

export interface StartRtpengineOptions {
  /** Media and control address. */
  host?: string;
  ngPort?: number;
  /** How many RTP ports to give it; a random block in 30000–49999. */
  mediaPorts?: number;
  /**
   * Named interfaces on `host` instead of one unnamed one: jambonz's SBCs offer with
   * `direction: ['public', 'private']`, so their rtpengines run with these two names.
   */
  interfaceNames?: readonly string[];
  /**
   * Userspace call recording (`--recording-method=pcap`) into this directory: calls offered with
   * `record call: yes` get `<dir>/pcaps/<call-id>-….pcap` (and metadata files), no recording daemon.
   */
  recordingDir?: string;
  /**
   * `--dtmf-log-dest=host:port`: rtpengine sends one UDP JSON datagram per RFC 2833 event it sees
   * (what jambonz's SBCs receive on DTMF_LISTEN_PORT).
   */
  dtmfLogDest?: { host: string; port: number };
}

/** Sends one NG command and returns rtpengine's dictionary answer (rejects after `timeoutMs`). */
export function ngCommand(host: string, port: number, command: Record<string, BValue>, timeoutMs = 1000) {
  return new Promise<Record<string, BValue>>((resolve, reject) => {
    const cookie = randomBytes(6).toString('hex');
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`rtpengine ${host}:${port} did not answer ${JSON.stringify(command.command)}`));
    }, timeoutMs);
    socket.on('message', (msg) => {
      const space = msg.indexOf(0x20);
      if (msg.subarray(0, space).toString() !== cookie) return;
      clearTimeout(timer);
      socket.close();
      try {
        resolve(bdecode(msg.subarray(space + 1)) as Record<string, BValue>);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.send(`${cookie} ${bencode(command)}`, port, host);
  });
}

/** A private userspace rtpengine (no kernel table) with its NG port and media ports on loopback. */
export async function startRtpengine(options: StartRtpengineOptions = {}): Promise<RtpengineService> {
  const host = options.host ?? '127.0.0.1';
  const ngPort = options.ngPort ?? (await freeUdpPort(host));
  const { min, max } = randomPortRange(options.mediaPorts ?? 100);
  const daemon = startDaemon({
    name: 'rtpengine',
    command: 'rtpengine',
    args: [
      // Never read /etc/rtpengine/rtpengine.conf: it opens fixed HTTP and CLI ports.
      '--config-file=none',
      '--foreground',
      '--log-stderr',
      '--log-level=5',
      '--table=-1',
      ...(options.interfaceNames ?? ['']).map((name) => `--interface=${name ? `${name}/` : ''}${host}`),
      `--listen-ng=${host.includes(':') ? `[${host}]` : host}:${ngPort}`,
      `--port-min=${min}`,
      `--port-max=${max}`,
      '--num-threads=2',
      '--delete-delay=0',
      ...(options.recordingDir
        ? [`--recording-dir=${options.recordingDir}`, '--recording-method=pcap', '--recording-format=raw']
        : []),
      ...(options.dtmfLogDest
        ? [`--dtmf-log-dest=${options.dtmfLogDest.host}:${options.dtmfLogDest.port}`]
        : []),
    ],
  });
  try {
    await waitUntil(async () => (await ngCommand(host, ngPort, { command: 'ping' }, 300)).result === 'pong', {
      what: `rtpengine NG on ${host}:${ngPort}`,
      abort: daemon.exited,
    });
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    host,
    ngPort,
    ngAddress: `${host}:${ngPort}`,
    portMin: min,
    portMax: max,
    pid: daemon.pid,
    output: () => daemon.output(),
    stop: () => daemon.stop(),
  };
}

/** RTP packets rtpengine received per tag (party) of call `callId`, summed over its streams (`query`). */
export async function rtpPackets(
  rtpengine: RtpengineService,
  callId: string,
): Promise<Record<string, number>> {
  const answer = await ngCommand(rtpengine.host, rtpengine.ngPort, { command: 'query', 'call-id': callId });
  const tags = (answer.tags ?? {}) as Record<
    string,
    { medias?: { streams?: { stats?: { packets?: number } }[] }[] }
  >;
  const packets: Record<string, number> = {};
  for (const [tag, info] of Object.entries(tags)) {
    packets[tag] = (info.medias ?? [])
      .flatMap((m) => m.streams ?? [])
      .reduce((sum, s) => sum + Number(s.stats?.packets ?? 0), 0);
  }
  return packets;
}
