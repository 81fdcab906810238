/**
 * This SBC's addresses, from what the engine reports (reference §2.1): its private SIP addresses
 * join `<cluster>:active-sip` (feature servers and rtpengine sidecars send their OPTIONS there) and
 * leave it when the app drains; its public addresses are kept in `sbc_addresses`.
 */
import { addSbcAddress, cleanSbcAddresses, type Db } from '@sbc/db';
import type { ServerSets } from '@sbc/redis';
import {
  createPeriodicTask,
  privateSipAddresses,
  publicAddresses,
  type EngineInfo,
  type Logger,
  type PeriodicTask,
  type PublicAddress,
} from '@sbc/service';

export interface SbcAddressOptions {
  keepAliveMs: number;
  deadSeconds: number;
  /** Upsert public addresses into sbc_addresses (not on a dedicated SBC_ACCOUNT_SID instance). */
  record: boolean;
}

export class SbcAddresses {
  private joined: string[] = [];
  private public: PublicAddress[] = [];
  private readonly keepAlive: PeriodicTask;

  constructor(
    private readonly db: Db,
    private readonly sets: ServerSets,
    private readonly logger: Logger,
    private readonly options: SbcAddressOptions,
  ) {
    this.keepAlive = createPeriodicTask({
      intervalMs: options.keepAliveMs,
      onError: (err) => logger.warn({ err }, 'cannot refresh sbc_addresses'),
      run: () => this.recordPublic(),
    });
  }

  /** The first public address (this SBC's `host` in CDRs). */
  publicAddress(): string | undefined {
    return this.public[0]?.ipv4;
  }

  /** (Re)starts from the engine's addresses; joins active-sip unless `join` is false (draining). */
  async start(engine: EngineInfo, networkCidrs: readonly string[], join: boolean): Promise<void> {
    this.public = publicAddresses(engine.hostports);
    if (join) {
      this.joined = privateSipAddresses(engine, networkCidrs);
      for (const address of this.joined) {
        await this.sets.touch('active-sip', address).catch((err: unknown) => {
          this.logger.error(
            { err, address },
            'cannot join active-sip: feature servers will not see this SBC',
          );
        });
      }
    }
    if (this.options.record && !this.keepAlive.started) this.keepAlive.start(0);
  }

  /** Leaves active-sip (draining). */
  async leave(): Promise<void> {
    for (const address of this.joined) {
      await this.sets.remove('active-sip', address).catch((err: unknown) => {
        this.logger.error({ err, address }, 'cannot leave active-sip');
      });
    }
    this.joined = [];
  }

  async stop(): Promise<void> {
    await this.keepAlive.stop();
  }

  private async recordPublic(): Promise<void> {
    for (const address of this.public) await addSbcAddress(this.db, address);
    const removed = await cleanSbcAddresses(this.db, this.options.deadSeconds);
    if (removed > 0) this.logger.info({ removed }, 'removed stale SBC addresses');
  }
}
