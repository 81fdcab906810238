import type { AppConnection } from '../control/app-connection.js';
import type { ControlServer } from '../control/control-server.js';
import type { SipNotice } from '../control/wire.js';
import type { DialogTable } from '../dialog/dialog-table.js';
import type { SipRequest, SipMessage } from '@sbc/sip';
import type {
  ClientTransaction,
  ServerTransaction,
  TimerConfig,
  TransactionLayerApi,
} from '../transaction/types.js';
import type { EdgeGate } from '../transport/options.js';
import type { Inbound, LocalEndpoint, Peer, TransportLayer } from '../transport/types.js';
import type { EngineMetrics } from '../metrics.js';

export interface EngineLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** An incoming request handed to an app, keyed by the txnId the app quotes back (PROTOCOL.md §5.1). */
export interface NetTxn {
  readonly id: string;
  readonly st: ServerTransaction;
  conn: AppConnection | undefined;
  /** Our To-tag for every response > 100 of this transaction. */
  localTag: string;
  /** For INVITE / SUBSCRIBE: `<Call-ID>;from-tag=<remote tag>`. */
  readonly dialogId: string;
  provisionalSent: boolean;
  finalSent: boolean;
  canceled: boolean;
  /** Drops the state when the app never answers a new request (64 s, PROTOCOL.md §5.1). */
  pendingTimer?: NodeJS.Timeout;
  /** Next RSeq for reliable provisionals (RFC 3262 §3) and the retransmitters still waiting for PRACK. */
  rseq?: number;
  reliable?: Map<number, () => void>;
  /** An INVITE answered 2xx: kept until its dialog has the ACK (or gives up waiting, RFC 3261 §13.3.1.4). */
  awaitingAck: boolean;
  /** An unanswered INVITE: the UPDATE in its early dialog the app was handed under this INVITE's txnId. */
  earlyUpdate?: NetTxn;
  /** Proxied (`proxy` command): the run that answers the caller, told of a CANCEL. */
  proxy?: { cancel(): void };
}

/** A request an app sent, keyed by the txnId in the echo (PROTOCOL.md §5.1). */
export interface AppTxn {
  readonly id: string;
  readonly conn: AppConnection;
  ct: ClientTransaction | undefined;
  readonly request: SipRequest;
  readonly destination: Peer;
  /** For INVITE / SUBSCRIBE (and in-dialog requests): the dialog id responses carry. */
  readonly dialogId: string;
  provisionalReceived: boolean;
  finalStatus: number;
  /** A CANCEL the app asked for before any provisional arrived (RFC 3261 §9.1: wait for one). */
  cancelWhenProvisional?: () => void;
}

export interface EngineConfig {
  sip: {
    protocol: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
    address: string;
    port: number;
    externalAddress?: string;
  }[];
  control: { address: string; port?: number; tlsPort?: number; secret: string };
  /** Outbound mode: `tcp://host:port` or `tls://host:port` of an app that listens (PROTOCOL.md §2.4). */
  outboundHandler?: string;
  /** Answer OPTIONS with no app routed with 200 when the User-Agent equals this (PROTOCOL.md §6). */
  optionsAutoRespondUserAgent?: string;
  timers?: Partial<TimerConfig>;
  tls?: { key: Buffer | string; cert: Buffer | string };
  /** How long a new request waits for its app's first response (PROTOCOL.md §5.1, default 64 s). */
  pendingRequestTimeoutMs?: number;
  userAgent?: string;
  /** Edge protection at the transport (src/edge's EdgeGuard); none by default. */
  edge?: EdgeGate;
}

export interface EngineContext {
  readonly config: EngineConfig;
  readonly timers: TimerConfig;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayerApi;
  readonly control: ControlServer;
  readonly dialogs: DialogTable;
  readonly netTxns: Map<string, NetTxn>;
  readonly appTxns: Map<string, AppTxn>;
  readonly logger: EngineLogger;
  readonly metrics: EngineMetrics;
}

export function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** host:port of a listener as the outside sees it. */
export function advertisedHostport(endpoint: LocalEndpoint): string {
  return `${hostOf(endpoint.advertisedAddress)}:${endpoint.port}`;
}

/** The Contact the server adds (PROTOCOL.md §6): `<sip:host:port[;transport=…]>`. */
export function contactFor(endpoint: LocalEndpoint): string {
  const transport = endpoint.protocol === 'udp' ? '' : `;transport=${endpoint.protocol}`;
  const scheme = endpoint.protocol === 'tls' || endpoint.protocol === 'wss' ? 'sips' : 'sip';
  return `<${scheme}:${advertisedHostport(endpoint)}${transport}>`;
}

/** The notice fields for a message that came off the wire. */
export function networkNotice(
  inbound: Inbound,
  txnId: string,
  dialogId: string,
  withRecv: boolean,
): SipNotice {
  return {
    source: 'network',
    bytes: inbound.raw.length,
    protocol: inbound.source.protocol,
    address: inbound.source.address,
    port: inbound.source.port,
    txnId,
    dialogId,
    receivedOn: withRecv ? { host: inbound.local.address, port: inbound.local.port } : undefined,
  };
}

/** Reply fields for a message the server sent on the app's behalf (PROTOCOL.md §3.4 echoes). */
export function echoFields(raw: Buffer, destination: Peer): string[] {
  return [
    'OK',
    'application',
    String(raw.length),
    destination.protocol,
    destination.address,
    String(destination.port),
  ];
}

export function isDialogCreating(message: SipMessage): boolean {
  return message.kind === 'request' && (message.method === 'INVITE' || message.method === 'SUBSCRIBE');
}

/** Stops the pending-request timer and lets it go (a cleared timer kept on the NetTxn lives as long as it). */
export function clearPendingTimer(net: NetTxn): void {
  if (net.pendingTimer) clearTimeout(net.pendingTimer);
  net.pendingTimer = undefined;
}
