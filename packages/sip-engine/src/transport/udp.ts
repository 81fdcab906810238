import { createSocket, type Socket } from 'node:dgram';
import { familyOf } from './addresses.js';
import type { LayerContext } from './context.js';
import { MessageTooLargeError, TransportBindError, TransportError } from './errors.js';
import type { LocalEndpoint, Peer } from './types.js';

/** Largest UDP payload over IPv4 (65,535 − 8 − 20); IPv6 allows 65,527 but we keep one limit. */
const MAX_DATAGRAM = 65_507;

/** A UDP listener; it also sends every UDP message that leaves from its address. */
export class UdpListener {
  private socket: Socket | undefined;

  constructor(
    /** The connection id given to messages received here (responses name it to leave from this socket). */
    readonly id: string,
    readonly endpoint: LocalEndpoint,
    private readonly ctx: LayerContext,
  ) {}

  async start(): Promise<void> {
    const socket = createSocket({ type: familyOf(this.endpoint.address) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(new TransportBindError('udp', this.endpoint.address, this.endpoint.port, err));
      };
      socket.once('error', onError);
      socket.bind(this.endpoint.port, this.endpoint.address, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    this.endpoint.port = socket.address().port;
    try {
      socket.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // the OS may cap it; the default still works
    }
    socket.on('error', (err) => this.ctx.socketError('udp', err, { local: this.endpoint }));
    socket.on('message', (data, rinfo) => {
      const source: Peer = { protocol: 'udp', address: rinfo.address, port: rinfo.port };
      this.ctx.receive(data, source, this.endpoint, this.id);
    });
    this.socket = socket;
  }

  sendTo(data: Buffer, port: number, address: string): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new TransportError('UDP listener is not started'));
    if (data.length > MAX_DATAGRAM) {
      return Promise.reject(new MessageTooLargeError(`${data.length} bytes do not fit in a UDP datagram`));
    }
    return new Promise((resolve, reject) => {
      socket.send(data, port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
