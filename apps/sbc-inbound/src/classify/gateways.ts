import { isIP } from 'node:net';
import {
  lookupCarrierBySid,
  lookupInboundGateways,
  lookupSipGatewaysByCarrier,
  type CarrierGateway,
  type CarrierSummary,
  type InboundGatewayScope,
  type SipGateway,
  type VoipCarrier,
} from '@sbc/db';
import type { ClassifyDeps, MatchedCarrier } from './types.js';

/** An IPv4-mapped IPv6 source (`::ffff:127.0.0.2`) as the IPv4 address it is. */
export function unmapIpv4(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] !== undefined && isIP(mapped[1]) === 4 ? mapped[1] : address;
}

/** A gateway row for one address (jambonz: netmask 32; IPv6 also 128) rather than a range. */
function isSingleAddress(gateway: SipGateway): boolean {
  return !gateway.ipv4.includes('/') && (gateway.netmask === 32 || gateway.netmask === 128);
}

/** The carrier columns a gateway match carries, from a full carrier row. */
export function carrierSummary(carrier: VoipCarrier): CarrierSummary {
  return {
    voip_carrier_sid: carrier.voip_carrier_sid,
    name: carrier.name,
    account_sid: carrier.account_sid,
    service_provider_sid: carrier.service_provider_sid,
    application_sid: carrier.application_sid,
    is_active: carrier.is_active,
    trunk_type: carrier.trunk_type,
    requires_register: carrier.requires_register,
    register_username: carrier.register_username,
    register_password: carrier.register_password,
    dtmf_type: carrier.dtmf_type,
  };
}

/**
 * Ranked gateway matches (best first) down to carriers, each with its best gateway: jambonz
 * "winnows down to voip_carriers, not gateways" keeping the order of the gateways.
 */
export function carriersOf(gateways: readonly CarrierGateway[], match?: 'registration'): MatchedCarrier[] {
  const seen = new Map<string, MatchedCarrier>();
  for (const { carrier, ...gateway } of gateways) {
    if (seen.has(carrier.voip_carrier_sid)) continue;
    seen.set(carrier.voip_carrier_sid, {
      carrier,
      gateway,
      match: match ?? (isSingleAddress(gateway) ? 'exact' : 'cidr'),
    });
  }
  return [...seen.values()];
}

/**
 * Carriers of registration trunks whose gateway address the regbot saw (`eph-gw-ip:<ip>` in Redis),
 * each with one of its gateways (jambonz loads them by carrier, whatever their address or direction).
 * Inactive or unknown carriers, and carriers without a gateway row, are left out.
 */
async function ephemeralCarriers(deps: ClassifyDeps, address: string): Promise<MatchedCarrier[]> {
  const sids = await deps.ephemeralGateways.query(unmapIpv4(address), (deps.now ?? Date.now)());
  const matched = await Promise.all(
    sids.map(async (sid): Promise<MatchedCarrier | undefined> => {
      const [carrier, gateways] = await Promise.all([
        lookupCarrierBySid(deps.db, sid),
        lookupSipGatewaysByCarrier(deps.db, sid),
      ]);
      const gateway = gateways.find((g) => g.is_active) ?? gateways[0];
      if (!carrier?.is_active || !gateway) return undefined;
      return { carrier: carrierSummary(carrier), gateway, match: 'ephemeral' };
    }),
  );
  return matched.filter((m) => m !== undefined);
}

/**
 * Carriers that may send from `address`: inbound gateways covering it (exact address before
 * ranges, most specific range first; `scope` narrows the carriers), else the ephemeral gateways
 * of registration trunks (never scoped, as in jambonz).
 */
export async function carriersAt(
  deps: ClassifyDeps,
  address: string,
  scope?: InboundGatewayScope,
): Promise<MatchedCarrier[]> {
  const matched = carriersOf(await lookupInboundGateways(deps.db, address, scope));
  if (matched.length > 0) return matched;
  const ephemeral = await ephemeralCarriers(deps, address);
  if (ephemeral.length > 0) {
    deps.logger?.info(
      { source: address, carriers: ephemeral.map((m) => m.carrier.voip_carrier_sid) },
      'source matched ephemeral gateway(s) of registration trunks',
    );
  }
  return ephemeral;
}
