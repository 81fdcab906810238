/**
 * In-dialog REFER (reference §2.9). From the caller: forwarded to the feature server with only
 * `Refer-To`, `Referred-By` and `User-Agent`, its status relayed back (the NOTIFYs that follow are
 * relayed like any NOTIFY). From the feature server: a transfer the caller carries out, with
 * jambonz's rewriting of an IP-address Refer-To (the carrier's DNS-named outbound gateway, else the
 * caller's own address), then relayed to the caller with the feature server's custom headers.
 *
 * A feature server's `context-…` Refer-To moves the call to that feature server (202, then a new leg).
 *
 * Teams' own transfer REFER is carried out by the SBC itself (dialog/teams-refer.ts).
 */
import { formatUri, isIpLiteral, parseSipUri, tryParseNameAddr, tryParseUri } from '@sbc/sip';
import { type Dialog, type Logger, type SipHeaders, type SrfRequest, type SrfResponse } from '@sbc/service';
import { inDialogHeaders } from '../headers.js';
import { carryOutTeamsRefer, teamsReferTarget, type TeamsReferDeps } from './teams-refer.js';

/** A carrier gateway a transfer goes to. */
export interface ReferGateway {
  host: string;
  port: number | undefined;
  /** voip_carriers.e164_leading_plus. */
  e164LeadingPlus: boolean;
}

export interface ReferDeps {
  log: Logger;
  caller: Dialog;
  featureServer: Dialog;
  /** Where the caller's INVITE came from (the transport source). */
  callerSource: { address: string; port: number };
  /** The carrier of a carrier call. */
  voipCarrierSid: string | undefined;
  /** The carrier's outbound gateway for transfers: a DNS-named one, as jambonz picks. */
  referGateway: (voipCarrierSid: string) => Promise<ReferGateway | undefined>;
  /**
   * Moves the call to the feature server at `uri` (a `context-…` Refer-To): a new leg there with the
   * current SDP and `headers`, rtpengine updated, the old leg hung up. Rejects when it could not.
   */
  moveToFeatureServer: (uri: string, headers: SipHeaders) => Promise<void>;
  /** A call from Microsoft Teams: its REFERs within Teams are carried out by the SBC. */
  teams?: Pick<TeamsReferDeps, 'teams' | 'replaceCallerLeg'>;
}

/** Headers of a `context-…` REFER carried to the new feature server (when present). */
const MOVE_HEADERS = ['X-Retain-Call-Sid', 'X-Account-Sid'];

/** Not taken from the feature server's REFER to the caller: the dialog's own and the ones the SBC writes. */
const NOT_COPIED_FROM_FS_REFER = ['refer-to', 'referred-by', 'x-refer-to-leave-untouched', 'content-type'];

function sendFinal(res: SrfResponse, status: number, reason?: string): void {
  if (res.finalResponseSent) return;
  if (reason) res.send(status, reason);
  else res.send(status);
}

/** The Refer-To header as a name-addr whose URI is a SIP URI; undefined when it is not one. */
function parseReferTo(value: string | undefined) {
  const nameAddr = value === undefined ? undefined : tryParseNameAddr(value);
  const sip = nameAddr ? parseSipUri(nameAddr.uri) : undefined;
  return nameAddr && sip ? { nameAddr, sip } : undefined;
}

/** A REFER from the caller: to the feature server with three headers only, the status back. */
export async function handleCallerRefer(deps: ReferDeps, req: SrfRequest, res: SrfResponse): Promise<void> {
  const referTo = req.get('Refer-To');
  if (!referTo || !tryParseNameAddr(referTo)) {
    deps.log.info({ referTo }, 'REFER from the caller without a usable Refer-To');
    sendFinal(res, 400, 'Missing or malformed Refer-To');
    return;
  }
  const teamsTarget = deps.teams ? teamsReferTarget(req) : undefined;
  if (deps.teams && teamsTarget) {
    await carryOutTeamsRefer({ ...deps.teams, log: deps.log, caller: deps.caller }, teamsTarget, res);
    return;
  }
  const headers: SipHeaders = { 'Refer-To': referTo };
  for (const name of ['Referred-By', 'User-Agent']) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }
  try {
    const answer = await deps.featureServer.request({ method: 'REFER', headers });
    deps.log.info({ referTo, status: answer.status }, 'REFER from the caller relayed to the feature server');
    sendFinal(res, answer.status, answer.reason);
  } catch (err) {
    deps.log.info({ err: String(err) }, 'REFER from the caller not relayed');
    sendFinal(res, 500);
  }
}

