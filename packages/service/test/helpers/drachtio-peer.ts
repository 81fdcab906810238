import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * The engine side of the drachtio control protocol, only as far as these tests need it: framing,
 * `authenticate` (OK or NO), `OK` to every other command, and delivering a SIP request to the app
 * (../shared/specs/drachtio-protocol.md §1, §3.1, §4.2). It stands in for @sbc/sip-engine until that
 * package exists; it has no SIP stack.
 */
export interface PeerOptions {
  secret: string;
  hostports?: string;
  localHostports?: string;
  version?: string;
}

export interface ReceivedCommand {
  id: string;
  command: string;
  tokens: string[];
  /** The SIP text after the meta line, if any. */
  sip: string | undefined;
  socket: Socket;
}

export class DrachtioPeer {
  readonly received: ReceivedCommand[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly watchers = new Set<{
    test: (c: ReceivedCommand) => boolean;
    resolve: (c: ReceivedCommand) => void;
  }>();
  private server: Server | undefined;

  constructor(private readonly options: PeerOptions) {}

  /** Inbound mode: the app dials us. */
  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    const server = createServer((socket) => this.attach(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    return address.port;
  }

  /** Outbound mode: we dial the app, as the engine does for a new request. */
  async dial(port: number, host = '127.0.0.1'): Promise<Socket> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.attach(socket);
    return socket;
  }

  /** Resolves with the first command (already received or still to come) that passes `test`. */
  waitFor(test: (c: ReceivedCommand) => boolean): Promise<ReceivedCommand> {
    const seen = this.received.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.watchers.add({ test, resolve }));
  }

  /** Sends a new out-of-dialog request to the app, as `sip|network|…` with `receivedOn`. */
  sendRequest(
    socket: Socket,
    sip: string,
    meta: { transactionId: string; protocol: string; address: string; port: number; receivedOn: string },
  ): void {
    const [recvHost, recvPort] = meta.receivedOn.split(':');
    const bytes = Buffer.byteLength(sip);
    const line = [
      randomUUID(),
      'sip',
      'network',
      String(bytes),
      meta.protocol,
      meta.address,
      String(meta.port),
      '12:00:00.000000',
      meta.transactionId,
      '',
      recvHost,
      recvPort,
      '',
    ].join('|');
    this.write(socket, `${line}\r\n${sip}`);
  }

  /** Drops every app connection (the engine restarting). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private attach(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash <= 0) return;
        const length = Number(buffer.subarray(0, hash).toString());
        if (buffer.length < hash + 1 + length) return;
        const payload = buffer.subarray(hash + 1, hash + 1 + length).toString();
        buffer = buffer.subarray(hash + 1 + length);
        this.onCommand(socket, payload);
      }
    });
  }

  private onCommand(socket: Socket, payload: string): void {
    const crlf = payload.indexOf('\r\n');
    const meta = crlf === -1 ? payload : payload.slice(0, crlf);
    const tokens = meta.split('|');
    const command: ReceivedCommand = {
      id: tokens[0] ?? '',
      command: tokens[1] ?? '',
      tokens,
      sip: crlf === -1 ? undefined : payload.slice(crlf + 2),
      socket,
    };
    this.received.push(command);
    if (command.command === 'authenticate') {
      if (tokens[2] === this.options.secret) {
        const { hostports = 'udp/127.0.0.1:5060,tcp/127.0.0.1:5060', version = 'v0.9.4' } = this.options;
        const local = this.options.localHostports ?? hostports;
        this.reply(socket, command.id, `OK|${hostports}|${version}|${local}`);
      } else {
        this.reply(socket, command.id, 'NO|incorrect secret');
        socket.end();
      }
    } else {
      this.reply(socket, command.id, command.command === 'ping' ? 'OK|pong' : 'OK');
    }
    for (const watcher of this.watchers) {
      if (watcher.test(command)) {
        this.watchers.delete(watcher);
        watcher.resolve(command);
      }
    }
  }

  private reply(socket: Socket, appMessageId: string, body: string): void {
    this.write(socket, `${randomUUID()}|response|${appMessageId}|${body}`);
  }

  private write(socket: Socket, payload: string): void {
    if (!socket.destroyed) socket.write(`${Buffer.byteLength(payload)}#${payload}`);
  }
}
