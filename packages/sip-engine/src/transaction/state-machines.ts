/**
 * The legal state changes of the four transaction machines, one table each. Every change goes
 * through `checkTransition`, so a move the RFC does not draw is an error, not a silent assignment.
 * A self-loop is legal only where the figure draws one (another provisional while proceeding).
 * Any live state may end in `terminated` (timers, transport errors, engine shutdown).
 */
import { IllegalTransitionError } from './errors.js';
import type { ClientTransactionState, ServerTransactionState } from './types.js';

export type TransitionTable<S extends string> = { readonly [From in S]: readonly S[] };

/** Any machine's table, looked up by state name. */
export type AnyTransitionTable = { readonly [from: string]: readonly string[] | undefined };

/** RFC 3261 Figure 8. */
export const NON_INVITE_SERVER: TransitionTable<'trying' | 'proceeding' | 'completed' | 'terminated'> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['proceeding', 'completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

/** RFC 3261 Figure 7 with RFC 6026 §7.1's Accepted state. */
export const INVITE_SERVER: TransitionTable<
  'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated'
> = {
  proceeding: ['proceeding', 'accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

/** RFC 3261 Figure 5 with RFC 6026 §7.2's Accepted state. */
export const INVITE_CLIENT: TransitionTable<
  'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated'
> = {
  calling: ['proceeding', 'accepted', 'completed', 'terminated'],
  proceeding: ['proceeding', 'accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['terminated'],
  terminated: [],
};

/** RFC 3261 Figure 6. */
export const NON_INVITE_CLIENT: TransitionTable<'trying' | 'proceeding' | 'completed' | 'terminated'> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['proceeding', 'completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export type MachineName = 'non-INVITE server' | 'INVITE server' | 'INVITE client' | 'non-INVITE client';

/** The state after `from → to`; throws `IllegalTransitionError` when the machine has no such arrow. */
export function checkTransition<S extends ServerTransactionState | ClientTransactionState>(
  machine: MachineName,
  table: AnyTransitionTable,
  from: S,
  to: S,
): S {
  if (!table[from]?.includes(to)) throw new IllegalTransitionError(machine, from, to);
  return to;
}
