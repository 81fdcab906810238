import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, Peer, SendResult, TransportLayer } from '../transport/types.js';
import type { TransactionBase, TransactionContext } from './base.js';
import { InvalidClientRequestError, TransactionLayerStoppedError } from './errors.js';
import { InviteClientTransaction } from './invite-client.js';
import { InviteServerTransaction } from './invite-server.js';
import { clientKey, clientKeyOfResponse, isRfc3261Branch, serverKey } from './matching.js';
import { NonInviteClientTransaction } from './non-invite-client.js';
import { NonInviteServerTransaction } from './non-invite-server.js';
import { newBranch, tagOf, topVia, viaFor, type TopVia } from './sip-fields.js';
import { DEFAULT_PROCEEDING_LIMIT_MS, resolveTimers, timerValues } from './timers.js';
import type {
  ClientTransaction,
  ClientTransactionHandlers,
  ClientTransactionState,
  ServerTransactionState,
  TransactionEndReason,
  TransactionLayerApi,
  TransactionLayerOptions,
  TransactionUser,
} from './types.js';

type ServerTxn = InviteServerTransaction | NonInviteServerTransaction;
type ClientTxn = InviteClientTransaction | NonInviteClientTransaction;

/**
 * The RFC 3261 §17 transaction layer over `transport`, handing requests, ACKs for 2xx, CANCELs and
 * stray responses to `user`. Wire `transport.onMessage` to `receive`.
 */
export function createTransactionLayer(
  transport: TransportLayer,
  user: TransactionUser,
  options: TransactionLayerOptions = {},
): TransactionLayerApi {
  return new TransactionLayer(transport, user, options);
}

class TransactionLayer implements TransactionLayerApi {
  private readonly servers = new Map<string, ServerTxn>();
  private readonly clients = new Map<string, ClientTxn>();
  private readonly ctx: TransactionContext;
  private stopped = false;

  constructor(
    readonly transport: TransportLayer,
    private readonly user: TransactionUser,
    private readonly options: TransactionLayerOptions,
  ) {
    const timers = resolveTimers(options.timers);
    const unreliable = timerValues(timers, false);
    const reliable = timerValues(timers, true);
    const limit = options.proceedingLimitMs ?? DEFAULT_PROCEEDING_LIMIT_MS;
    if (!Number.isFinite(limit) || limit <= 0)
      throw new RangeError('proceedingLimitMs must be a positive number');
    this.ctx = {
      transport,
      timers: (isReliable) => (isReliable ? reliable : unreliable),
      proceedingLimitMs: limit,
      observer: options.observer ?? {},
      logger: options.logger,
      release: (txn, reason) => this.release(txn, reason),
    };
  }

  receive(inbound: Inbound): void {
    if (this.stopped) return;
    try {
      if (inbound.message.kind === 'request') this.receiveRequest(inbound as Inbound<SipRequest>);
      else this.receiveResponse(inbound as Inbound<SipResponse>);
    } catch (err) {
      this.options.logger?.error({ err }, 'transaction layer failed on an inbound message');
    }
  }

  async sendRequest(
    request: SipRequest,
    destination: Peer,
    handlers: ClientTransactionHandlers,
    options?: { branch?: string },
  ): Promise<ClientTransaction> {
    if (this.stopped) throw new TransactionLayerStoppedError();
    const method = request.method;
    if (method === 'ACK') throw new InvalidClientRequestError('ACK starts no transaction: use sendStateless');
    const branch = options?.branch ?? newBranch();
    const key = clientKey(branch, method);
    if (this.clients.has(key)) {
      throw new InvalidClientRequestError(
        `a ${method} client transaction with branch ${branch} is still live`,
      );
    }
    request.headers.prepend('Via', viaFor(this.transport.endpointFor(destination), branch));
    const txn =
      method === 'INVITE'
        ? new InviteClientTransaction(this.ctx, key, branch, request, destination, handlers)
        : new NonInviteClientTransaction(this.ctx, key, branch, request, destination, handlers);
    this.clients.set(key, txn);
    this.notify(() => this.ctx.observer.transactionStarted?.('client', method));
    return txn.start();
  }

