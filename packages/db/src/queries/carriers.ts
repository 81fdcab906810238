import type { Db } from '../db.js';
import { DbConfigError } from '../errors.js';
import { columns } from '../sql.js';
import type { SipGateway, VoipCarrier } from '../types.js';
import { SIP_GATEWAY_COLUMNS } from './gateways.js';

export const VOIP_CARRIER_COLUMNS = [
  'voip_carrier_sid',
  'name',
  'description',
  'account_sid',
  'service_provider_sid',
  'application_sid',
  'e164_leading_plus',
  'requires_register',
  'register_username',
  'register_sip_realm',
  'register_password',
  'register_from_user',
  'register_from_domain',
  'register_public_ip_in_contact',
  'register_status',
  'tech_prefix',
  'inbound_auth_username',
  'inbound_auth_password',
  'diversion',
  'is_active',
  'dtmf_type',
  'outbound_sip_proxy',
  'trunk_type',
] as const satisfies readonly (keyof VoipCarrier)[];

const SELECT_CARRIER = `SELECT ${columns<VoipCarrier>('vc', VOIP_CARRIER_COLUMNS)} FROM voip_carriers vc`;

/** The carrier with this sid (active or not). */
export async function lookupCarrierBySid(db: Db, voipCarrierSid: string): Promise<VoipCarrier | undefined> {
  const rows = await db.cachedSelect<VoipCarrier>(`${SELECT_CARRIER} WHERE vc.voip_carrier_sid = ?`, [
    voipCarrierSid,
  ]);
  return rows[0];
}

/** Every carrier that is SP-wide or belongs to an active account (jambonz's lookupAllVoipCarriers). */
export async function lookupAllVoipCarriers(db: Db): Promise<VoipCarrier[]> {
  return db.cachedSelect<VoipCarrier>(
    `${SELECT_CARRIER}
      WHERE vc.account_sid IS NULL OR vc.account_sid IN (SELECT account_sid FROM accounts WHERE is_active = 1)
      ORDER BY vc.name, vc.voip_carrier_sid`,
  );
}

/** A carrier we register to, with the gateways to send the REGISTERs to. */
export interface RegistrationCarrier {
  carrier: VoipCarrier;
  /** `accounts.sip_realm` of an account-level carrier (the Contact host jambonz uses); null for SP-wide carriers. */
  account_sip_realm: string | null;
  /** Outbound, active gateways. */
  gateways: SipGateway[];
}

/**
 * Carriers that require outbound registration: `requires_register` and active, SP-wide or of an
 * active account, each with its outbound active gateways (carriers without any are left out).
 */
export async function lookupCarriersRequiringRegistration(db: Db): Promise<RegistrationCarrier[]> {
  const carriers = await db.cachedSelect<VoipCarrier & { account_sip_realm: string | null }>(
    `SELECT ${columns<VoipCarrier>('vc', VOIP_CARRIER_COLUMNS)}, acc.sip_realm AS account_sip_realm
       FROM voip_carriers vc LEFT JOIN accounts acc ON vc.account_sid = acc.account_sid
      WHERE vc.requires_register = 1 AND vc.is_active = 1 AND (vc.account_sid IS NULL OR acc.is_active = 1)
      ORDER BY vc.voip_carrier_sid`,
  );
  if (carriers.length === 0) return [];
  const gateways = await db.cachedSelect<SipGateway>(
    `SELECT ${columns<SipGateway>('sg', SIP_GATEWAY_COLUMNS)} FROM sip_gateways sg
      WHERE sg.voip_carrier_sid IN (?) AND sg.outbound = 1 AND sg.is_active = 1
      ORDER BY sg.ipv4, sg.port, sg.sip_gateway_sid`,
    [carriers.map((c) => c.voip_carrier_sid)],
  );
  return carriers
    .map(({ account_sip_realm, ...carrier }) => ({
      carrier,
      account_sip_realm,
      gateways: gateways.filter((g) => g.voip_carrier_sid === carrier.voip_carrier_sid),
    }))
    .filter((c) => c.gateways.length > 0);
}

