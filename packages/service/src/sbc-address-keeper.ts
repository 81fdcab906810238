/**
 * The SBC's public addresses (from what the engine reports, `publicAddresses`) go into
 * `sbc_addresses` (read by the portal and the api-server), refreshed and cleaned periodically.
 * jambonz's sbc-inbound and sbc-sip-sidecar both do it; so do sbc-inbound and sbc-registrar here.
 */
import { addSbcAddress, cleanSbcAddresses, type Db } from '@sbc/db';
import type { EngineInfo } from './drachtio/connection.js';
import { publicAddresses, type PublicAddress } from './drachtio/addresses.js';
import type { Logger } from './logger.js';
import { createPeriodicTask } from './periodic-task.js';

export interface SbcAddressKeeperOptions {
  /** SBC_PUBLIC_ADDRESS_KEEP_ALIVE_IN_MILISECOND (900 000). */
  keepAliveMs: number;
  /** DEAD_SBC_IN_SECOND (3600): rows not refreshed for this long are deleted. */
  deadSeconds: number;
}

/** Upserts the public addresses now and every `keepAliveMs`, and deletes rows older than `deadSeconds`. */
export class SbcAddressKeeper {
  private addresses: PublicAddress[] = [];
  private readonly task;

  constructor(
    private readonly db: Db,
    private readonly options: SbcAddressKeeperOptions,
    private readonly logger: Logger,
    /** Each upsert's result (for a metric). */
    private readonly onUpsert: (result: 'ok' | 'error') => void = () => undefined,
  ) {
    this.task = createPeriodicTask({
      intervalMs: options.keepAliveMs,
      run: () => this.refresh(),
      onError: (err) => logger.warn({ err }, 'cannot refresh SBC addresses'),
    });
  }

  /** (Re)starts with the engine's addresses; resolves after the first refresh. */
  async start(engine: EngineInfo): Promise<void> {
    this.addresses = publicAddresses(engine.hostports);
    this.task.start();
    await this.task.runNow();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One round: upsert every public address, then clean stale rows. Never rejects. */
  async refresh(): Promise<void> {
    for (const address of this.addresses) {
      try {
        await addSbcAddress(this.db, address);
        this.onUpsert('ok');
      } catch (err) {
        this.onUpsert('error');
        this.logger.warn({ err, address }, 'cannot record the public SBC address');
      }
    }
    try {
      const removed = await cleanSbcAddresses(this.db, this.options.deadSeconds);
      if (removed > 0) this.logger.info({ removed }, 'removed stale SBC addresses');
    } catch (err) {
      this.logger.warn({ err }, 'cannot clean stale SBC addresses');
    }
  }
}
