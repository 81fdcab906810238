import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

/** An OPTIONS from `from` (sipvicious' User-Agent when `userAgent` says so). */
export function optionsRequest(from: string, target: string, n: number, userAgent = 'edge-test'): string {
  return [
    `OPTIONS sip:${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from}:5060;branch=z9hG4bK-edge-${n}-${Math.random().toString(36).slice(2)}`,
    'Max-Forwards: 70',
    `From: <sip:probe@${from}>;tag=t${n}`,
    `To: <sip:${target}>`,
    `Call-ID: edge-${n}-${Math.random().toString(36).slice(2)}@${from}`,
    'CSeq: 1 OPTIONS',
    `User-Agent: ${userAgent}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A UDP client on a loopback address of its own, counting the responses it gets. */
export class UdpProbe {
  readonly responses: string[] = [];
  private constructor(
    private readonly socket: UdpSocket,
    readonly address: string,
  ) {
    socket.on('message', (data) => this.responses.push(data.toString('latin1')));
  }

  static async open(address: string): Promise<UdpProbe> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new UdpProbe(socket, address);
  }

  send(text: string, host: string, port: number): void {
    this.socket.send(text, port, host);
  }

  /**
   * Sends `count` OPTIONS and resolves with how many were answered: once `expect` answers are in (at
   * most 5 s, a loaded machine answers late) and 300 ms more for any extra one; without `expect`
   * (a drop is expected), after `waitMs`.
   */
  async burst(
    count: number,
    host: string,
    port: number,
    options: { expect?: number; waitMs?: number; userAgent?: string } = {},
  ): Promise<number> {
    const before = this.responses.length;
    for (let i = 0; i < count; i++)
      this.send(optionsRequest(this.address, `${host}:${port}`, i, options.userAgent), host, port);
    const got = (): number => this.responses.length - before;
    if (options.expect) {
      for (const deadline = Date.now() + 5000; got() < options.expect && Date.now() < deadline;)
        await sleep(20);
      await sleep(300);
    } else {
      await sleep(options.waitMs ?? 500);
    }
    return got();
  }

  close(): void {
    this.socket.close();
  }
}

/** A TCP connection from `localAddress`; resolves once connected, `closed` once the peer closed it. */
export function tcpConnect(
  host: string,
  port: number,
  localAddress: string,
): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