export interface ReferToRewrite {
  /** The carrier's gateway, when the call came from a carrier that has a DNS-named outbound one. */
  gateway: ReferGateway | undefined;
  callerSource: { address: string; port: number };
}

/**
 * jambonz's rewrite of a feature server's Refer-To URI: an IP-address host becomes the carrier
 * gateway (with `+` before the user when the carrier wants E.164 with a leading plus), else the
 * caller's source address and port. A host name is left as it is. Parameters and headers of the
 * URI are kept.
 */
export function rewriteReferToUri(uri: string, rewrite: ReferToRewrite): string {
  const parsed = tryParseUri(uri.trim());
  if (!parsed || (parsed.scheme !== 'sip' && parsed.scheme !== 'sips') || !isIpLiteral(parsed.host))
    return uri;
  const { gateway, callerSource } = rewrite;
  if (gateway) {
    parsed.host = gateway.host;
    parsed.port = gateway.port;
    if (gateway.e164LeadingPlus && parsed.user !== undefined && !parsed.user.startsWith('+')) {
      parsed.user = `+${parsed.user}`;
    }
  } else {
    parsed.host = callerSource.address;
    parsed.port = callerSource.port;
  }
  return formatUri(parsed);
}

/** A REFER from the feature server: a move to another feature server (`context-…`) or a transfer for the caller. */
export async function handleFeatureServerRefer(
  deps: ReferDeps,
  req: SrfRequest,
  res: SrfResponse,
): Promise<void> {
  const parsed = parseReferTo(req.get('Refer-To'));
  if (!parsed) {
    sendFinal(res, 400, 'Missing or malformed Refer-To');
    return;
  }
  if (parsed.sip.user?.startsWith('context-')) {
    // Move the call to another feature server (jambonz: 202 first, whatever happens next).
    sendFinal(res, 202);
    const headers: SipHeaders = {};
    for (const name of MOVE_HEADERS) {
      const value = req.get(name);
      if (value !== undefined) headers[name] = value;
    }
    try {
      await deps.moveToFeatureServer(parsed.nameAddr.uri, headers);
      deps.log.info({ referTo: parsed.nameAddr.uri }, 'call moved to another feature server');
    } catch (err) {
      deps.log.warn(
        { referTo: parsed.nameAddr.uri, err: String(err) },
        'call not moved to the feature server',
      );
    }
    return;
  }
  const referredBy = req.get('Referred-By');
  if (!referredBy) {
    sendFinal(res, 400, 'Missing Referred-By');
    return;
  }
  try {
    let uri = parsed.nameAddr.uri;
    if (!req.has('X-Refer-To-Leave-Untouched') && isIpLiteral(parsed.sip.host)) {
      const gateway = deps.voipCarrierSid ? await deps.referGateway(deps.voipCarrierSid) : undefined;
      uri = rewriteReferToUri(uri, { gateway, callerSource: deps.callerSource });
    }
    const headers = inDialogHeaders(req);
    for (const name of Object.keys(headers))
      if (NOT_COPIED_FROM_FS_REFER.includes(name.toLowerCase())) delete headers[name];
    const answer = await deps.caller.request({
      method: 'REFER',
      headers: {
        ...headers,
        'Refer-To': `<${uri}>`,
        'Referred-By': referredBy,
        Contact: deps.caller.local.contact,
      },
    });
    deps.log.info(
      { referTo: uri, status: answer.status },
      'REFER from the feature server relayed to the caller',
    );
    sendFinal(res, answer.status, answer.reason);
  } catch (err) {
    deps.log.info({ err: String(err) }, 'REFER from the feature server not relayed');
    sendFinal(res, 500);
  }
}
