import type { ParseLimits } from '@sbc/sip';
import type { TransportLogger, TransportObserver } from './options.js';
import type { LocalEndpoint, Peer, TransportProtocol } from './types.js';

/** An open stream connection (TCP, TLS, WS, WSS), inbound or opened by us. */
export interface Connection {
  readonly id: string;
  readonly protocol: TransportProtocol;
  readonly peer: Peer;
  readonly local: LocalEndpoint;
  /** Opened by us (client side). */
  readonly outbound: boolean;
  lastActivity: number;
  /**
   * Since when an inbound connection has been waiting for a complete message: its opening until the
   * first one, then the first byte of an unfinished one; undefined while between messages.
   */
  readonly waitingSince: number | undefined;
  readonly open: boolean;
  send(data: Buffer): Promise<void>;
  /** Closes now; `graceful` lets queued bytes go out first. */
  close(graceful?: boolean): void;
}

/** What listeners and connections need from the transport layer. */
export interface LayerContext {
  readonly limits: ParseLimits;
  readonly logger: TransportLogger | undefined;
  readonly observer: TransportObserver;
  /** One complete message off the wire (a datagram, a framed stream message or a WebSocket message). */
  receive(data: Buffer, source: Peer, local: LocalEndpoint, connectionId: string): void;
  /** The stream of `conn` can no longer be framed; the layer answers 400 when it can and closes it. */
  streamFailed(conn: Connection, reason: string, head: Buffer | undefined): void;
  /** Before a connection is accepted (before a TLS handshake): false refuses it (edge protection). */
  admitConnection(address: string, protocol: TransportProtocol): boolean;
  register(conn: Connection): void;
  unregister(conn: Connection): void;
  socketError(protocol: TransportProtocol, err: unknown, detail: object): void;
  nextConnectionId(protocol: TransportProtocol): string;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
