import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../src/transaction/errors.js';
import {
  checkTransition,
  INVITE_CLIENT,
  INVITE_SERVER,
  NON_INVITE_CLIENT,
  NON_INVITE_SERVER,
  type AnyTransitionTable,
  type MachineName,
} from '../../src/transaction/state-machines.js';
import type { ClientTransactionState, ServerTransactionState } from '../../src/transaction/types.js';

type State = ServerTransactionState | ClientTransactionState;

const machines: [MachineName, AnyTransitionTable][] = [
  ['non-INVITE server', NON_INVITE_SERVER],
  ['INVITE server', INVITE_SERVER],
  ['INVITE client', INVITE_CLIENT],
  ['non-INVITE client', NON_INVITE_CLIENT],
];

/** Every ordered pair of the machine's states, split by whether its figure draws the arrow. */
function pairs(table: AnyTransitionTable, legal: boolean): [State, State][] {
  const states = Object.keys(table) as State[];
  return states.flatMap((from) =>
    states
      .filter((to) => (table[from]?.includes(to) ?? false) === legal)
      .map((to): [State, State] => [from, to]),
  );
}

describe.each(machines)('%s transaction', (name, table) => {
  it.each(pairs(table, false))('refuses %s → %s', (from, to) => {
    expect(() => checkTransition(name, table, from, to)).toThrow(IllegalTransitionError);
    expect(() => checkTransition(name, table, from, to)).toThrow(`no transition from ${from} to ${to}`);
  });

  it.each(pairs(table, true))('allows %s → %s', (from, to) => {
    expect(checkTransition(name, table, from, to)).toBe(to);
  });

  it('ends every live state in terminated, and nothing leaves terminated', () => {
    for (const from of Object.keys(table).filter((s) => s !== 'terminated')) {
      expect(table[from]).toContain('terminated');
    }
    expect(table.terminated).toEqual([]);
  });
});

it('refuses a state the machine does not have', () => {
  expect(() => checkTransition('non-INVITE server', NON_INVITE_SERVER, 'trying', 'accepted')).toThrow(
    IllegalTransitionError,
  );
  expect(() => checkTransition('INVITE client', INVITE_CLIENT, 'trying', 'proceeding')).toThrow(
    IllegalTransitionError,
  );
});
