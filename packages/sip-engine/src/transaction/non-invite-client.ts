import type { SipRequest, SipResponse } from '@sbc/sip';
import type { Inbound, Peer } from '../transport/types.js';
import type { TransactionContext } from './base.js';
import { ClientTransactionBase } from './client-base.js';
import { NON_INVITE_CLIENT } from './state-machines.js';
import type { ClientTransactionHandlers } from './types.js';

const MACHINE = { name: 'non-INVITE client', table: NON_INVITE_CLIENT } as const;

/**
 * Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6), Timers E, F and K.
 * States: trying → proceeding → completed → terminated.
 */
export class NonInviteClientTransaction extends ClientTransactionBase {
  private timerEInterval: number;

  constructor(
    ctx: TransactionContext,
    key: string,
    id: string,
    request: SipRequest,
    destination: Peer,
    handlers: ClientTransactionHandlers,
  ) {
    super(ctx, key, id, request, destination, handlers, MACHINE, 'trying');
    this.timerEInterval = this.t.E;
  }

  /** Sends the request, starting Timer E (unreliable only) and Timer F. Rejects when the first send fails. */
  async start(): Promise<this> {
    return this.sendFirst(
      this.timerEInterval,
      () => this.onTimerE(),
      this.t.F,
      () => this.onTimerF(),
    );
  }

  receiveResponse(inbound: Inbound<SipResponse>): void {
    if (this.current !== 'trying' && this.current !== 'proceeding') return; // completed absorbs retransmissions
    if (inbound.message.status < 200) {
      this.transition('proceeding');
      this.deliver(inbound);
      return;
    }
    this.clearRetransmit();
    this.transition('completed');
    this.deliver(inbound);
    this.armState(this.t.K, () => this.terminate('completed'));
  }

  private onTimerE(): void {
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
    // §17.1.2.2: the interval doubles up to T2 while trying, and is T2 once a provisional arrived.
    this.timerEInterval =
      this.current === 'proceeding' ? this.t.T2 : Math.min(2 * this.timerEInterval, this.t.T2);
    this.armRetransmit(this.timerEInterval, () => this.onTimerE());
    this.ctx.observer.retransmission?.('request', this.method);
    this.ctx.transport
      .sendRequest(this.request, this.destination)
      .catch((err: unknown) => this.sendFailed(err));
  }

  private onTimerF(): void {
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
    this.safely(() => this.handlers.onTimeout());
    this.terminate('timeout');
  }

  /** RFC 3261 §17.1.4. */
  private sendFailed(err: unknown): void {
    this.logSendFailure(err, this.method);
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.safely(() => this.handlers.onTransportError(error));
    this.terminate('transport-error');
  }

  private deliver(inbound: Inbound<SipResponse>): void {
    this.safely(() => this.handlers.onResponse(inbound));
  }
}
