/**
 * Which outbound registrations to run and what each REGISTER looks like (jambonz sbc-sip-sidecar's
 * regbot rules, reference §3.5): one per outbound, active gateway of each carrier that requires
 * registration, de-duplicated by gateway address + realm + credentials.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { RegistrationCarrier, SipGateway, TrunkType } from '@sbc/db';
import type { EngineHostport } from '@sbc/service';

export type RegbotTransport = 'udp' | 'tcp' | 'tls';

/** Everything one outbound registration needs; `configKey` changes whenever any of it does. */
export interface RegbotSpec {
  configKey: string;
  /** `ipv4:realm:username:password`: one registration per distinct key (jambonz). */
  dedupeKey: string;
  carrierSid: string;
  carrierName: string;
  trunkType: TrunkType;
  gatewaySid: string;
  gateway: { host: string; port: number | null; transport: RegbotTransport };
  /** Request-URI: `<scheme>:<sip_realm>`. */
  uri: string;
  /** Where the REGISTER goes: the outbound proxy or the gateway. */
  proxy: string;
  /** `user@domain` registered. */
  aor: string;
  from: string;
  contact: string;
  auth: { username: string; password: string };
  defaultExpires: number;
}

export interface SpecContext {
  /** JAMBONES_REGBOT_DEFAULT_EXPIRES_INTERVAL. */
  defaultExpires: number;
  /** JAMBONES_REGBOT_CONTACT_USE_IP. */
  contactUseIp: boolean;
  /** system_information.sip_domain_name. */
  sipDomainName: string | undefined;
  /** The engine's advertised (public) SIP addresses. */
  hostports: readonly EngineHostport[];
}

export interface SpecProblem {
  carrierSid: string;
  gatewaySid: string;
  message: string;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

const validHost = (host: string): boolean => isIP(host) !== 0 || HOSTNAME.test(host);

/** `sip_gateways.protocol` lower-cased, before any `/` (`tls/srtp` → tls); udp when unset. */
export function transportOf(gateway: Pick<SipGateway, 'protocol'>): RegbotTransport {
  const t = (gateway.protocol ?? 'udp').toLowerCase().split('/')[0];
  return t === 'tcp' || t === 'tls' ? t : 'udp';
}

/** `host:port` of the engine's listener for `transport`; TLS defaults to the udp address, port 5061. */
export function publicHostport(hostports: readonly EngineHostport[], transport: RegbotTransport) {
  const format = (hp: { host: string; port: number }) =>
    `${hp.host.includes(':') ? `[${hp.host}]` : hp.host}:${hp.port}`;
  const exact = hostports.find((hp) => hp.protocol === transport);
  if (exact) return format(exact);
  const udp = hostports.find((hp) => hp.protocol === 'udp');
  if (!udp) return undefined;
  return format(transport === 'tls' ? { host: udp.host, port: 5061 } : udp);
}

function specFor(
  entry: RegistrationCarrier,
  gateway: SipGateway,
  context: SpecContext,
): RegbotSpec | SpecProblem {
  const { carrier } = entry;
  const problem = (message: string): SpecProblem => ({
    carrierSid: carrier.voip_carrier_sid,
    gatewaySid: gateway.sip_gateway_sid,
    message,
  });
  const transport = transportOf(gateway);
  const scheme = transport === 'tls' && gateway.use_sips_scheme ? 'sips' : 'sip';
  const sipRealm = carrier.register_sip_realm || gateway.ipv4;
  if (!validHost(sipRealm)) return problem(`invalid register_sip_realm ${sipRealm}`);
  const username = carrier.register_username ?? '';
  const password = carrier.register_password ?? '';
  const fromUser = carrier.register_from_user || username;
  const fromDomain = carrier.register_from_domain || sipRealm;
  if (!validHost(fromDomain)) return problem(`invalid register_from_domain ${fromDomain}`);
  if (!fromUser) return problem('no register_username or register_from_user');

  const proxy = carrier.outbound_sip_proxy
    ? `sip:${carrier.outbound_sip_proxy.replace(/^sips?:/i, '')};transport=${transport}`
    : `sip:${gateway.ipv4}${isIP(gateway.ipv4) !== 0 && gateway.port ? `:${gateway.port}` : ''};transport=${transport}`;

  let contactHost: string;
  const publicAddress = publicHostport(context.hostports, transport);
  if ((carrier.register_public_ip_in_contact || context.contactUseIp) && publicAddress) {
    contactHost = publicAddress;
  } else if (entry.account_sip_realm) {
    contactHost = entry.account_sip_realm;
  } else if (context.sipDomainName) {
    contactHost = context.sipDomainName;
  } else {
    contactHost = fromDomain;
  }

  const aor = `${fromUser}@${fromDomain}`;
  const spec: Omit<RegbotSpec, 'configKey'> = {
    dedupeKey: `${gateway.ipv4}:${sipRealm}:${username}:${password}`,
    carrierSid: carrier.voip_carrier_sid,
    carrierName: carrier.name,
    trunkType: carrier.trunk_type,
    gatewaySid: gateway.sip_gateway_sid,
    gateway: { host: gateway.ipv4, port: gateway.port, transport },
    uri: `${scheme}:${sipRealm}`,
    proxy,
    aor,
    from: `<sip:${aor}>`,
    contact: `<${scheme}:${fromUser}@${contactHost};transport=${transport}>;expires=${context.defaultExpires}`,
    auth: { username, password },
    defaultExpires: context.defaultExpires,
  };
  const configKey = createHash('md5')
    .update(JSON.stringify({ ...spec, account: carrier.account_sid, register: carrier.requires_register }))
    .digest('hex');
  return { ...spec, configKey };
}

/**
 * The registrations to run for `carriers` (each with its outbound active gateways). Gateways of a
 * carrier without a register_password are skipped, as jambonz does; invalid realms or domains are
 * reported as problems and skipped.
 */
export function buildRegbotSpecs(
  carriers: readonly RegistrationCarrier[],
  context: SpecContext,
): { specs: RegbotSpec[]; problems: SpecProblem[] } {
  const specs: RegbotSpec[] = [];
  const problems: SpecProblem[] = [];
  const seen = new Set<string>();
  for (const entry of carriers) {
    if (!entry.carrier.register_password) continue;
    for (const gateway of entry.gateways) {
      const spec = specFor(entry, gateway, context);
      if ('message' in spec) {
        problems.push(spec);
        continue;
      }
      if (seen.has(spec.dedupeKey)) continue;
      seen.add(spec.dedupeKey);
      specs.push(spec);
    }
  }
  return { specs, problems };
}
