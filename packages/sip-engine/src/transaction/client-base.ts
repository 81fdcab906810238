import type { SipRequest } from '@sbc/sip';
import type { Peer, SendResult } from '../transport/types.js';
import { TransactionBase, type StateMachine, type TransactionContext } from './base.js';
import { retainable } from './sip-fields.js';
import type { TimerValues } from './timers.js';
import type { ClientTransaction, ClientTransactionHandlers, ClientTransactionState } from './types.js';

/** What the INVITE and non-INVITE client transactions share: the first send and its two timers. */
export abstract class ClientTransactionBase
  extends TransactionBase<ClientTransactionState>
  implements ClientTransaction
{
  private sendResult: SendResult | undefined;
  protected readonly t: TimerValues;
  protected readonly reliable: boolean;

  protected constructor(
    ctx: TransactionContext,
    key: string,
    readonly id: string,
    readonly request: SipRequest,
    readonly destination: Peer,
    protected readonly handlers: ClientTransactionHandlers,
    machine: StateMachine,
    initial: ClientTransactionState,
  ) {
    super(ctx, key, 'client', request.method, machine, initial);
    this.reliable = destination.protocol !== 'udp';
    this.t = ctx.timers(this.reliable);
  }

  /** What the first send put on the wire (set once sendRequest has resolved). */
  get sent(): SendResult {
    return this.sendResult as SendResult;
  }

  /**
   * Sends the request, starting the retransmission timer (A or E, unreliable transports only) and the
   * timeout (B or F). Rejects when the first send fails.
   */
  protected async sendFirst(
    retransmitMs: number,
    onRetransmit: () => void,
    timeoutMs: number,
    onTimeout: () => void,
  ): Promise<this> {
    if (!this.reliable) this.armRetransmit(retransmitMs, onRetransmit);
    this.armState(timeoutMs, onTimeout);
    try {
      this.sendResult = retainable(await this.ctx.transport.sendRequest(this.request, this.destination));
    } catch (err) {
      this.terminate('transport-error');
      throw err;
    }
    return this;
  }
}
