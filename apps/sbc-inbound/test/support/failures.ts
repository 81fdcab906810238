/**
 * Broken parts for the failure tests: a "feature server" that never answers; a NG "rtpengine"
 * that answers pings but no offer; dependencies that are down (closed ports, a TCP server that
 * accepts and stays silent); a SIPREC body; the app's log lines. The caller is ./raw-caller.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { bdecode, bencode, freeTcpPort, freeUdpPort } from '@sbc/testkit';
import { sdpOffer } from './raw-caller.js';

/** A "feature server" that receives INVITEs and never answers (a host that died). */
export class SilentServer {
  readonly received: string[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly hostport: string,
  ) {
    socket.on('message', (buffer) => this.received.push(buffer.toString('utf8')));
  }

  static async open(address: string): Promise<SilentServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new SilentServer(socket, `${address}:${socket.address().port}`);
  }

  /** INVITEs received (retransmissions included). */
  get invites(): string[] {
    return this.received.filter((m) => m.startsWith('INVITE '));
  }

  close(): void {
    this.socket.close();
  }
}

/** A NG "rtpengine" that answers `ping` and nothing else (an engine wedged after its last ping). */
export class PingOnlyRtpengine {
  readonly commands: string[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {
    socket.on('message', (buffer, rinfo) => {
      const space = buffer.indexOf(0x20);
      if (space < 0) return;
      const cookie = buffer.subarray(0, space).toString();
      const message = bdecode(buffer.subarray(space + 1)) as Record<string, unknown>;
      const command = String(message.command);
      this.commands.push(command);
      if (command === 'ping')
        socket.send(`${cookie} ${bencode({ result: 'pong' })}`, rinfo.port, rinfo.address);
    });
  }

  static async open(host = '127.0.0.1'): Promise<PingOnlyRtpengine> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return new PingOnlyRtpengine(socket, `${host}:${socket.address().port}`);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * A TCP server that accepts connections and never says a word (a wedged MySQL), once `wedge()` is
 * called; before that it closes every connection at once (a server going down), so an app can
 * start against it without waiting out its connect timeouts.
 */
export async function wedgedTcpServer(
  host = '127.0.0.1',
): Promise<{ port: number; wedge(): void; close(): Promise<void> }> {
  const sockets = new Set<TcpSocket>();
  let wedged = false;
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    if (!wedged) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    wedge: () => {
      wedged = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP port nothing listens on. */
export const closedTcpPort = (host = '127.0.0.1'): Promise<number> => freeTcpPort(host);
/** A UDP port nothing listens on. */
export const closedUdpPort = (host = '127.0.0.1'): Promise<number> => freeUdpPort(host);

/** A SIPREC body (RFC 7866): the SDP and the recording metadata as multipart/mixed. */
export function siprecInvite(address: string): { body: string; contentType: string; metadata: string } {
  const boundary = 'siprecBoundary42';
  const metadata = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<recording xmlns="urn:ietf:params:xml:ns:recording:1">',
    '  <datamode>complete</datamode>',
    '  <session session_id="session-42"><sipSessionID>abc</sipSessionID></session>',
    '  <participant participant_id="p1"><nameID aor="sip:alice@example.com"/></participant>',
    '</recording>',
  ].join('\r\n');
  const body = [
    `--${boundary}`,
    'Content-Type: application/sdp',
    '',
    sdpOffer(address).replace(/\r\n$/, ''),
    `--${boundary}`,
    'Content-Type: application/rs-metadata+xml',
    'Content-Disposition: recording-session',
    '',
    metadata,
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return { body, contentType: `multipart/mixed;boundary=${boundary}`, metadata };
}

/** One line the app logged (pino's JSON). */
export type LogLine = Record<string, unknown> & { level: number; msg?: string };

/**
 * What a logger writes from now on, parsed (the app's logger and all its children share pino's
 * destination stream). Lines still go to the real stream when `tee` is set (SBC_TEST_LOGLEVEL).
 */
export function captureLog(logger: object, tee = process.env.SBC_TEST_LOGLEVEL !== undefined): LogLine[] {
  const streamSym = Object.getOwnPropertySymbols(Object.getPrototypeOf(logger) as object)
    .concat(Object.getOwnPropertySymbols(logger))
    .find((s) => s.description === 'pino.stream');
  if (!streamSym) throw new Error('not a pino logger');
  const stream = (logger as Record<symbol, { write(chunk: string): boolean }>)[streamSym];
  if (!stream) throw new Error('pino logger without a stream');
  const lines: LogLine[] = [];
  const write = stream.write.bind(stream);
  stream.write = (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not JSON: ignore
      }
    }
    return tee ? write(chunk) : true;
  };
  return lines;
}
