import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, SendResult } from '../transport/types.js';
import { TransactionBase, type TransactionContext } from './base.js';
import { InvalidResponseStatusError, TransactionStateError } from './errors.js';
import { retainable } from './sip-fields.js';
import { NON_INVITE_SERVER } from './state-machines.js';
import type { TimerValues } from './timers.js';
import type { ServerTransaction, ServerTransactionState } from './types.js';

const MACHINE = { name: 'non-INVITE server', table: NON_INVITE_SERVER } as const;

/**
 * Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8), Timer J.
 * States: trying → proceeding → completed → terminated.
 *
 * Over UDP a completed transaction lives on for Timer J (64·T1) only to answer retransmissions of the
 * request with the final response again, so from then on it keeps only that response's bytes and where
 * they went: the request and the response objects are let go.
 */
export class NonInviteServerTransaction
  extends TransactionBase<ServerTransactionState>
  implements ServerTransaction
{
  private inbound: Inbound<SipRequest> | undefined;
  private last: SipResponse | undefined;
  /** Completed: the final response as it went on the wire, all a retransmission needs. */
  private finalSent: SendResult | undefined;
  private readonly t: TimerValues;

  constructor(
    ctx: TransactionContext,
    readonly id: string,
    request: Inbound<SipRequest>,
  ) {
    super(ctx, id, 'server', request.message.method, MACHINE, 'trying');
    this.inbound = request;
    this.t = ctx.timers(request.source.protocol !== 'udp');
    this.armState(ctx.proceedingLimitMs, () => this.terminate('timeout'));
  }

  /** The request; a completed transaction has let it go (only its final response's bytes are kept). */
  get request(): Inbound<SipRequest> {
    if (!this.inbound) throw new TransactionStateError(this.id, this.current, this.last?.status ?? 0);
    return this.inbound;
  }

  /** The last response sent; undefined once completed, when only its bytes are kept. */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  respond(response: SipResponse): Promise<SendResult> {
    const status = response.status;
    if (!(status >= 100 && status <= 699)) return Promise.reject(new InvalidResponseStatusError(status));
    if (this.current !== 'trying' && this.current !== 'proceeding') {
      return Promise.reject(new TransactionStateError(this.id, this.current, status));
    }
    this.last = response;
    if (status < 200) {
      this.transition('proceeding');
      this.armState(this.ctx.proceedingLimitMs, () => this.terminate('timeout'));
      return this.send(response);
    }
    this.transition('completed');
    const sending = this.send(response);
    // Timer J is 0 over reliable transports: end once the send has settled, so a failure is reported as such.
    if (this.t.J === 0)
      sending.then(
        () => this.terminate('completed'),
        () => undefined,
      );
    else {
      this.armState(this.t.J, () => this.terminate('completed'));
      sending.then(
        (sent) => this.keepOnlyBytes(sent),
        () => undefined,
      );
    }
    return sending;
  }

  /** A retransmission of the request: absorbed while trying, else the last response is sent again. */
  receiveRetransmission(): void {
    if (this.current !== 'proceeding' && this.current !== 'completed') return;
    const again = this.finalSent
      ? this.ctx.transport.resend(this.finalSent)
      : this.last && this.inbound
        ? this.ctx.transport.sendResponse(this.last, this.inbound.connectionId)
        : undefined;
    if (!again) return;
    this.ctx.observer.retransmission?.('response', this.method);
    again.catch((err: unknown) => this.sendFailed(err));
  }

  /** Completed over UDP: what Timer J needs is the final response's bytes (in a buffer of their own). */
  private keepOnlyBytes(sent: SendResult): void {
    if (this.terminated) return;
    const { raw, destination, local, connectionId } = retainable(sent);
    this.finalSent = { raw, destination, local, connectionId };
    this.inbound = undefined;
    this.last = undefined;
  }

  private async send(response: SipResponse): Promise<SendResult> {
    try {
      return await this.ctx.transport.sendResponse(response, this.inbound?.connectionId);
    } catch (err) {
      this.sendFailed(err);
      throw err;
    }
  }

  /** §17.2.4 and Figure 8: a transport error terminates the transaction. */
  private sendFailed(err: unknown): void {
    this.logSendFailure(err, 'response');
    this.terminate('transport-error');
  }
}
