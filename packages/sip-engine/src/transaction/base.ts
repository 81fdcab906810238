import type { TransportLayer } from '../transport/types.js';
import { checkTransition, type AnyTransitionTable, type MachineName } from './state-machines.js';
import type { TimerValues } from './timers.js';
import type {
  ClientTransactionState,
  ServerTransactionState,
  TransactionEndReason,
  TransactionLayerOptions,
  TransactionLogger,
} from './types.js';

export type TransactionObserver = NonNullable<TransactionLayerOptions['observer']>;

/** What every state machine needs from the layer that owns it. */
export interface TransactionContext {
  readonly transport: TransportLayer;
  /** Table 4 values for unreliable (`false`) and reliable (`true`) transports. */
  timers(reliable: boolean): TimerValues;
  readonly proceedingLimitMs: number;
  readonly observer: TransactionObserver;
  readonly logger: TransactionLogger | undefined;
  /** Called exactly once per transaction when it terminates: drop it from the maps, count it. */
  release(
    transaction: TransactionBase<ServerTransactionState | ClientTransactionState>,
    reason: TransactionEndReason,
  ): void;
}

type Listener = (reason: TransactionEndReason) => void;

/** The figure a transaction follows: its name (for errors) and its table of legal moves. */
export interface StateMachine {
  readonly name: MachineName;
  readonly table: AnyTransitionTable;
}

/**
 * State, two timer slots and termination shared by the four state machines. Every transaction has at
 * most one retransmission timer (A, E or G) and one state timer (B, D, F, H, I, J, K, L, M or the
 * proceeding limit) at a time. Timer callbacks never throw.
 */
export abstract class TransactionBase<S extends ServerTransactionState | ClientTransactionState> {
  protected current: S;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private listeners: Listener[] | undefined;
  private endReason: TransactionEndReason | undefined;

  protected constructor(
    protected readonly ctx: TransactionContext,
    /** The layer's map key. */
    readonly key: string,
    readonly side: 'client' | 'server',
    readonly method: string,
    private readonly machine: StateMachine,
    initial: S,
  ) {
    this.current = initial;
  }

  /** Moves to `to`, throwing `IllegalTransitionError` when the machine's figure has no such arrow. */
  protected transition(to: S): void {
    this.current = checkTransition(this.machine.name, this.machine.table, this.current, to);
  }

  get state(): S {
    return this.current;
  }

  onTerminated(listener: Listener): void {
    if (this.endReason !== undefined) {
      this.callListener(listener, this.endReason);
      return;
    }
    (this.listeners ??= []).push(listener);
  }

  /** Engine shutdown: ends at once, without sending anything. */
  stop(): void {
    this.terminate('stopped');
  }

  protected armRetransmit(ms: number, fire: () => void): void {
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
    this.retransmitTimer = this.schedule(ms, fire);
  }

  protected clearRetransmit(): void {
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  /** Arms the state timer; a value of 0 (reliable transports) fires synchronously. */
  protected armState(ms: number, fire: () => void): void {
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    if (ms <= 0) {
      this.safely(fire);
      return;
    }
    this.stateTimer = this.schedule(ms, fire);
  }

  protected terminate(reason: TransactionEndReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.transition('terminated' as S);
    this.clearRetransmit();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    this.safely(() => this.ctx.release(this, reason));
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) this.callListener(listener, reason);
  }

  protected get terminated(): boolean {
    return this.endReason !== undefined;
  }

  /** Runs a callback (a TU handler, a timer action) so that nothing it throws escapes. */
  protected safely(action: () => void): void {
    try {
      action();
    } catch (err) {
      this.ctx.logger?.error(
        { err, transaction: this.key, method: this.method },
        'transaction callback threw',
      );
    }
  }

  protected logSendFailure(err: unknown, what: string): void {
    this.ctx.logger?.warn({ err, transaction: this.key, method: this.method }, `could not send ${what}`);
  }

  private schedule(ms: number, fire: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => this.safely(fire), ms);
    timer.unref();
    return timer;
  }

  private callListener(listener: Listener, reason: TransactionEndReason): void {
    this.safely(() => listener(reason));
  }
}
