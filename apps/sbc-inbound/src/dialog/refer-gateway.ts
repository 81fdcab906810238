/**
 * Where a feature server's transfer of a carrier call goes (reference §2.9): the carrier's outbound
 * gateway whose address is a DNS name (jambonz's getOutboundGatewayForRefer: an IP-only carrier has
 * none, and the caller's own address is used instead), with the carrier's `e164_leading_plus`.
 */
import { lookupCarrierBySid, lookupSipGatewaysByCarrier, type Db } from '@sbc/db';
import type { ReferGateway } from './refer.js';

export async function referGateway(db: Db, voipCarrierSid: string): Promise<ReferGateway | undefined> {
  const [carrier, gateways] = await Promise.all([
    lookupCarrierBySid(db, voipCarrierSid),
    lookupSipGatewaysByCarrier(db, voipCarrierSid),
  ]);
  const gateway = gateways.find((g) => g.outbound && /^[A-Za-z]/.test(g.ipv4));
  if (!carrier || !gateway) return undefined;
  return {
    host: gateway.ipv4,
    port: gateway.port ?? undefined,
    e164LeadingPlus: Boolean(carrier.e164_leading_plus),
  };
}
