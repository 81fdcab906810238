/**
 * Step 3: calls in progress and call limits (jambonz checkLimits, reference §2.5). The counters are
 * jambonz's Redis keys, shared with sbc-outbound and the feature servers' view; a call holds a
 * `CallSlot` from here on, and its `release()` decrements them exactly once, whatever ends it.
 */
import { lookupCallLimits, type Db } from '@sbc/db';
import { RedisUnavailableError, type CallCounters, type CallCounterScope, type Redis } from '@sbc/redis';
import { DependencyUnavailableError, InboundAnswer } from './answers.js';
import type { Logger } from '@sbc/service';
import type { Records } from './records.js';

export interface LimitOptions {
  hosting: boolean;
  trackAccountCalls: boolean;
  trackSpCalls: boolean;
  trackAppCalls: boolean;
  minCallLimit: number;
  debugCallCounts: boolean;
  retryAfterSeconds: number;
}

/** 503 with jambonz's reason phrase for each limit. */
export class CallLimitError extends InboundAnswer {
  override readonly name = 'CallLimitError';
  readonly status = 503;
  readonly outcome = 'limited';
  constructor(
    readonly reason: 'subscription_limit' | 'account_limit' | 'no_subscription' | 'sp_limit',
    override readonly reasonPhrase: string,
    private readonly extra: Record<string, string>,
  ) {
    super(reasonPhrase);
  }
  override headers(): Record<string, string> {
    return this.extra;
  }
}

export interface CallOwner {
  callId: string;
  accountSid: string;
  serviceProviderSid: string;
  applicationSid: string | undefined;
}

/** Delays (ms) of the retries of a decrement that Redis did not take (an outage, a failover). */
const RELEASE_RETRY_MS = [1000, 2000, 4000, 8000, 15_000, 30_000, 60_000, 60_000, 60_000, 60_000];

/** The counters one call holds. */
export class CallSlot {
  private released: Promise<void> | undefined;

  constructor(
    private readonly counters: CallCounters,
    private readonly held: readonly { scope: CallCounterScope; sid: string }[],
    private readonly onRelease: (counts: { scope: CallCounterScope; sid: string; calls: number }[]) => void,
    private readonly debugKey: { redis: Redis; key: string } | undefined,
    private readonly onLost: (counter: { scope: CallCounterScope; sid: string }, err: unknown) => void = () =>
      undefined,
  ) {}

  /**
   * Decrements every counter this call incremented, once; later calls share the first. Never
   * rejects. A decrement Redis did not take (down, failing over) is retried in the background for
   * about five minutes: a lost DECR would keep the account one call short for good, while a
   * repeated one (a reply lost after Redis applied it) is floored at 0 and corrects itself as
   * calls end.
   */
  release(): Promise<void> {
    this.released ??= (async () => {
      if (this.held.length === 0) return;
      const results = await Promise.allSettled(this.held.map((h) => this.decrement(h)));
      const done = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      this.onRelease(done);
      this.held.forEach((h, i) => {
        const result = results[i];
        if (result?.status === 'rejected') void this.retry(h, result.reason);
      });
      if (this.debugKey) await this.debugKey.redis.del(this.debugKey.key).catch(() => undefined);
    })();
    return this.released;
  }

  private async decrement(h: { scope: CallCounterScope; sid: string }) {
    return { ...h, calls: await this.counters.decr(h.scope, h.sid) };
  }

  private async retry(h: { scope: CallCounterScope; sid: string }, first: unknown): Promise<void> {
    let last = first;
    if (!(last instanceof RedisUnavailableError)) return this.onLost(h, last);
    for (const delay of RELEASE_RETRY_MS) {
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      try {
        this.onRelease([await this.decrement(h)]);
        return;
      } catch (err) {
        last = err;
        if (!(err instanceof RedisUnavailableError)) break;
      }
    }
    this.onLost(h, last);
  }
}

/** A slot for calls nobody counts (no JAMBONES_HOSTING / TRACK_*). */
export const UNCOUNTED = (counters: CallCounters) => new CallSlot(counters, [], () => undefined, undefined);

/**
 * Counts the call in, checks the limits, and returns the slot it holds; throws the 503 it must get
 * (its counters already given back) when a limit is reached or Redis / MySQL fail.
 */
