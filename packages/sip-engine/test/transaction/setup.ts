import { vi } from 'vitest';
import { createTransactionLayer } from '../../src/transaction/index.js';
import type {
  TransactionEndReason,
  TransactionLayerApi,
  TransactionLayerOptions,
} from '../../src/transaction/types.js';
import { RecordingTransport, RecordingUser } from './helpers.js';

export interface Harness {
  transport: RecordingTransport;
  user: RecordingUser;
  layer: TransactionLayerApi;
  retransmissions: string[];
  started: string[];
  ended: string[];
}

/** A layer over a RecordingTransport with fake timers, recording the observer callbacks as `side:method[:reason]`. */
export function harness(options: Omit<TransactionLayerOptions, 'observer'> = {}): Harness {
  vi.useFakeTimers();
  const transport = new RecordingTransport();
  const user = new RecordingUser();
  const retransmissions: string[] = [];
  const started: string[] = [];
  const ended: string[] = [];
  const layer = createTransactionLayer(transport, user, {
    ...options,
    observer: {
      retransmission: (kind, method) => retransmissions.push(`${kind}:${method}`),
      transactionStarted: (side, method) => started.push(`${side}:${method}`),
      transactionEnded: (side, method, reason: TransactionEndReason) =>
        ended.push(`${side}:${method}:${reason}`),
    },
  });
  transport.onMessage((inbound) => layer.receive(inbound));
  return { transport, user, layer, retransmissions, started, ended };
}

/** Advances fake time to `at` ms after the test's start (tracked by the caller's clock). */
export async function advanceTo(start: number, at: number): Promise<void> {
  const now = Date.now() - start;
  if (at > now) await vi.advanceTimersByTimeAsync(at - now);
}

/** Records the end reason of a transaction. */
export function endReason(txn: {
  onTerminated(l: (r: TransactionEndReason) => void): void;
}): () => TransactionEndReason | undefined {
  let reason: TransactionEndReason | undefined;
  txn.onTerminated((r) => (reason = r));
  return () => reason;
}
