/**
 * The SBC's own addresses, from what the engine reports when srf connects: the public ones go into
 * `sbc_addresses` (read by the portal and the api-server), refreshed and cleaned periodically; the
 * private one (tcp, inside JAMBONES_NETWORK_CIDR) is stored on registrations for cross-SBC redirects.
 */
import { addSbcAddress, cleanSbcAddresses, ipv4InAnyCidr, type Db } from '@sbc/db';
import type { EngineHostport, EngineInfo, Logger } from '@sbc/service';
import type { RegistrarMetrics } from './metrics.js';

/** RFC 1918: jambonz publishes every IPv4 address outside these. */
const PRIVATE_RANGES = '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16';

export interface PublicAddress {
  ipv4: string;
  port: number;
  tls_port: number | null;
  wss_port: number | null;
}

const isIpv4 = (host: string): boolean => /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host);

/**
 * jambonz's grouping: per IPv4 address of a udp, tls or wss listener outside RFC 1918, the udp port
 * (5060 when that address has no udp listener), the tls port and the wss port.
 */
export function publicAddresses(hostports: readonly EngineHostport[]): PublicAddress[] {
  const byIp = new Map<string, PublicAddress>();
  for (const hp of hostports) {
    if (!isIpv4(hp.host) || ipv4InAnyCidr(hp.host, PRIVATE_RANGES)) continue;
    if (!['udp', 'tls', 'wss'].includes(hp.protocol)) continue;
    const entry = byIp.get(hp.host) ?? { ipv4: hp.host, port: 5060, tls_port: null, wss_port: null };
    if (hp.protocol === 'udp') entry.port = hp.port;
    if (hp.protocol === 'tls') entry.tls_port = hp.port;
    if (hp.protocol === 'wss') entry.wss_port = hp.port;
    byIp.set(hp.host, entry);
  }
  return [...byIp.values()];
}

/**
 * The first tcp address inside the private network (`ip:port`): from the engine's bound addresses,
 * else its advertised ones (jambonz's privateSipAddress).
 */
export function privateSipAddress(engine: EngineInfo, networkCidrs: readonly string[]): string | undefined {
  const cidrs = networkCidrs.join(',');
  const pick = (list: readonly EngineHostport[]) =>
    list.find((hp) => hp.protocol === 'tcp' && isIpv4(hp.host) && ipv4InAnyCidr(hp.host, cidrs));
  const found = pick(engine.localHostports) ?? pick(engine.hostports);
  return found ? `${found.host}:${found.port}` : undefined;
}

/** Upserts the public addresses now and every `keepAliveMs`, and deletes rows older than `deadSeconds`. */
export class SbcAddressKeeper {
  private timer: NodeJS.Timeout | undefined;
  private addresses: PublicAddress[] = [];

  constructor(
    private readonly db: Db,
    private readonly options: { keepAliveMs: number; deadSeconds: number },
    private readonly logger: Logger,
    private readonly metrics: RegistrarMetrics,
  ) {}

  /** (Re)starts with the engine's addresses; resolves after the first refresh. */
  async start(engine: EngineInfo): Promise<void> {
    this.addresses = publicAddresses(engine.hostports);
    this.stop();
    this.timer = setInterval(() => void this.refresh(), this.options.keepAliveMs);
    this.timer.unref();
    await this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
