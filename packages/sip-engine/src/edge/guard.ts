import { parseNetworks, type NetworkSet } from '@sbc/net';
import type { EngineMetrics } from '../metrics.js';
import type { SipRequest } from '@sbc/sip';
import type { EdgeGate, TransportLogger } from '../transport/options.js';
import type { Peer, TransportProtocol } from '../transport/types.js';
import { RedisBlacklist, type BlacklistConfig } from './blacklist.js';
import { SourceRateLimiter, type RateLimit } from './rate-limiter.js';
import { spammerAction, spammerMatch, type SpammerRules } from './spammers.js';

/** The engine's edge protection; every part is optional (absent: off). */
export interface EdgeConfig {
  /** drachtio's spammer list. */
  spammers?: SpammerRules;
  /** drachtio's Redis blacklist. */
  blacklist?: BlacklistConfig;
  /** Per-source message rate (ours). */
  rateLimit?: RateLimit;
  /** Connections one source may hold open at once (TCP, TLS, WS, WSS; ours). */
  maxConnectionsPerSource?: number;
  /** Networks exempt from the rate and connection limits: JAMBONES_NETWORK_CIDR and the allow-list. */
  exempt?: readonly string[];
  idleTimeoutMs?: number;
  incompleteMessageTimeoutMs?: number;
}

export type EdgeDropReason = 'blacklist' | 'rate_limited' | 'spammer' | 'connection_limit';

/** Remembered exemption answers at most (a parse per new source otherwise). */
const EXEMPT_CACHE_SIZE = 10_000;

/** `::ffff:a.b.c.d` (a dual-stack socket's IPv4 peer) as `a.b.c.d`, the spelling the blacklist holds. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Edge protection in the order a message meets it: the blacklist (drachtio's, shared through
 * Redis), the per-source rate limiter (Kamailio's pike), the connection limits, then, once parsed,
 * the spammer list. Drops are counted by reason; a rate ban is logged once.
 */
export class EdgeGuard implements EdgeGate {
  readonly idleTimeoutMs: number | undefined;
  readonly incompleteMessageTimeoutMs: number | undefined;
  private readonly blacklist: RedisBlacklist | undefined;
  private readonly rate: SourceRateLimiter | undefined;
  private readonly exempt: NetworkSet;
  private readonly exemptCache = new Map<string, boolean>();
  private readonly connections = new Map<string, number>();
  private readonly dropCounters = new Map<string, { inc(): void }>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: EdgeConfig,
    private readonly logger: TransportLogger | undefined,
    private readonly metrics: EngineMetrics | undefined,
  ) {
    this.idleTimeoutMs = config.idleTimeoutMs;
    this.incompleteMessageTimeoutMs = config.incompleteMessageTimeoutMs;
    this.exempt = parseNetworks(config.exempt ?? []);
    this.blacklist = config.blacklist
      ? new RedisBlacklist(config.blacklist, logger, (size) => metrics?.blacklistSize.set(size))
      : undefined;
    this.rate =
      config.rateLimit && config.rateLimit.requests > 0 ? new SourceRateLimiter(config.rateLimit) : undefined;
  }

  async start(): Promise<void> {
    await this.blacklist?.start();
    if (this.rate) {
      const rate = this.rate;
      this.sweepTimer = setInterval(
        () => {
          const now = Date.now();
          rate.sweep(now);
          this.metrics?.rateBannedSources.set(rate.banned(now).length);
        },
        Math.max(1000, rate.limit.windowMs),
      );
      this.sweepTimer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.blacklist?.stop();
  }

  /** Reads the blacklist now (tests; the timer does it every refresh interval). */
  refreshBlacklist(): Promise<void> {
    return this.blacklist?.refresh() ?? Promise.resolve();
  }

  /** Sources the rate limiter has banned right now. */
  rateBanned(): string[] {
    return this.rate?.banned(Date.now()) ?? [];
  }

  admit(address: string, protocol: TransportProtocol): boolean {
    const source = plainAddress(address);
    if (this.blacklist?.has(source)) return this.drop('blacklist', protocol);
    if (!this.rate || this.isExempt(source)) return true;
    const verdict = this.rate.hit(source, Date.now());
    if (verdict === 'pass') return true;
    if (verdict === 'banned-now') {
      const { requests, windowMs, banMs } = this.rate.limit;
      this.logger?.warn(
        { source, protocol, requests, windowMs, banMs },
        'source over the rate limit: dropped until the ban ends',
      );
      this.metrics?.rateBans.inc();
    }
    return this.drop('rate_limited', protocol);
  }

  screen(request: SipRequest, source: Peer): 'reject' | 'discard' | undefined {
    const rules = this.config.spammers;
    if (!rules) return undefined;
    const matched = spammerMatch(request, rules);
    if (matched === undefined) return undefined;
    const action = spammerAction(rules, source.protocol);
    this.logger?.info(
      {
        source: `${source.address}:${source.port}`,
        protocol: source.protocol,
        method: request.method,
        matched,
        action,
      },
      'detected potential spammer',
    );
    this.drop('spammer', source.protocol);
    return action;
  }

  connectionOpened(address: string, protocol: TransportProtocol): boolean {
    const source = plainAddress(address);
    const limit = this.config.maxConnectionsPerSource;
    const open = (this.connections.get(source) ?? 0) + 1;
    if (limit && open > limit && !this.isExempt(source)) {
      this.drop('connection_limit', protocol);
      return false;
    }
    this.connections.set(source, open);
    return true;
  }

  connectionClosed(address: string): void {
    const source = plainAddress(address);
    const open = (this.connections.get(source) ?? 0) - 1;
    if (open > 0) this.connections.set(source, open);
    else this.connections.delete(source);
  }

  private isExempt(address: string): boolean {
    if (this.exempt.networks.length === 0) return false;
    let exempt = this.exemptCache.get(address);
    if (exempt === undefined) {
      exempt = this.exempt.contains(address);
      if (this.exemptCache.size >= EXEMPT_CACHE_SIZE) this.exemptCache.clear();
      this.exemptCache.set(address, exempt);
    }
    return exempt;
  }

  private drop(reason: EdgeDropReason, protocol: TransportProtocol): false {
    const metrics = this.metrics;
    if (metrics) {
      const key = `${reason}|${protocol}`;
      let counter = this.dropCounters.get(key);
      if (!counter) {
        counter = metrics.edgeDropped.labels({ reason, protocol });
        this.dropCounters.set(key, counter);
      }
      counter.inc();
    }
    return false;
  }
}
