/**
 * Step 2: who the call is from and for, as the rest of the pipeline needs it: the classification
 * (src/classify, reference §2.3) turned into the account, application and identity headers of the call.
 */
import type { AccountWithHook, DtmfType, VoipCarrier } from '@sbc/db';
import type { EphemeralGateways } from '@sbc/redis';
import type { Logger } from '@sbc/service';
import {
  classifyAuthTrunkCall,
  classifyInvite,
  type Classification,
  type ClassifyDeps,
} from './classify/index.js';
import type { CallIdentity } from './headers.js';
import type { InboundInvite } from './invite.js';

export interface RouteDeps {
  db: ClassifyDeps['db'];
  ephemeralGateways: Pick<EphemeralGateways, 'query'>;
  isTeams: (address: string) => boolean;
  sbcAccountSid: string | undefined;
  retryAfterSeconds: number;
}

export interface CallRoute extends CallIdentity {
  originator: 'trunk' | 'teams' | 'user';
  serviceProviderSid: string;
  /** The CDR's `trunk`: the carrier name, 'Microsoft Teams' or 'user'. */
  trunk: string;
  /** sip_gateways.pad_crypto of the carrier's gateway. */
  padCrypto: boolean;
  /** accounts.disable_cdrs. */
  disableCdrs: boolean;
  /** voip_carriers.dtmf_type of the carrier (`rfc2833` for Teams and devices). */
  dtmfType: DtmfType;
  /** Device calls before authentication: the realm challenged, the account and its auth trunks. */
  device?: { realm: string; account: AccountWithHook; authTrunks: VoipCarrier[] };
}

function classifyDeps(deps: RouteDeps, log: Logger): ClassifyDeps {
  return {
    db: deps.db,
    ephemeralGateways: deps.ephemeralGateways,
    teamsProxyIps: { contains: deps.isTeams },
    retryAfterSeconds: deps.retryAfterSeconds,
    logger: log,
    ...(deps.sbcAccountSid !== undefined && { sbcAccountSid: deps.sbcAccountSid }),
  };
}

export function routeOf(c: Classification): CallRoute {
  const common = {
    accountSid: c.account.account_sid,
    serviceProviderSid: c.serviceProviderSid,
    applicationSid: c.applicationSid,
    disableCdrs: Boolean(c.account.disable_cdrs),
  };
  switch (c.originator) {
    case 'trunk':
      return {
        ...common,
        originator: 'trunk',
        carrier: { name: c.carrier.name, voipCarrierSid: c.carrier.voip_carrier_sid },
        trunk: c.carrier.name,
        padCrypto: Boolean(c.gateway?.pad_crypto),
        dtmfType: c.carrier.dtmf_type ?? 'rfc2833',
      };
    case 'teams':
      return {
        ...common,
        originator: 'teams',
        carrier: { name: 'Microsoft Teams', voipCarrierSid: undefined },
        teamsTenantFqdn: c.tenantFqdn,
        trunk: 'Microsoft Teams',
        padCrypto: false,
        dtmfType: 'rfc2833',
      };
    case 'user':
      return {
        ...common,
        originator: 'user',
        trunk: 'user',
        padCrypto: false,
        dtmfType: 'rfc2833',
        device: { realm: c.realm, account: c.account, authTrunks: c.authTrunks },
      };
  }
}

export async function routeCall(deps: RouteDeps, invite: InboundInvite, log: Logger): Promise<CallRoute> {
  const classification = await classifyInvite(classifyDeps(deps, log), {
    source: invite.source,
    requestUri: {
      host: invite.requestUri.host,
      ...(invite.requestUri.user !== undefined && { user: invite.requestUri.user }),
    },
    did: invite.did,
    siprec: invite.siprec !== undefined,
    ...(invite.incomingApplicationSid !== undefined && {
      incomingApplicationSid: invite.incomingApplicationSid,
    }),
  });
  return routeOf(classification);
}

/** §2.2 step 6: a device that authenticated as an auth trunk is that carrier's call. */
export async function routeAuthTrunkCall(
  deps: RouteDeps,
  log: Logger,
  trunk: VoipCarrier,
  invite: InboundInvite,
  account: AccountWithHook,
): Promise<CallRoute> {
  return routeOf(await classifyAuthTrunkCall(classifyDeps(deps, log), trunk, invite.did, account));
}