export async function claimCallSlot(
  deps: { db: Db; redis: Redis; counters: CallCounters; records: Records; log?: Logger },
  owner: CallOwner,
  options: LimitOptions,
): Promise<CallSlot> {
  const { counters, records } = deps;
  const trackAccount = options.hosting || options.trackAccountCalls;
  if (!trackAccount && !options.trackSpCalls && !options.trackAppCalls) return UNCOUNTED(counters);

  const wanted: { scope: CallCounterScope; sid: string }[] = [];
  if (trackAccount) wanted.push({ scope: 'account', sid: owner.accountSid });
  if (options.trackSpCalls) wanted.push({ scope: 'sp', sid: owner.serviceProviderSid });
  if (options.trackAppCalls && owner.applicationSid) wanted.push({ scope: 'app', sid: owner.applicationSid });

  const results = await Promise.allSettled(
    wanted.map(async (w) => ({ ...w, calls: await counters.incr(w.scope, w.sid) })),
  );
  const held = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const debugKey = options.debugCallCounts
    ? { redis: deps.redis, key: `debug:incalls:${owner.accountSid}:${owner.callId}` }
    : undefined;
  const slot = new CallSlot(
    counters,
    held,
    (counts) => records.callCounts(owner, counts),
    debugKey,
    (counter, err) =>
      deps.log?.error(
        {
          counter: counters.key(counter.scope, counter.sid),
          err: err instanceof Error ? err.message : String(err),
        },
        'a call counter was not decremented: Redis did not take it (the count stays one too high)',
      ),
  );
  records.callCounts(owner, held);

  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await slot.release();
    throw new DependencyUnavailableError(
      'redis',
      options.retryAfterSeconds,
      'cannot count the call in Redis',
      {
        cause: failed.reason,
      },
    );
  }
  if (debugKey) {
    await deps.redis.set(debugKey.key, new Date().toISOString(), 'EX', 259_200).catch(() => undefined);
  }

  const accountCalls = held.find((h) => h.scope === 'account')?.calls;
  const spCalls = held.find((h) => h.scope === 'sp')?.calls;
  if ((accountCalls ?? 0) <= options.minCallLimit && spCalls === undefined) return slot;

  try {
    checkLimits(
      await lookupCallLimits(deps.db, {
        accountSid: owner.accountSid,
        serviceProviderSid: owner.serviceProviderSid,
      }),
      owner,
      { accountCalls, spCalls, hosting: options.hosting, minCallLimit: options.minCallLimit },
      records,
    );
    return slot;
  } catch (err) {
    await slot.release();
    if (err instanceof InboundAnswer) throw err;
    throw new DependencyUnavailableError('mysql', options.retryAfterSeconds, 'cannot read the call limits', {
      cause: err,
    });
  }
}

function checkLimits(
  limits: Awaited<ReturnType<typeof lookupCallLimits>>,
  owner: CallOwner,
  calls: {
    accountCalls: number | undefined;
    spCalls: number | undefined;
    hosting: boolean;
    minCallLimit: number;
  },
  records: Records,
): void {
  const { accountCalls, spCalls, hosting } = calls;
  const scope = { account_sid: owner.accountSid, service_provider_sid: owner.serviceProviderSid };
  if (accountCalls !== undefined && accountCalls > calls.minCallLimit) {
    if (hosting && limits.subscription !== undefined && accountCalls > limits.subscription) {
      records.alert({
        ...scope,
        alert_type: 'account-call-limit',
        message: `account call limit ${limits.subscription} reached`,
        detail: { limit: limits.subscription },
      });
      throw new CallLimitError('subscription_limit', 'Maximum Calls In Progress', {});
    }
    if (limits.account !== undefined && limits.account > 0 && accountCalls > limits.account) {
      records.alert({
        ...scope,
        alert_type: 'account-call-limit',
        message: `account call limit ${limits.account} reached`,
        detail: { limit: limits.account },
      });
      throw new CallLimitError('account_limit', 'Max Account Calls In Progress', {
        'X-Account-Sid': owner.accountSid,
        'X-Call-Limit': String(limits.account),
      });
    }
    if (
      hosting &&
      limits.subscription === undefined &&
      limits.account === 0 &&
      limits.service_provider === 0
    ) {
      throw new CallLimitError('no_subscription', 'No Active Subscription', {});
    }
  }
  const sp = limits.service_provider;
  if (spCalls !== undefined && sp !== undefined && sp > 0 && spCalls > sp) {
    records.alert({
      ...scope,
      alert_type: 'service-provider-call-limit',
      message: `service provider call limit ${sp} reached`,
      detail: { limit: sp },
    });
    throw new CallLimitError('sp_limit', 'Max Service Provider Calls In Progress', {
      'X-Service-Provider-Sid': owner.serviceProviderSid,
      'X-Call-Limit': String(sp),
    });
  }
}
