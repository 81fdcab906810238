/**
 * Test doubles for the transaction layer's unit tests: a TransportLayer that records what is sent and
 * lets a test make sends fail, a TransactionUser and client handlers that record what they are given,
 * and builders for SIP messages.
 */
import { parseMessage, serializeMessage, SipHeaders, type SipRequest, type SipResponse } from '@sbc/sip';
import type {
  ClientTransactionHandlers,
  ServerTransaction,
  TransactionUser,
} from '../../src/transaction/types.js';
import type {
  Inbound,
  LocalEndpoint,
  Peer,
  SendResult,
  TransportLayer,
  TransportProtocol,
} from '../../src/transport/types.js';

export const UDP_ENDPOINT: LocalEndpoint = {
  protocol: 'udp',
  address: '127.0.0.1',
  port: 5060,
  advertisedAddress: '127.0.0.1',
};
export const TCP_ENDPOINT: LocalEndpoint = { ...UDP_ENDPOINT, protocol: 'tcp' };

export const PHONE: Peer = { protocol: 'udp', address: '127.0.0.3', port: 5062 };
export const PHONE_TCP: Peer = { protocol: 'tcp', address: '127.0.0.3', port: 5062 };

export class TransportSendError extends Error {
  override readonly name = 'TransportSendError';
}

export type SentMessage =
  | { kind: 'request'; message: SipRequest; destination: Peer }
  | { kind: 'response'; message: SipResponse; connectionId: string | undefined };

/** A TransportLayer that records every send; `failSends` makes the next sends reject. */
export class RecordingTransport implements TransportLayer {
  readonly endpoints: readonly LocalEndpoint[] = [UDP_ENDPOINT, TCP_ENDPOINT];
  readonly sent: SentMessage[] = [];
  /** How many of the following sends reject (Infinity: all). */
  failSends = 0;
  private handler: ((inbound: Inbound) => void) | undefined;

  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  onMessage(handler: (inbound: Inbound) => void): void {
    this.handler = handler;
  }

  sendRequest(request: SipRequest, destination: Peer): Promise<SendResult> {
    if (this.shouldFail())
      return Promise.reject(new TransportSendError(`cannot reach ${destination.address}`));
    this.sent.push({ kind: 'request', message: request, destination });
    return Promise.resolve({ raw: Buffer.alloc(0), destination, local: this.endpointFor(destination) });
  }

  sendResponse(response: SipResponse, connectionId?: string): Promise<SendResult> {
    if (this.shouldFail()) return Promise.reject(new TransportSendError('connection gone'));
    this.sent.push({ kind: 'response', message: response, connectionId });
    const raw = serializeMessage(response);
    return Promise.resolve({ raw, destination: PHONE, local: UDP_ENDPOINT, connectionId });
  }

  /** Records the bytes as the response they are. */
  resend(sent: SendResult): Promise<void> {
    if (this.shouldFail()) return Promise.reject(new TransportSendError('connection gone'));
    const parsed = parseMessage(sent.raw);
    if (!parsed.ok || parsed.message.kind !== 'response')
      throw new Error('resend of bytes that are not a response');
    this.sent.push({ kind: 'response', message: parsed.message, connectionId: sent.connectionId });
    return Promise.resolve();
  }

  endpointFor(destination: Peer): LocalEndpoint {
    return destination.protocol === 'udp' ? UDP_ENDPOINT : TCP_ENDPOINT;
  }

  /** Hands a message to whatever was registered with onMessage (a transport's receive path). */
  inject(inbound: Inbound): void {
    this.handler?.(inbound);
  }

  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const s of this.sent)
      if (s.kind === 'request' && (!method || s.message.method === method)) out.push(s.message);
    return out;
  }

  responses(status?: number): SipResponse[] {
    const out: SipResponse[] = [];
    for (const s of this.sent)
      if (s.kind === 'response' && (!status || s.message.status === status)) out.push(s.message);
    return out;
  }

  private shouldFail(): boolean {
    if (this.failSends <= 0) return false;
    this.failSends--;
    return true;
  }
}

/** A TransactionUser that records every call; `onNewRequest` lets a test answer. */
export class RecordingUser implements TransactionUser {
  readonly requests: ServerTransaction[] = [];
  readonly acks: Inbound<SipRequest>[] = [];
  readonly cancels: { cancel: ServerTransaction; invite: ServerTransaction | undefined }[] = [];
  readonly strays: Inbound<SipResponse>[] = [];
  onNewRequest: ((st: ServerTransaction) => void) | undefined;

