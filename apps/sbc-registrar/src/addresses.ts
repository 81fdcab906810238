/**
 * The SBC's public addresses (from what the engine reports, @sbc/service `publicAddresses`) go
 * into `sbc_addresses` (read by the portal and the api-server), refreshed and cleaned periodically.
 */
import { addSbcAddress, cleanSbcAddresses, type Db } from '@sbc/db';
import {
  createPeriodicTask,
  publicAddresses,
  type EngineInfo,
  type Logger,
  type PublicAddress,
} from '@sbc/service';
import type { RegistrarMetrics } from './metrics.js';

/** Upserts the public addresses now and every `keepAliveMs`, and deletes rows older than `deadSeconds`. */
export class SbcAddressKeeper {
  private addresses: PublicAddress[] = [];
  private readonly task;

  constructor(
    private readonly db: Db,
    private readonly options: { keepAliveMs: number; deadSeconds: number },
    private readonly logger: Logger,
    private readonly metrics: RegistrarMetrics,
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
        this.metrics.sbcAddressRefreshes.inc({ result: 'ok' });
      } catch (err) {
        this.metrics.sbcAddressRefreshes.inc({ result: 'error' });
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
