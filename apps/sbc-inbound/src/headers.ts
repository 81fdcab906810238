/**
 * Step 7: the headers of the INVITE to the feature server and of the answers to the caller
 * (reference §2.7, DESIGN §4.5). Identity headers are ours alone: whatever the caller sent under
 * those names is dropped (case-insensitively: srf's own `-Header` lists miss lower-case spellings).
 */
import type { SipHeaders, SrfRequest, SrfResponse } from '@sbc/service';
import type { InboundInvite } from './invite.js';

/** Headers the SBC sets towards feature servers; never taken from outside. */
export const IDENTITY_HEADERS = [
  'X-Forwarded-For',
  'X-Subspace-Forwarded-For',
  'X-Forwarded-Carrier',
  'X-Originating-Carrier',
  'X-Account-Sid',
  'X-CID',
  'X-Voip-Carrier-Sid',
  'X-Application-Sid',
  'X-Authenticated-User',
  'X-MS-Teams-Tenant-FQDN',
] as const;

/** Never copied from the caller's INVITE: transaction and dialog headers srf writes, jambonz's strip list. */
const NOT_PROXIED = new Set([
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'content-length',
  'content-type',
  'authorization',
  'proxy-authorization',
  'max-forwards',
  'record-route',
  'route',
  'session-expires',
  'min-se',
  'rack',
  'rseq',
  ...IDENTITY_HEADERS.map((h) => h.toLowerCase()),
]);

/** Never copied from the feature server's responses to the caller. */
const NOT_RELAYED = new Set([
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'content-length',
  'content-type',
  'record-route',
  'rseq',
  'x-trace-id',
]);

const SPECIAL_NAMES: Record<string, string> = {
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'sip-etag': 'SIP-ETag',
  'x-cid': 'X-CID',
};

/** `p-asserted-identity` → `P-Asserted-Identity` (srf keeps header names in lower case). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return (
    SPECIAL_NAMES[lower] ??
    lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())
  );
}

function copyHeaders(headers: Readonly<Record<string, unknown>>, skip: ReadonlySet<string>): SipHeaders {
  const out: SipHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (skip.has(name.toLowerCase()) || typeof value !== 'string') continue;
    out[canonicalHeaderName(name)] = value;
  }
  return out;
}

/** Who the call is, for the feature server. */
export interface CallIdentity {
  accountSid: string;
  applicationSid: string | undefined;
  /** Carrier and Teams calls: the carrier name ('Microsoft Teams') and sid. */
  carrier?: { name: string; voipCarrierSid: string | undefined };
  /** Device calls: `user@realm`. */
  authenticatedUser?: string;
  teamsTenantFqdn?: string;
}

/** A display name as a quoted-string (RFC 3261 §25.1). */
function quoted(display: string): string {
  return `"${display.replace(/^"|"$/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

/** The headers of the INVITE to the feature server. */
export function featureServerHeaders(
  req: SrfRequest,
  invite: InboundInvite,
  identity: CallIdentity,
  privateSipAddress: string | undefined,
): SipHeaders {
  const headers = copyHeaders(req.headers, NOT_PROXIED);
  const from = req.getParsedHeader('From');
  const fromUser = /^sips?:([^@;>]+)@/i.exec(from.uri)?.[1] ?? 'anonymous';
  headers.From = `${from.name ? `${quoted(from.name)} ` : ''}<sip:${fromUser}@localhost>`;
  headers.To = req.get('To') ?? '';
  if (privateSipAddress) headers.Contact = `<sip:${privateSipAddress}>`;
  headers['X-Account-Sid'] = identity.accountSid;
  headers['X-CID'] = invite.callId;
  headers['X-Forwarded-For'] = invite.source.address;
  if (identity.carrier) {
    headers['X-Originating-Carrier'] = identity.carrier.name;
    headers['X-Forwarded-Carrier'] = identity.carrier.name;
    if (identity.carrier.voipCarrierSid) headers['X-Voip-Carrier-Sid'] = identity.carrier.voipCarrierSid;
  }
  if (identity.applicationSid) headers['X-Application-Sid'] = identity.applicationSid;
  if (identity.authenticatedUser) headers['X-Authenticated-User'] = identity.authenticatedUser;
  if (identity.teamsTenantFqdn) headers['X-MS-Teams-Tenant-FQDN'] = identity.teamsTenantFqdn;
  return headers;
}

/** How the SBC presents itself to the caller in its answers. */
export type CallerContact =
  /** The engine's own Contact for the transport the INVITE came in on. */
  | { kind: 'engine' }
  /** A caller inside the private VoIP network: the private SIP address. */
  | { kind: 'private'; address: string; protocol: string }
  /** Microsoft Teams: the tenant FQDN, with the Allow header Teams wants. */
  | { kind: 'teams'; tenantFqdn: string };

const TEAMS_ALLOW = 'INVITE, ACK, OPTIONS, CANCEL, BYE, NOTIFY, UPDATE, PRACK';

/** The headers of a response relayed to the caller: the feature server's, minus X-Trace-ID, plus our Contact. */
export function callerResponseHeaders(res: SrfResponse, contact: CallerContact): SipHeaders {
  const headers = copyHeaders(res.headers, NOT_RELAYED);
  if (contact.kind === 'private') {
    const scheme = contact.protocol === 'tls' ? 'sips' : 'sip';
    headers.Contact = `<${scheme}:${contact.address};transport=${contact.protocol}>`;
  } else if (contact.kind === 'teams') {
    headers.Contact = `<sip:${contact.tenantFqdn}>`;
    headers.Allow = TEAMS_ALLOW;
  }
  return headers;
}

/** Headers of an in-dialog request copied to the other leg (jambonz copies all but these). */
const NOT_FORWARDED_IN_DIALOG = new Set([
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'max-forwards',
  'content-length',
  'contact',
  'route',
  'record-route',
  'authorization',
  'proxy-authorization',
]);

export function inDialogHeaders(req: SrfRequest): SipHeaders {
  return copyHeaders(req.headers, NOT_FORWARDED_IN_DIALOG);
}
