import type { TransportProtocol } from './types.js';

/** Base class of every transport-layer failure. */
export class TransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A listener could not be bound (address in use, address not local, …). */
export class TransportBindError extends TransportError {
  constructor(
    readonly protocol: TransportProtocol,
    readonly address: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(
      `cannot listen on ${protocol}/${address.includes(':') ? `[${address}]` : address}:${port}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
  }
}

/** The configuration cannot work, e.g. a TLS or WSS listener without key and certificate. */
export class TransportConfigError extends TransportError {}

/** No listener of the protocol a destination needs. */
export class NoEndpointError extends TransportError {}

/** A connection could not be opened, is gone, or (WebSocket) cannot be opened by us at all. */
export class PeerUnreachableError extends TransportError {}

/** A message too large for the transport (a UDP datagram over 65,507 bytes). */
export class MessageTooLargeError extends TransportError {}

/** A response whose top Via cannot be used to route it (RFC 3261 §18.2.2). */
export class UnroutableResponseError extends TransportError {}
