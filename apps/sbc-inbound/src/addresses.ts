/**
 * This SBC's addresses, from what the engine reports (reference §2.1): its private SIP addresses
 * join `<cluster>:active-sip` (feature servers and rtpengine sidecars send their OPTIONS there) and
 * leave it when the app drains; its public addresses are kept in `sbc_addresses` (@sbc/service's
 * SbcAddressKeeper, as sbc-registrar does).
 */
import type { Db } from '@sbc/db';
import type { ServerSets } from '@sbc/redis';
import {
  privateSipAddresses,
  publicAddresses,
  SbcAddressKeeper,
  type EngineInfo,
  type Logger,
  type SbcAddressKeeperOptions,
} from '@sbc/service';

export interface SbcAddressOptions extends SbcAddressKeeperOptions {
  /** Upsert public addresses into sbc_addresses (not on a dedicated SBC_ACCOUNT_SID instance). */
  record: boolean;
}

export class SbcAddresses {
  private joined: string[] = [];
  private publicIp: string | undefined;
  private readonly keeper: SbcAddressKeeper;

  constructor(
    db: Db,
    private readonly sets: ServerSets,
    private readonly logger: Logger,
    private readonly options: SbcAddressOptions,
  ) {
    this.keeper = new SbcAddressKeeper(db, options, logger);
  }

  /** The first public address (this SBC's `host` in CDRs). */
  publicAddress(): string | undefined {
    return this.publicIp;
  }

  /** (Re)starts from the engine's addresses; joins active-sip unless `join` is false (draining). */
  async start(engine: EngineInfo, networkCidrs: readonly string[], join: boolean): Promise<void> {
    this.publicIp = publicAddresses(engine.hostports)[0]?.ipv4;
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
    // Not awaited: a hung MySQL must not hold up the start (the keeper logs its failures).
    if (this.options.record) void this.keeper.start(engine);
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

  stop(): Promise<void> {
    return this.keeper.stop();
  }
}
