/**
 * Runs the outbound registrations on exactly one instance of the cluster: the holder of
 * `<cluster>:regbot-token` (jambonz: SET NX with a 70 s TTL, checked every 60 s). The leader renews
 * the token and re-reads the carriers at every check, so edits in MySQL take effect without a
 * restart; when it dies the token expires and another instance takes over at its next check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { lookupCarriersRequiringRegistration, lookupSystemInformation, type Db } from '@sbc/db';
import { EphemeralGateways, LeaderLock, type Redis } from '@sbc/redis';
import { createPeriodicTask, type AlertSink, type EngineInfo, type Logger, type Srf } from '@sbc/service';
import type { RegistrarMetrics } from '../metrics.js';
import { Regbot, type RegbotOptions } from './regbot.js';
import type { Resolver } from './resolve.js';
import { buildRegbotSpecs } from './spec.js';

export interface RegbotManagerOptions extends RegbotOptions {
  clusterId: string;
  defaultExpires: number;
  contactUseIp: boolean;
  batchSize: number;
  batchSleepMs: number;
  /** Longest random wait before the first bid (spreads instances started together). */
  initialDelayMs: number;
  /** How often the leader renews and re-reads carriers, and followers bid (jambonz 60 s). */
  checkIntervalMs: number;
  /** Lifetime of the token (jambonz 70 s = check interval + 10 s). */
  lockTtlMs: number;
}

export interface RegbotManagerDeps {
  srf: Srf;
  db: Db;
  redis: Redis;
  logger: Logger;
  metrics: RegistrarMetrics;
  alerts: AlertSink;
  options: RegbotManagerOptions;
  /** The engine's addresses (public hostports for Contacts). */
  engine: () => EngineInfo | undefined;
  resolver?: Resolver;
  /** Leader token (default a random UUID). */
  token?: string;
}

/** jambonz refreshes system_information.sip_domain_name every 5 minutes. */
const SYSTEM_INFO_TTL_MS = 5 * 60_000;

export class RegbotManager {
  readonly lock: LeaderLock;
  private readonly ephemeralGateways: EphemeralGateways;
  private readonly log: Logger;
  private readonly running = new Map<string, Regbot>();
  private leader = false;
  private stopped = true;
  /** Regbots that disabled their carrier: dedupe key → the configuration they were disabled with. */
  private readonly disabled = new Map<string, string>();
  private readonly task;
  private sipDomain: { value: string | undefined; at: number } | undefined;

  constructor(private readonly deps: RegbotManagerDeps) {
    this.lock = new LeaderLock(deps.redis, {
      clusterId: deps.options.clusterId,
      ...(deps.token !== undefined && { token: deps.token }),
    });
    this.ephemeralGateways = new EphemeralGateways(deps.redis);
    this.log = deps.logger.child({ component: 'regbot-manager' });
    this.task = createPeriodicTask({
      intervalMs: deps.options.checkIntervalMs,
      run: () => this.runCheck(),
      onError: (err) => this.log.error({ err }, 'regbot check failed'),
    });
  }

  /** Bids for the token after a random delay, then checks every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.task.start(Math.floor(Math.random() * (this.deps.options.initialDelayMs + 1)));
  }

  /** Whether this instance holds the token (as of the last check). */
  isLeader(): boolean {
    return this.leader;
  }

  /** jambonz's regbotStatus(). */
  status(): { total: number; registered: number; active: boolean } {
    const bots = [...this.running.values()];
    return {
      total: bots.length,
      registered: bots.filter((b) => b.state === 'registered').length,
      active: this.leader,
    };
  }

  regbots(): readonly Regbot[] {
    return [...this.running.values()];
  }

  /** One check now (or the one in flight): renew or bid, then (as leader) bring the registrations in line with MySQL. */
  check(): Promise<void> {
    return this.task.runNow();
  }

  private async runCheck(): Promise<void> {
    if (this.stopped) return;
    const { lockTtlMs } = this.deps.options;
    try {
      const wasLeader = this.leader;
      this.leader = wasLeader ? await this.lock.renew(lockTtlMs) : await this.lock.acquire(lockTtlMs);
      if (wasLeader && !this.leader) {
        this.log.warn('lost the regbot token: stopping outbound registrations');
        await this.stopAll();
        this.leader = await this.lock.acquire(lockTtlMs);
      }
      if (!wasLeader && this.leader) this.log.info({ token: this.lock.token }, 'took the regbot token');
    } catch (err) {
      // Without Redis we cannot know whether another instance registers: stand down.
      this.log.warn({ err }, 'cannot check the regbot token');
      if (this.leader) await this.stopAll();
      this.leader = false;
    }
    this.deps.metrics.regbotLeader.set(this.leader ? 1 : 0);
    if (this.leader && !this.stopped) await this.sync();
    else if (!this.leader && this.running.size > 0) await this.stopAll();
    this.updateGauges();
  }

