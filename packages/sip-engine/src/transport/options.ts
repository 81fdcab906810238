import type { ParseLimits, SipMessage, SipRequest } from '@sbc/sip';
import type { Peer, TransportProtocol } from './types.js';

/** pino-compatible logger: only these four methods are used. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Hooks for metrics; every one is optional and must not throw. */
export interface TransportObserver {
  /** A datagram / framed message / WebSocket message that is not a usable SIP message (400 sent or dropped). */
  parseError?(protocol: TransportProtocol, reason: string): void;
  messageIn?(msg: SipMessage): void;
  messageOut?(msg: SipMessage): void;
  /** A socket, server or connection error (logged too). */
  socketError?(protocol: TransportProtocol, error: Error): void;
}

export interface TransportTlsOptions {
  key: Buffer | string;
  cert: Buffer | string;
  /** CAs to verify peers we connect to (TLS client side). */
  ca?: Buffer | string;
  /**
   * Verify the certificate of TLS peers we connect to. Default false, as drachtio/sofia-sip does by default
   * (SIP peers are mostly addressed by IP with self-signed certificates).
   */
  rejectUnauthorized?: boolean;
}

/**
 * Edge protection as the transport layer applies it (the engine's is src/edge): who may send at all,
 * which requests are a scanner's, how many connections a source may hold. Every member must be cheap
 * and must not throw.
 */
export interface EdgeGate {
  /**
   * Before anything is parsed: false drops the datagram, the stream message or the new connection
   * from `address` unanswered (a blacklisted or rate-banned source).
   */
  admit(address: string, protocol: TransportProtocol): boolean;
  /** A request outside a dialog: `reject` (603 Decline), `discard`, or undefined to let it in. */
  screen(request: SipRequest, source: Peer): 'reject' | 'discard' | undefined;
  /** An inbound connection from `address` opens: false closes it (too many from there). */
  connectionOpened(address: string, protocol: TransportProtocol): boolean;
  connectionClosed(address: string): void;
  /** Stream connections silent this long are closed (overrides `idleTimeoutMs`). */
  readonly idleTimeoutMs?: number;
  /**
   * An inbound connection holding an incomplete message, or still without its first message, this
   * long is closed (slowloris).
   */
  readonly incompleteMessageTimeoutMs?: number;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface TransportLayerOptions {
  limits?: Partial<ParseLimits>;
  logger?: TransportLogger;
  /** Needed for `tls` and `wss` listeners. */
  tls?: TransportTlsOptions;
  observer?: TransportObserver;
  /** Stream connections (TCP, TLS, WS, WSS) silent this long are closed (default 1 hour). */
  idleTimeoutMs?: number;
  /** How long opening a TCP/TLS connection may take (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Add `rport` (and `received`) to the top Via of every request, even when the client did not ask
   * (drachtio's NTATAG_SERVER_RPORT(2)), so responses go back to the source port. Default false (RFC 3581).
   */
  forceRport?: boolean;
  /** Edge protection (none by default). */
  edge?: EdgeGate;
}