/**
 * Active carriers that register with `username` at `sipRealm`: after registering, such a carrier
 * sends INVITEs to `sip:<register_username>@<register_sip_realm>`.
 */
export async function lookupCarriersByRegistration(
  db: Db,
  registration: { sipRealm: string; username: string },
): Promise<VoipCarrier[]> {
  return db.cachedSelect<VoipCarrier>(
    `${SELECT_CARRIER}
      WHERE vc.requires_register = 1 AND vc.is_active = 1 AND vc.register_sip_realm = ? AND vc.register_username = ?
      ORDER BY vc.voip_carrier_sid`,
    [registration.sipRealm, registration.username],
  );
}

/**
 * Active auth trunks (`trunk_type = 'auth'`, digest with inbound_auth_username/password) of an
 * account, plus the service provider's auth trunks for all accounts.
 */
export async function lookupAuthTrunks(
  db: Db,
  scope: { accountSid: string; serviceProviderSid: string },
): Promise<VoipCarrier[]> {
  return db.cachedSelect<VoipCarrier>(
    `${SELECT_CARRIER}
      WHERE vc.trunk_type = 'auth' AND vc.is_active = 1
        AND (vc.account_sid = ? OR (vc.service_provider_sid = ? AND vc.account_sid IS NULL))
      ORDER BY vc.account_sid IS NULL, vc.voip_carrier_sid`,
    [scope.accountSid, scope.serviceProviderSid],
  );
}

/** What regbot stores in `voip_carriers.register_status` after each outbound REGISTER. */
export interface RegisterStatus {
  status: 'ok' | 'fail';
  /** `<code> <reason phrase>`, or the error text. */
  reason: string;
  cseq?: number;
  callId?: string;
  /** ISO 8601; set to now when absent. */
  timestamp?: string;
  expires?: number;
}

/** Writes `register_status` (JSON); false when no such carrier. */
export async function updateCarrierRegisterStatus(
  db: Db,
  voipCarrierSid: string,
  status: RegisterStatus,
): Promise<boolean> {
  const value = JSON.stringify({ ...status, timestamp: status.timestamp ?? new Date().toISOString() });
  const result = await db.execute('UPDATE voip_carriers SET register_status = ? WHERE voip_carrier_sid = ?', [
    value,
    voipCarrierSid,
  ]);
  return result.affectedRows > 0;
}

/** Reads `register_status` back as an object; undefined when unset or not JSON. */
export function parseRegisterStatus(
  carrier: Pick<VoipCarrier, 'register_status'>,
): RegisterStatus | undefined {
  if (!carrier.register_status) return undefined;
  try {
    const parsed = JSON.parse(carrier.register_status) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { status, reason } = parsed as Record<string, unknown>;
    if ((status !== 'ok' && status !== 'fail') || typeof reason !== 'string') return undefined;
    return parsed as RegisterStatus;
  } catch {
    return undefined;
  }
}

/** Carrier columns an SBC may change (regbot turns off `requires_register`, or `is_active` for reg trunks). */
export type VoipCarrierUpdate = Partial<Pick<VoipCarrier, 'requires_register' | 'is_active'>>;

const UPDATABLE_CARRIER_COLUMNS = ['requires_register', 'is_active'] as const;

/** Changes a carrier; false when no such carrier. */
export async function updateVoipCarrier(
  db: Db,
  voipCarrierSid: string,
  update: VoipCarrierUpdate,
): Promise<boolean> {
  const set = UPDATABLE_CARRIER_COLUMNS.filter((c) => update[c] !== undefined);
  if (set.length === 0) throw new DbConfigError('updateVoipCarrier: nothing to update');
  const result = await db.execute(
    `UPDATE voip_carriers SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE voip_carrier_sid = ?`,
    [...set.map((c) => update[c] as boolean), voipCarrierSid],
  );
  return result.affectedRows > 0;
}
