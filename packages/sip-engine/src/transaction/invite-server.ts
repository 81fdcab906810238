import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, SendResult } from '../transport/types.js';
import { TransactionBase, type TransactionContext } from './base.js';
import { InvalidResponseStatusError, TransactionStateError } from './errors.js';
import { INVITE_SERVER } from './state-machines.js';
import type { TimerValues } from './timers.js';
import type { ServerTransaction, ServerTransactionState } from './types.js';

const MACHINE = { name: 'INVITE server', table: INVITE_SERVER } as const;

/**
 * INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as corrected by RFC 6026 §7.1 (Accepted
 * state, Timer L). States: proceeding → accepted | completed → confirmed → terminated.
 */
export class InviteServerTransaction
  extends TransactionBase<ServerTransactionState>
  implements ServerTransaction
{
  private last: SipResponse | undefined;
  private readonly t: TimerValues;
  private readonly reliable: boolean;
  private timerGInterval: number;

  constructor(
    ctx: TransactionContext,
    readonly id: string,
    readonly request: Inbound<SipRequest>,
  ) {
    super(ctx, id, 'server', 'INVITE', MACHINE, 'proceeding');
    this.reliable = request.source.protocol !== 'udp';
    this.t = ctx.timers(this.reliable);
    this.timerGInterval = this.t.G;
    this.armState(ctx.proceedingLimitMs, () => this.terminate('timeout'));
  }

  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  respond(response: SipResponse): Promise<SendResult> {
    const status = response.status;
    if (!(status >= 100 && status <= 699)) return Promise.reject(new InvalidResponseStatusError(status));
    if (this.current !== 'proceeding')
      return Promise.reject(new TransactionStateError(this.id, this.current, status));
    this.last = response;
    if (status < 200) {
      this.transition('proceeding');
      this.armState(this.ctx.proceedingLimitMs, () => this.terminate('timeout'));
    } else if (status < 300) {
      // RFC 6026 §7.1: the TU retransmits the 2xx; the transaction absorbs INVITE retransmissions until Timer L.
      this.transition('accepted');
      this.armState(this.t.L, () => this.terminate('completed'));
    } else {
      this.transition('completed');
      if (!this.reliable) this.armRetransmit(this.timerGInterval, () => this.onTimerG());
      this.armState(this.t.H, () => this.onTimerH());
    }
    return this.send(response);
  }

  /** A retransmission of the INVITE. */
  receiveRetransmission(): void {
    // Proceeding resends the latest provisional, completed the final; accepted and confirmed absorb it.
    if ((this.current === 'proceeding' || this.current === 'completed') && this.last) {
      this.ctx.observer.retransmission?.('response', 'INVITE');
      this.resend();
    }
  }

  /** An ACK matched this transaction; true when it is absorbed (the ACK for a non-2xx final response). */
  receiveAck(): boolean {
    if (this.current === 'confirmed') return true;
    if (this.current !== 'completed') return false;
    this.clearRetransmit();
    this.transition('confirmed');
    this.armState(this.t.I, () => this.terminate('completed'));
    return true;
  }

  private onTimerG(): void {
    if (this.current !== 'completed') return;
    this.timerGInterval = Math.min(2 * this.timerGInterval, this.t.T2);
    this.armRetransmit(this.timerGInterval, () => this.onTimerG());
    this.ctx.observer.retransmission?.('response', 'INVITE');
    this.resend();
  }

  /** No ACK: the transaction failed (§17.2.1), which onTerminated('timeout') tells the TU. */
  private onTimerH(): void {
    if (this.current === 'completed') this.terminate('timeout');
  }

  private resend(): void {
    const response = this.last;
    if (!response) return;
    this.ctx.transport
      .sendResponse(response, this.request.connectionId)
      .catch((err: unknown) => this.logSendFailure(err, `${response.status} again`));
  }

  /**
   * RFC 6026 §7.1: a transport error does not discard the transaction state (Timers H and L, or the
   * proceeding limit, still end it) so that INVITE retransmissions keep being absorbed. The TU learns
   * of the failure from the rejected promise.
   */
  private async send(response: SipResponse): Promise<SendResult> {
    try {
      return await this.ctx.transport.sendResponse(response, this.request.connectionId);
    } catch (err) {
      this.logSendFailure(err, String(response.status));
      throw err;
    }
  }
}
