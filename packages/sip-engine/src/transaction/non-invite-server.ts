import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, SendResult } from '../transport/types.js';
import { TransactionBase, type TransactionContext } from './base.js';
import { InvalidResponseStatusError, TransactionStateError } from './errors.js';
import { NON_INVITE_SERVER } from './state-machines.js';
import type { TimerValues } from './timers.js';
import type { ServerTransaction, ServerTransactionState } from './types.js';

const MACHINE = { name: 'non-INVITE server', table: NON_INVITE_SERVER } as const;

/**
 * Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8), Timer J.
 * States: trying → proceeding → completed → terminated.
 */
export class NonInviteServerTransaction
  extends TransactionBase<ServerTransactionState>
  implements ServerTransaction
{
  private last: SipResponse | undefined;
  private readonly t: TimerValues;

  constructor(
    ctx: TransactionContext,
    readonly id: string,
    readonly request: Inbound<SipRequest>,
  ) {
    super(ctx, id, 'server', request.message.method, MACHINE, 'trying');
    this.t = ctx.timers(request.source.protocol !== 'udp');
    this.armState(ctx.proceedingLimitMs, () => this.terminate('timeout'));
  }

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
    else this.armState(this.t.J, () => this.terminate('completed'));
    return sending;
  }

  /** A retransmission of the request: absorbed while trying, else the last response is sent again. */
  receiveRetransmission(): void {
    if ((this.current === 'proceeding' || this.current === 'completed') && this.last) {
      this.ctx.observer.retransmission?.('response', this.method);
      this.ctx.transport
        .sendResponse(this.last, this.request.connectionId)
        .catch((err: unknown) => this.sendFailed(err));
    }
  }

  private async send(response: SipResponse): Promise<SendResult> {
    try {
      return await this.ctx.transport.sendResponse(response, this.request.connectionId);
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