  /** Starts, replaces and stops regbots so that they match the carriers in MySQL. */
  private async sync(): Promise<void> {
    const { db, options } = this.deps;
    // Contacts may carry the engine's address: wait for it rather than register twice (before and after).
    const engine = this.deps.engine();
    if (!engine) return;
    let carriers;
    try {
      carriers = await lookupCarriersRequiringRegistration(db);
      await this.refreshSipDomain();
    } catch (err) {
      this.log.warn({ err }, 'cannot read carriers; keeping the current registrations');
      return;
    }
    const { specs, problems } = buildRegbotSpecs(carriers, {
      defaultExpires: options.defaultExpires,
      contactUseIp: options.contactUseIp,
      sipDomainName: this.sipDomain?.value,
      hostports: engine.hostports,
    });
    for (const problem of problems) this.log.warn(problem, 'cannot register to this carrier gateway');

    const wanted = new Set(specs.map((s) => s.dedupeKey));
    // A disabled carrier is forgotten once MySQL no longer lists it (the disable is visible).
    for (const key of this.disabled.keys()) if (!wanted.has(key)) this.disabled.delete(key);
    for (const [key, bot] of this.running) {
      if (!wanted.has(key)) {
        this.running.delete(key);
        this.log.info({ carrier: bot.spec.carrierName }, 'carrier no longer registers: stopping');
        await bot.stop();
      }
    }

    const toStart: Regbot[] = [];
    for (const spec of specs) {
      const current = this.running.get(spec.dedupeKey);
      if (current?.spec.configKey === spec.configKey) continue;
      // Read before a bot's disable reached MySQL: do not register to that carrier again.
      if (!current && this.disabled.get(spec.dedupeKey) === spec.configKey) continue;
      if (current) {
        this.log.info({ carrier: spec.carrierName }, 'carrier registration changed: replacing');
        current.retire();
      }
      const bot = new Regbot(spec, this.regbotDeps(), current?.carryOver);
      this.running.set(spec.dedupeKey, bot);
      toStart.push(bot);
    }
    for (let i = 0; i < toStart.length; i += options.batchSize) {
      if (i > 0) await sleep(options.batchSleepMs);
      if (this.stopped || !this.leader) return;
      for (const bot of toStart.slice(i, i + options.batchSize)) {
        if (this.running.get(bot.spec.dedupeKey) === bot) bot.start();
      }
    }
  }

  private regbotDeps() {
    const { srf, db, logger, metrics, alerts, options, resolver } = this.deps;
    return {
      srf,
      db,
      logger,
      metrics,
      alerts,
      options,
      ephemeralGateways: this.ephemeralGateways,
      ...(resolver !== undefined && { resolver }),
      onDisabled: (bot: Regbot) => {
        this.disabled.set(bot.spec.dedupeKey, bot.spec.configKey);
        if (this.running.get(bot.spec.dedupeKey) === bot) this.running.delete(bot.spec.dedupeKey);
        this.updateGauges();
      },
    };
  }

  private async refreshSipDomain(): Promise<void> {
    if (this.sipDomain && Date.now() - this.sipDomain.at < SYSTEM_INFO_TTL_MS) return;
    const info = await lookupSystemInformation(this.deps.db);
    this.sipDomain = { value: info?.sip_domain_name ?? undefined, at: Date.now() };
  }

  private async stopAll(): Promise<void> {
    const bots = [...this.running.values()];
    this.running.clear();
    for (const bot of bots) await bot.stop();
    this.updateGauges();
  }

  private updateGauges(): void {
    const status = this.status();
    const gauge = this.deps.metrics.regbotRegistrations;
    gauge.set({ state: 'total' }, status.total);
    gauge.set({ state: 'registered' }, status.registered);
  }

  /**
   * Stops every registration and the checks. With `release` (graceful shutdown) the token is given
   * up so another instance takes over at its next check instead of after the TTL.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    await this.task.stop();
    await this.stopAll();
    if ((options.release ?? true) && this.leader) {
      await this.lock
        .release()
        .catch((err: unknown) => this.log.warn({ err }, 'cannot release the regbot token'));
    }
    this.leader = false;
    this.deps.metrics.regbotLeader.set(0);
  }
}