  onRequest(transaction: ServerTransaction): void {
    this.requests.push(transaction);
    this.onNewRequest?.(transaction);
  }
  onAck(ack: Inbound<SipRequest>): void {
    this.acks.push(ack);
  }
  onCancel(cancel: ServerTransaction, invite: ServerTransaction | undefined): void {
    this.cancels.push({ cancel, invite });
  }
  onStrayResponse(response: Inbound<SipResponse>): void {
    this.strays.push(response);
  }
}

export class RecordingHandlers implements ClientTransactionHandlers {
  readonly responses: SipResponse[] = [];
  timeouts = 0;
  readonly transportErrors: Error[] = [];
  onResponse(response: Inbound<SipResponse>): void {
    this.responses.push(response.message);
  }
  onTimeout(): void {
    this.timeouts++;
  }
  onTransportError(error: Error): void {
    this.transportErrors.push(error);
  }
  statuses(): number[] {
    return this.responses.map((r) => r.status);
  }
}

export interface RequestSpec {
  uri?: string;
  /** Top Via branch; `null` for a Via without branch (RFC 2543). */
  branch?: string | null;
  sentBy?: string;
  viaTransport?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  /** Method in CSeq (defaults to the request method). */
  cseqMethod?: string;
  extra?: [string, string][];
}

let counter = 0;

/** A request as a peer would send it (with its own Via), or as a TU hands it to sendRequest (`branch: undefined`, no Via). */
export function makeRequest(method: string, spec: RequestSpec = {}): SipRequest {
  const headers = new SipHeaders();
  if (spec.branch !== undefined) {
    const branch = spec.branch === null ? '' : `;branch=${spec.branch}`;
    headers.append(
      'Via',
      `SIP/2.0/${spec.viaTransport ?? 'UDP'} ${spec.sentBy ?? '127.0.0.3:5062'}${branch}`,
    );
  }
  headers.append('Max-Forwards', '70');
  headers.append('From', `"Alice" <sip:alice@127.0.0.3>;tag=${spec.fromTag ?? 'alice-tag'}`);
  headers.append('To', `<sip:bob@127.0.0.1>${spec.toTag ? `;tag=${spec.toTag}` : ''}`);
  headers.append('Call-ID', spec.callId ?? `call-${++counter}@127.0.0.3`);
  headers.append('CSeq', `${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`);
  for (const [name, value] of spec.extra ?? []) headers.append(name, value);
  headers.append('Content-Length', '0');
  return { kind: 'request', method, uri: spec.uri ?? 'sip:bob@127.0.0.1', headers, body: Buffer.alloc(0) };
}

/** A response to `request` (its Via, From, To, Call-ID, CSeq), with `toTag` added to To when given. */
export function makeResponse(request: SipRequest, status: number, toTag?: string): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('via')) headers.append('Via', via);
  headers.append('From', request.headers.get('from')!);
  const to = request.headers.get('to')!;
  headers.append('To', toTag && !to.includes(';tag=') ? `${to};tag=${toTag}` : to);
  headers.append('Call-ID', request.headers.get('call-id')!);
  headers.append('CSeq', request.headers.get('cseq')!);
  headers.append('Content-Length', '0');
  return { kind: 'response', status, reason: REASONS[status] ?? 'Whatever', headers, body: Buffer.alloc(0) };
}

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  183: 'Session Progress',
  200: 'OK',
  302: 'Moved Temporarily',
  404: 'Not Found',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  503: 'Service Unavailable',
};

export function inbound<M extends SipRequest | SipResponse>(
  message: M,
  source: Peer = PHONE,
  connectionId?: string,
): Inbound<M> {
  return {
    message,
    raw: Buffer.alloc(0),
    source,
    local: source.protocol === 'udp' ? UDP_ENDPOINT : TCP_ENDPOINT,
    connectionId,
    receivedAt: Date.now(),
  };
}

export function peer(protocol: TransportProtocol): Peer {
  return { protocol, address: '127.0.0.3', port: 5062 };
}

/** The branch parameter of a request's top Via. */
export function branchOf(message: SipRequest | SipResponse): string {
  const via = message.headers.getAll('via')[0] ?? '';
  return /;branch=([^;\s]+)/.exec(via)?.[1] ?? '';
}
