import type {
  Account,
  AccountWithHook,
  CarrierSummary,
  Db,
  PhoneNumberMatch,
  SipGateway,
  VoipCarrier,
} from '@sbc/db';
import type { EphemeralGateways } from '@sbc/redis';

/** What the classification reads from an INVITE. */
export interface ClassifyInput {
  /** The transport source (trusted; never X-Forwarded-For). */
  source: { address: string; port: number };
  /** The parsed Request-URI. */
  requestUri: { user?: string; host: string };
  /** The called number: Request-URI user, leading `+` stripped, `anonymous` when empty. */
  did: string;
  /** X-Application-Sid as received (read before it is stripped): the loop guard. */
  incomingApplicationSid?: string;
  /** A multipart SIPREC INVITE: routed to the account's `siprec_hook_sid`. */
  siprec: boolean;
}

/** A set of networks; `contains` is true for an address inside any of them. */
export interface NetworkSet {
  contains(address: string): boolean;
}

/** pino-compatible subset. */
export interface ClassifyLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface ClassifyDeps {
  db: Db;
  ephemeralGateways: Pick<EphemeralGateways, 'query'>;
  /** MS_TEAMS_SIP_PROXY_IPS plus Microsoft's ranges (see `teamsProxyNetworks`). */
  teamsProxyIps: NetworkSet;
  /** SBC_ACCOUNT_SID: a dedicated SBC takes device calls for this account only. */
  sbcAccountSid?: string;
  /** Retry-After of the 503 answered when MySQL or Redis fails (default 5). */
  retryAfterSeconds?: number;
  /** Clock in ms (ephemeral gateway expiry); default Date.now. */
  now?: () => number;
  logger?: ClassifyLogger;
}

/** How the source address was recognised as a carrier's. */
export type GatewayMatch = 'exact' | 'cidr' | 'ephemeral' | 'registration';

interface TrunkCommon {
  originator: 'trunk';
  carrier: CarrierSummary;
  /** The account the call is routed to. */
  account: AccountWithHook;
  /** The application (the SIPREC hook for SIPREC INVITEs); undefined lets the feature server decide. */
  applicationSid: string | undefined;
  serviceProviderSid: string;
  /** The phone_numbers row that routed the DID, when one did. */
  number?: PhoneNumberMatch;
}

/** A call from a carrier recognised by its source address (or an auth trunk, after digest). */
export type TrunkClassification = TrunkCommon &
  (
    | { match: GatewayMatch; gateway: SipGateway }
    /** An auth trunk (§2.2 step 6): recognised by its credentials, no gateway. */
    | { match: 'auth'; gateway: undefined }
  );

export interface TeamsClassification {
  originator: 'teams';
  /** The Request-URI host. */
  tenantFqdn: string;
  account: AccountWithHook;
  applicationSid: string;
  serviceProviderSid: string;
}

export interface UserClassification {
  originator: 'user';
  /** The account whose realm (or parent realm) is the Request-URI host; digest auth comes next. */
  account: AccountWithHook;
  /** The Request-URI host. */
  realm: string;
  /** `accounts.device_calling_application_sid`. */
  applicationSid: string | undefined;
  serviceProviderSid: string;
  /** Active auth trunks of the account and the SP-wide ones (digest may identify one of them). */
  authTrunks: VoipCarrier[];
}

export type Classification = TrunkClassification | TeamsClassification | UserClassification;

/** A carrier as matched by its source: the carrier and the best gateway of it. */
export interface MatchedCarrier {
  carrier: CarrierSummary;
  gateway: SipGateway;
  match: GatewayMatch;
}

/** A carrier call decided by a classification step, before the loop, SIPREC and is_active checks. */
export interface CarrierRoute extends MatchedCarrier {
  /** The account routed to (loaded when already known). */
  accountSid: string;
  account?: AccountWithHook;
  applicationSid: string | undefined;
  number?: PhoneNumberMatch;
}

export type { Account };