  async sendStateless(
    request: SipRequest,
    destination: Peer,
    options?: { branch?: string },
  ): Promise<SendResult> {
    if (this.stopped) throw new TransactionLayerStoppedError();
    request.headers.prepend(
      'Via',
      viaFor(this.transport.endpointFor(destination), options?.branch ?? newBranch()),
    );
    return this.transport.sendRequest(request, destination);
  }

  counts(): { client: number; server: number } {
    return { client: this.clients.size, server: this.servers.size };
  }

  stop(): void {
    this.stopped = true;
    for (const txn of [...this.servers.values(), ...this.clients.values()]) txn.stop();
  }

  private receiveRequest(inbound: Inbound<SipRequest>): void {
    const request = inbound.message;
    const via = topVia(request.headers);
    if (via === undefined) {
      this.options.logger?.debug({ method: request.method }, 'request without a usable Via dropped');
      return;
    }
    if (request.method === 'ACK') {
      this.receiveAck(inbound, via);
      return;
    }
    const key = serverKey(request, via, request.method);
    if (key === undefined) {
      this.options.logger?.debug({ method: request.method }, 'request without CSeq dropped');
      return;
    }
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    const txn =
      request.method === 'INVITE'
        ? new InviteServerTransaction(this.ctx, key, inbound)
        : new NonInviteServerTransaction(this.ctx, key, inbound);
    this.servers.set(key, txn);
    this.notify(() => this.ctx.observer.transactionStarted?.('server', request.method));
    if (request.method === 'CANCEL') {
      // RFC 3261 §9.2: the transaction to cancel is the one the CANCEL matches as if its method were INVITE.
      const inviteKey = serverKey(request, via, 'INVITE');
      const invite = inviteKey === undefined ? undefined : this.servers.get(inviteKey);
      const matched = invite instanceof InviteServerTransaction ? invite : undefined;
      this.notify(() => this.user.onCancel(txn, matched));
    } else {
      this.notify(() => this.user.onRequest(txn));
    }
  }

  /** §17.2.3: an ACK matching an INVITE transaction that sent a non-2xx final is absorbed; any other goes to the TU. */
  private receiveAck(inbound: Inbound<SipRequest>, via: TopVia): void {
    const request = inbound.message;
    const key = serverKey(request, via, 'INVITE');
    let txn = key === undefined ? undefined : this.servers.get(key);
    if (txn === undefined && !isRfc3261Branch(via.branch)) {
      // RFC 2543 peer: the INVITE carried no To tag, the ACK carries the one of our response.
      const ackTag = tagOf(request.headers.get('to'));
      const untaggedKey = ackTag === undefined ? undefined : serverKey(request, via, 'INVITE', '');
      const candidate = untaggedKey === undefined ? undefined : this.servers.get(untaggedKey);
      if (candidate && tagOf(candidate.lastResponse?.headers.get('to')) === ackTag) txn = candidate;
    }
    if (txn instanceof InviteServerTransaction && txn.receiveAck()) return;
    this.notify(() => this.user.onAck(inbound));
  }

  private receiveResponse(inbound: Inbound<SipResponse>): void {
    const key = clientKeyOfResponse(inbound.message);
    const txn = key === undefined ? undefined : this.clients.get(key);
    if (txn) txn.receiveResponse(inbound);
    else this.notify(() => this.user.onStrayResponse(inbound));
  }

  private release(
    txn: TransactionBase<ServerTransactionState | ClientTransactionState>,
    reason: TransactionEndReason,
  ): void {
    const map: Map<string, unknown> = txn.side === 'client' ? this.clients : this.servers;
    if (map.get(txn.key) === txn) map.delete(txn.key);
    this.notify(() => this.ctx.observer.transactionEnded?.(txn.side, txn.method, reason));
  }

  /** Calls into the TU or the observer; whatever they throw is logged, never propagated. */
  private notify(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.options.logger?.error({ err }, 'transaction user callback threw');
    }
  }
}
