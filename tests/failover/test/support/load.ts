/**
 * Continuous REGISTER load from a few UDP phones (testkit's SipPhone): each attempt is a fresh user
 * (REGISTER, 401, REGISTER with digest), so every 200 names exactly one binding that must be in
 * Redis. Every outcome is recorded with its time, for the checks and the failure table.
 */
import { authorization, challengesOf, type SipPhone, type SipResponseMessage } from '@sbc/testkit';
import { PhoneLoad } from './phone-load.js';

/**
 * `unavailable`: a deliberate "not now" (503 from an app, or the engine's 480 for a request whose app
 * went away before answering); `other` is any other answer, which this load never deserves (wrong).
 */
export type Outcome = 'ok' | 'unavailable' | 'dropped' | 'other';

export interface Attempt {
  user: string;
  /** ms since the epoch when the final answer (or the timeout) came. */
  at: number;
  outcome: Outcome;
  status: number | undefined;
  retryAfter: string | undefined;
  /** X-Reason or the first line, for diagnosis. */
  detail: string;
}

export interface LoadOptions {
  target: string;
  /** Loopback addresses of the phones (one phone each). */
  addresses: string[];
  realm: string;
  users: readonly string[];
  password: (user: string) => string;
  /** Pause between two attempts of one phone (ms). */
  pauseMs: number;
  /** No final answer within this is a dropped request (the phone retransmits every 500 ms). */
  timeoutMs: number;
}

export class RegisterLoad extends PhoneLoad<Attempt> {
  private next = 0;

  constructor(private readonly options: LoadOptions) {
    super(options, options.pauseMs);
  }

  /** Resolves once `count` more attempts have come back 200. */
  waitForOk(count: number, timeoutMs = 20_000): Promise<void> {
    return this.waitFor((a) => a.outcome === 'ok', count, timeoutMs, 'REGISTERs answered 200');
  }

  protected attempt(phone: SipPhone): Promise<Attempt> {
    const { users, realm, timeoutMs } = this.options;
    return this.register(phone, users[this.next++ % users.length]!, realm, timeoutMs);
  }

  private async register(phone: SipPhone, user: string, realm: string, timeoutMs: number): Promise<Attempt> {
    const callId = `${user}-${Date.now()}-${Math.random().toString(36).slice(2)}@${phone.address}`;
    const base = { user, realm, expires: 3600, callId };
    const record = (res: SipResponseMessage | undefined, detail?: string): Attempt => ({
      user,
      at: Date.now(),
      outcome: !res
        ? 'dropped'
        : res.status === 200
          ? 'ok'
          : res.status === 503 || res.status === 480
            ? 'unavailable'
            : 'other',
      status: res?.status,
      retryAfter: res?.header('Retry-After'),
      detail: detail ?? res?.header('X-Reason') ?? res?.raw.split('\r\n')[0] ?? '',
    });
    let first: SipResponseMessage;
    try {
      first = await phone.send(phone.registerText({ ...base, cseq: 1 }), timeoutMs);
    } catch {
      return record(undefined, 'no answer to the first REGISTER');
    }
    if (first.status !== 401) return record(first);
    const challenge = challengesOf(first).find((c) => c.algorithm.toUpperCase() === 'MD5');
    if (!challenge) return record(first, 'no MD5 challenge');
    const header = authorization(challenge, {
      username: user,
      password: this.options.password(user),
      uri: `sip:${realm}`,
    });
    try {
      return record(
        await phone.send(phone.registerText({ ...base, cseq: 2, authorization: header }), timeoutMs),
      );
    } catch {
      return record(undefined, 'no answer to the authenticated REGISTER');
    }
  }
}

/** The longest stretch without a 200 that overlaps [from, to]: seconds without service. */
export function longestOutage(attempts: readonly Attempt[], from: number, to: number): number {
  const oks = attempts
    .filter((a) => a.outcome === 'ok')
    .map((a) => a.at)
    .sort((x, y) => x - y);
  let worst = 0;
  let previous = oks.filter((t) => t <= from).pop() ?? from;
  for (const t of oks.filter((t) => t > from)) {
    if (previous <= to) worst = Math.max(worst, t - previous);
    previous = t;
  }
  return worst / 1000;
}
