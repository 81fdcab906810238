import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, Peer } from '../transport/types.js';
import { ackForNon2xx } from './ack.js';
import type { TransactionContext } from './base.js';
import { ClientTransactionBase } from './client-base.js';
import { INVITE_CLIENT } from './state-machines.js';
import type { ClientTransactionHandlers } from './types.js';

const MACHINE = { name: 'INVITE client', table: INVITE_CLIENT } as const;

/**
 * INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as corrected by RFC 6026 §7.2 (Accepted
 * state, Timer M). States: calling → proceeding → accepted | completed → terminated.
 */
export class InviteClientTransaction extends ClientTransactionBase {
  private timerAInterval: number;
  private ack: SipRequest | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    id: string,
    request: SipRequest,
    destination: Peer,
    handlers: ClientTransactionHandlers,
  ) {
    super(ctx, key, id, request, destination, handlers, MACHINE, 'calling');
    this.timerAInterval = this.t.A;
  }

  /** Sends the INVITE, starting Timer A (unreliable only) and Timer B. Rejects when the first send fails. */
  async start(): Promise<this> {
    return this.sendFirst(
      this.timerAInterval,
      () => this.onTimerA(),
      this.t.B,
      () => this.onTimerB(),
    );
  }

  receiveResponse(inbound: Inbound<SipResponse>): void {
    const status = inbound.message.status;
    switch (this.current) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          this.clearRetransmit();
          this.transition('proceeding');
          // Timer B only runs in calling; from here the proceeding limit bounds the wait.
          this.armState(this.ctx.proceedingLimitMs, () => this.onProceedingLimit());
          this.deliver(inbound);
        } else if (status < 300) {
          this.clearRetransmit();
          this.transition('accepted');
          this.armState(this.t.M, () => this.terminate('completed'));
          this.deliver(inbound);
        } else {
          this.clearRetransmit();
          this.transition('completed');
          this.ack = ackForNon2xx(this.request, inbound.message);
          this.sendAck(false);
          this.deliver(inbound);
          this.armState(this.t.D, () => this.terminate('completed'));
        }
        return;
      case 'accepted':
        // RFC 6026 §7.2: every 2xx (retransmission or another fork) goes to the TU; nothing else does.
        if (status >= 200 && status < 300) this.deliver(inbound);
        return;
      case 'completed':
        // A retransmitted final response: ACK again, do not bother the TU.
        if (status >= 300) this.sendAck(true);
        return;
      default:
        return;
    }
  }

  private onTimerA(): void {
    if (this.current !== 'calling') return;
    this.timerAInterval *= 2;
    this.armRetransmit(this.timerAInterval, () => this.onTimerA());
    this.ctx.observer.retransmission?.('request', 'INVITE');
    this.ctx.transport
      .sendRequest(this.request, this.destination)
      .catch((err: unknown) => this.sendFailed(err));
  }

  private onTimerB(): void {
    if (this.current !== 'calling') return;
    this.safely(() => this.handlers.onTimeout());
    this.terminate('timeout');
  }

  private onProceedingLimit(): void {
    if (this.current !== 'proceeding') return;
    this.safely(() => this.handlers.onTimeout());
    this.terminate('timeout');
  }

  private sendAck(retransmission: boolean): void {
    const ack = this.ack;
    if (!ack) return;
    if (retransmission) this.ctx.observer.retransmission?.('request', 'ACK');
    this.ctx.transport.sendRequest(ack, this.destination).catch((err: unknown) => this.sendFailed(err));
  }

  /** RFC 3261 §17.1.4: inform the TU (while it still waits for a final response) and terminate. */
  private sendFailed(err: unknown): void {
    this.logSendFailure(err, this.current === 'completed' ? 'ACK' : 'INVITE');
    if (this.terminated) return;
    if (this.current === 'calling') {
      const error = err instanceof Error ? err : new Error(String(err));
      this.safely(() => this.handlers.onTransportError(error));
    }
    if (this.current === 'calling' || this.current === 'completed') this.terminate('transport-error');
  }

  private deliver(inbound: Inbound<SipResponse>): void {
    this.safely(() => this.handlers.onResponse(inbound));
  }
}
