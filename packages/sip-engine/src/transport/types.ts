import type { SipMessage, SipRequest, SipResponse } from '@sbc/sip';

export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** One SIP listening address as configured (drachtio's `--contact`). */
export interface ListenSpec {
  protocol: TransportProtocol;
  /** Bound address (IPv4, or IPv6 without brackets); `0.0.0.0` / `::` allowed. */
  address: string;
  port: number;
  /** The advertised (external) address for Via/Contact/hostports, like drachtio's `external-ip`. */
  externalAddress?: string;
}

/** Where a message came from or goes to on the network. */
export interface Peer {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

/** An open listener and how to present it to the outside. */
export interface LocalEndpoint {
  protocol: TransportProtocol;
  /** Bound address and port (port resolved when 0 was asked). */
  address: string;
  port: number;
  /** external-ip when configured, else the bound address (for Via sent-by, Contact, hostports). */
  advertisedAddress: string;
}

/** A message received and parsed by the transport layer. */
export interface Inbound<M extends SipMessage = SipMessage> {
  message: M;
  /** The bytes as received (for the app: srf re-parses the text). */
  raw: Buffer;
  source: Peer;
  /** The listener that received it (drachtio's receivedOn). */
  local: LocalEndpoint;
  /** For connection-oriented transports: the connection it arrived on (responses must go back on it). */
  connectionId?: string;
  receivedAt: number;
}

export interface SendResult {
  /** The bytes that went on the wire. */
  raw: Buffer;
  /** Where they went and from which listener. */
  destination: Peer;
  local: LocalEndpoint;
  connectionId?: string;
}

/**
 * The transport layer (RFC 3261 §18): listeners for every ListenSpec, framing of stream transports,
 * parsing with limits, stateless 400 for malformed requests, received/rport on incoming requests
 * (RFC 3261 §18.2.1, RFC 3581 §4), response routing (RFC 3261 §18.2.2, RFC 3581 §4), connection reuse,
 * CRLF keep-alive pong on stream transports (RFC 5626 §3.5.1). It never throws out of a socket handler.
 */
export interface TransportLayer {
  readonly endpoints: readonly LocalEndpoint[];
  /** Starts every listener; rejects naming the address that could not be bound. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every well-formed message (requests with received/rport already added to the top Via). */
  onMessage(handler: (inbound: Inbound) => void): void;
  /**
   * Sends a request to `destination`: over an existing connection to that peer when there is one,
   * else a new one (TCP/TLS/WS client). The caller has set the top Via (see `viaFor`).
   */
  sendRequest(request: SipRequest, destination: Peer): Promise<SendResult>;
  /**
   * Sends a response per RFC 3261 §18.2.2 / RFC 3581 §4 using the top Via of the response and the
   * connection the request came in on (when still open).
   */
  sendResponse(response: SipResponse, connectionId?: string): Promise<SendResult>;
  /** Sends again bytes that went out before, the way they went (a retransmitted final response). */
  resend(sent: SendResult): Promise<void>;
  /** The listener to use for a destination (same protocol and address family, preferring the same IP). */
  endpointFor(destination: Peer): LocalEndpoint;
}
