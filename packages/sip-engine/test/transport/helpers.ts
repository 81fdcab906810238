import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import {
  createRequest,
  newBranch,
  newCallId,
  newTag,
  parseMessage,
  type SipMessage,
  type SipRequest,
} from '@sbc/sip';
import { createTransportLayer } from '../../src/transport/index.js';
import type {
  Inbound,
  ListenSpec,
  LocalEndpoint,
  TransportLayer,
  TransportLayerOptions,
  TransportProtocol,
} from '../../src/transport/index.js';

/** A queue that tests await items from (the timeout only guards against a hang). */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push = (item: T): void => {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  };

  get pending(): number {
    return this.items.length;
  }

  next(timeoutMs = 5000): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error('nothing arrived'));
      }, timeoutMs);
      const waiter = (value: T): void => {
        clearTimeout(timer);
        resolve(value);
      };
      this.waiters.push(waiter);
    });
  }
}

/** Counts of everything the observer saw. */
export interface Recorded {
  parseErrors: { protocol: TransportProtocol; reason: string }[];
  socketErrors: { protocol: TransportProtocol; error: Error }[];
  out: SipMessage[];
  in: SipMessage[];
}

export async function startLayer(
  specs: ListenSpec[],
  options: TransportLayerOptions = {},
): Promise<{ layer: TransportLayer; inbox: Inbox<Inbound>; recorded: Recorded }> {
  const recorded: Recorded = { parseErrors: [], socketErrors: [], out: [], in: [] };
  const layer = createTransportLayer(specs, {
    ...options,
    observer: {
      parseError: (protocol, reason) => recorded.parseErrors.push({ protocol, reason }),
      socketError: (protocol, error) => recorded.socketErrors.push({ protocol, error }),
      messageIn: (m) => recorded.in.push(m),
      messageOut: (m) => recorded.out.push(m),
    },
  });
  const inbox = new Inbox<Inbound>();
  layer.onMessage(inbox.push);
  await layer.start();
  return { layer, inbox, recorded };
}

export function hostport(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** An OPTIONS from `from` (its top Via names that endpoint) to `to`. */
export function optionsFrom(
  from: LocalEndpoint,
  to: { address: string; port: number },
  callId = newCallId(),
): SipRequest {
  return createRequest('OPTIONS', `sip:${hostport(to.address, to.port)}`, [
    [
      'Via',
      `SIP/2.0/${from.protocol.toUpperCase()} ${hostport(from.advertisedAddress, from.port)};branch=${newBranch()};rport`,
    ],
    ['Max-Forwards', '70'],
    ['From', `<sip:test@${hostport(from.advertisedAddress, from.port)}>;tag=${newTag()}`],
    ['To', `<sip:${hostport(to.address, to.port)}>`],
    ['Call-ID', callId],
    ['CSeq', '1 OPTIONS'],
  ]);
}

/** Request text as a raw client would write it. */
export function rawRequest(options: {
  via: string;
  callId?: string;
  method?: string;
  extra?: string[];
  body?: string;
  contentLength?: boolean;
}): Buffer {
  const method = options.method ?? 'OPTIONS';
  const body = options.body ?? '';
  const lines = [
    `${method} sip:service@127.0.0.1 SIP/2.0`,
    `Via: ${options.via}`,
    'Max-Forwards: 70',
    `From: <sip:raw@127.0.0.3>;tag=${newTag()}`,
    'To: <sip:service@127.0.0.1>',
    `Call-ID: ${options.callId ?? newCallId()}`,
    `CSeq: 1 ${method}`,
    ...(options.extra ?? []),
  ];
  if (options.contentLength !== false) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export function parsed(buf: Buffer): SipMessage {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(`unparsable: ${r.reason}`);
  return r.message;
}

/** A raw UDP socket bound on `address`, with an inbox of datagrams. */
export async function rawUdp(
  address: string,
): Promise<{ socket: UdpSocket; port: number; inbox: Inbox<Buffer> }> {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const inbox = new Inbox<Buffer>();
  socket.on('message', (data) => inbox.push(data));
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  return { socket, port: socket.address().port, inbox };
}

export function sendUdp(socket: UdpSocket, data: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(data, port, address, (err) => (err ? reject(err) : resolve())),
  );
}

/** A raw TCP client from `localAddress`, with an inbox of received chunks and a promise of its close. */
export async function rawTcp(
  port: number,
  host: string,
  localAddress: string,
): Promise<{ socket: Socket; chunks: Inbox<Buffer>; closed: Promise<void>; received: () => string }> {
  const socket = connect({ port, host, localAddress });
  const chunks = new Inbox<Buffer>();
  let all = '';
  socket.on('data', (d: Buffer) => {
    all += d.toString('latin1');
    chunks.push(d);
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, chunks, closed, received: () => all };
}

/** Reads from a raw stream until `predicate` holds on everything received so far. */
export async function readUntil(
  chunks: Inbox<Buffer>,
  received: () => string,
  predicate: (text: string) => boolean,
): Promise<string> {
  while (!predicate(received())) await chunks.next();
  return received();
}
