export { createTransactionLayer } from './layer.js';
export {
  IllegalTransitionError,
  InvalidClientRequestError,
  InvalidResponseStatusError,
  TransactionLayerStoppedError,
  TransactionStateError,
} from './errors.js';
export { DEFAULT_PROCEEDING_LIMIT_MS, DEFAULT_TIMERS, TIMER_D_UNRELIABLE_MS } from './timers.js';
export type * from './types.js';
