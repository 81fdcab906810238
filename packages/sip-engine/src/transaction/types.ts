import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, Peer, SendResult, TransportLayer } from '../transport/types.js';

/** RFC 3261 §17.1.1.1 timer values in milliseconds (defaults 500 / 4000 / 5000). */
export interface TimerConfig {
  T1: number;
  T2: number;
  T4: number;
}

export type ServerTransactionState =
  'trying' | 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';
export type ClientTransactionState =
  'calling' | 'trying' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** An INVITE or non-INVITE server transaction (RFC 3261 §17.2, RFC 6026 §7.1). */
export interface ServerTransaction {
  /** Unique id (the transaction key of RFC 3261 §17.2.3 turned into a string). */
  readonly id: string;
  readonly method: string;
  readonly request: Inbound<SipRequest>;
  readonly state: ServerTransactionState;
  /**
   * Sends a response through the transaction: provisional responses move it to proceeding; a final
   * non-2xx to completed (retransmitted per Timer G over unreliable transports until ACK / Timer H);
   * a 2xx to an INVITE to accepted (RFC 6026: the TU retransmits 2xx, the transaction absorbs INVITE
   * retransmissions until Timer L). Rejects when the transaction already has a final response or is gone.
   */
  respond(response: SipResponse): Promise<SendResult>;
  /** The last response sent, if any (resent when a request retransmission arrives). */
  readonly lastResponse: SipResponse | undefined;
  /** Called once when the transaction terminates (timeout, ACK + Timer I, Timer J, transport error…). */
  onTerminated(listener: (reason: TransactionEndReason) => void): void;
}

export interface ClientTransactionHandlers {
  /** Every response that belongs to the transaction, 100 included (the TU decides what to forward). */
  onResponse(response: Inbound<SipResponse>): void;
  /** Timer B / Timer F fired with no final response (the TU synthesises 408). */
  onTimeout(): void;
  /** The transport could not send (RFC 3261 §17.1.4; the TU synthesises 503). */
  onTransportError(error: Error): void;
}

/** An INVITE or non-INVITE client transaction (RFC 3261 §17.1, RFC 6026 §7.2). */
export interface ClientTransaction {
  /** The branch of the top Via. */
  readonly id: string;
  readonly method: string;
  /** The request as sent (with the top Via the layer added). */
  readonly request: SipRequest;
  readonly sent: SendResult;
  readonly destination: Peer;
  readonly state: ClientTransactionState;
  onTerminated(listener: (reason: TransactionEndReason) => void): void;
}

export type TransactionEndReason = 'completed' | 'timeout' | 'transport-error' | 'stopped';

/** What the transaction layer hands up to the transaction user (the engine core). */
export interface TransactionUser {
  /** A new request (not a retransmission, not ACK, not CANCEL): its server transaction exists already. */
  onRequest(transaction: ServerTransaction): void;
  /** An ACK that matched no INVITE server transaction in completed state: the ACK for a 2xx (RFC 3261 §17.2.3). */
  onAck(ack: Inbound<SipRequest>): void;
  /**
   * A CANCEL (RFC 3261 §9.2), with the INVITE server transaction it matches (undefined when none:
   * the TU answers 481). The CANCEL's own server transaction is given for the TU's 200 / 481.
   */
  onCancel(cancel: ServerTransaction, invite: ServerTransaction | undefined): void;
  /** A response that matched no client transaction (e.g. a retransmitted 2xx after the INVITE transaction ended). */
  onStrayResponse(response: Inbound<SipResponse>): void;
}

/** pino-compatible logger (only these four methods are used). */
export interface TransactionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface TransactionLayerOptions {
  timers?: Partial<TimerConfig>;
  /**
   * Safety bound in ms (default 180 000, like RFC 3261 Timer C): a transaction still without a final
   * response that has seen no provisional response for this long ends with 'timeout' (a client INVITE
   * transaction calls onTimeout first). Keeps a silent peer or TU from holding a transaction forever.
   */
  proceedingLimitMs?: number;
  logger?: TransactionLogger;
  /** Counts for metrics; all optional. */
  observer?: {
    retransmission?(kind: 'request' | 'response', method: string): void;
    transactionStarted?(side: 'client' | 'server', method: string): void;
    transactionEnded?(side: 'client' | 'server', method: string, reason: TransactionEndReason): void;
  };
}

/** The transaction layer: matching, one state machine per transaction kind, timers A–K (and L/M of RFC 6026). */
export interface TransactionLayerApi {
  readonly transport: TransportLayer;
  /** Feeds one inbound message (the core wires transport.onMessage to this). */
  receive(inbound: Inbound): void;
  /**
   * Starts a client transaction: adds the top Via (protocol and sent-by of the chosen endpoint, a new
   * `z9hG4bK` branch unless `branch` is given — CANCEL reuses the INVITE's — and `rport`), sends the
   * request, and runs Timer A/B (INVITE) or E/F (non-INVITE), and D/K after a final response.
   * A non-2xx final response to an INVITE is ACKed by the transaction itself (RFC 3261 §17.1.1.3).
   */
  sendRequest(
    request: SipRequest,
    destination: Peer,
    handlers: ClientTransactionHandlers,
    options?: { branch?: string },
  ): Promise<ClientTransaction>;
  /** Sends a request with no transaction (ACK for a 2xx, RFC 3261 §13.2.2.4), adding a top Via. */
  sendStateless(request: SipRequest, destination: Peer, options?: { branch?: string }): Promise<SendResult>;
  /** Currently live transactions, for metrics. */
  counts(): { client: number; server: number };
  /** Stops every timer (engine shutdown). */
  stop(): void;
}
