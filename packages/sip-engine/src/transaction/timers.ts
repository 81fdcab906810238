import type { TimerConfig } from './types.js';

/** RFC 3261 §17.1.1.1 defaults. */
export const DEFAULT_TIMERS: Readonly<TimerConfig> = { T1: 500, T2: 4000, T4: 5000 };

/** RFC 3261 Timer C ("> 3 min"): the default bound for a transaction that waits for a final response. */
export const DEFAULT_PROCEEDING_LIMIT_MS = 180_000;

/** RFC 3261 Table 4: Timer D is "> 32 s" over unreliable transports, whatever T1 is. */
export const TIMER_D_UNRELIABLE_MS = 32_000;

export function resolveTimers(partial: Partial<TimerConfig> | undefined): TimerConfig {
  const timers = { ...DEFAULT_TIMERS, ...partial };
  for (const [name, value] of Object.entries(timers)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`timer ${name} must be a positive number of ms`);
  }
  return timers;
}

/**
 * Every timer of RFC 3261 Table 4 and RFC 6026 §8.11 (L, M) for one transaction, given whether its
 * transport is reliable (timers that are "0 s for TCP/SCTP" are 0 here).
 */
export interface TimerValues {
  /** INVITE request retransmit interval, initial (unreliable only; doubles without cap). */
  readonly A: number;
  /** INVITE transaction timeout: 64·T1. */
  readonly B: number;
  /** Wait time for response retransmits: > 32 s unreliable, 0 reliable. */
  readonly D: number;
  /** Non-INVITE request retransmit interval, initial (unreliable only; doubles up to T2). */
  readonly E: number;
  /** Non-INVITE transaction timeout: 64·T1. */
  readonly F: number;
  /** INVITE response retransmit interval, initial (unreliable only; doubles up to T2). */
  readonly G: number;
  /** Wait time for ACK receipt: 64·T1. */
  readonly H: number;
  /** Wait time for ACK retransmits: T4 unreliable, 0 reliable. */
  readonly I: number;
  /** Wait time for non-INVITE request retransmits: 64·T1 unreliable, 0 reliable. */
  readonly J: number;
  /** Wait time for response retransmits: T4 unreliable, 0 reliable. */
  readonly K: number;
  /** RFC 6026: wait time for accepted INVITE request retransmits: 64·T1. */
  readonly L: number;
  /** RFC 6026: wait time for retransmission of 2xx to INVITE or additional 2xx from other branches: 64·T1. */
  readonly M: number;
  readonly T2: number;
}

export function timerValues(t: TimerConfig, reliable: boolean): TimerValues {
  const sixtyFourT1 = 64 * t.T1;
  return {
    A: t.T1,
    B: sixtyFourT1,
    D: reliable ? 0 : TIMER_D_UNRELIABLE_MS,
    E: t.T1,
    F: sixtyFourT1,
    G: t.T1,
    H: sixtyFourT1,
    I: reliable ? 0 : t.T4,
    J: reliable ? 0 : sixtyFourT1,
    K: reliable ? 0 : t.T4,
    L: sixtyFourT1,
    M: sixtyFourT1,
    T2: t.T2,
  };
}
