/**
 * The REFER Microsoft Teams sends on a transfer inside Teams (reference §2.9): from the Teams SIP
 * proxy (`User-Agent: Microsoft.PSTNHub.SIPProxy`) with `Refer-To: <sip:sip.pstnhub.microsoft.com…>`
 * and no user part. The SBC carries it out itself, as jambonz does, instead of handing it to the
 * feature server: 202, an INVITE to the Refer-To with the caller leg's SDP (rtpengine's), progress
 * reported to Teams in NOTIFYs (`message/sipfrag`, RFC 3515 §2.4.5), and once the new leg answers
 * it takes the old Teams leg's place in the call (which gets a BYE).
 */
import { tryParseNameAddr, tryParseUri } from '@sbc/sip';
import type { Dialog, Logger, ProgressCallbacks, SipHeaders, SrfRequest, SrfResponse } from '@sbc/service';
import { isSipError } from '@sbc/service';

export const MS_TEAMS_USER_AGENT = 'Microsoft.PSTNHub.SIPProxy';
export const MS_TEAMS_SIP_ENDPOINT = 'sip.pstnhub.microsoft.com';

/** The Teams side of a Teams call, for its REFERs. */
export interface TeamsCall {
  tenantFqdn: string;
  callingNumber: string;
  /** SBC_TEAMS_OUTBOUND_PROXY: where the SBC's own INVITEs towards Teams are sent (else DNS). */
  outboundProxy?: string;
}

/** The Refer-To URI when `req` is Teams' own transfer REFER, else undefined. */
export function teamsReferTarget(req: Pick<SrfRequest, 'get'>): string | undefined {
  if (!(req.get('User-Agent') ?? '').startsWith(MS_TEAMS_USER_AGENT)) return undefined;
  const referTo = tryParseNameAddr(req.get('Refer-To') ?? '');
  const uri = referTo ? tryParseUri(referTo.uri) : undefined;
  if (!referTo || !uri || !('host' in uri)) return undefined;
  if (uri.host.toLowerCase() !== MS_TEAMS_SIP_ENDPOINT || uri.user) return undefined;
  return referTo.uri;
}

export interface TeamsReferDeps {
  log: Logger;
  /** The Teams leg (the call's caller leg). */
  caller: Dialog;
  teams: TeamsCall;
  /**
   * Calls `uri` with the caller leg's SDP and `headers`; once answered, the new leg replaces the
   * caller leg in the call and the old leg (still up, its requests ignored) is resolved for its
   * last NOTIFY and BYE. Rejects when it is not answered.
   */
  replaceCallerLeg: (uri: string, headers: SipHeaders, progress: ProgressCallbacks) => Promise<Dialog>;
}

/** Carries out Teams' transfer REFER to `target` (from teamsReferTarget). */
export async function carryOutTeamsRefer(
  deps: TeamsReferDeps,
  target: string,
  res: SrfResponse,
): Promise<void> {
  const { teams, log } = deps;
  const notify = (status: number, reason: string, final: boolean, leg: Dialog = deps.caller) =>
    leg
      .request({
        method: 'NOTIFY',
        headers: {
          Event: 'refer',
          'Subscription-State': final ? 'terminated;reason=noresource' : 'active;expires=60',
          'Content-Type': 'message/sipfrag;version=2.0',
          Contact: `sip:${teams.tenantFqdn}`,
        },
        body: `SIP/2.0 ${status} ${reason}\r\n`,
      })
      .catch((err: unknown) => log.info({ err: String(err), status }, 'NOTIFY to Teams not answered'));

  res.send(202);
  const identity = `sip:${teams.callingNumber}@${teams.tenantFqdn}`;
  try {
    const old = await deps.replaceCallerLeg(
      target,
      { From: identity, Contact: identity },
      {
        cbRequest: (err) => {
          if (!err) void notify(100, 'Trying', false);
        },
        cbProvisional: (provisional) => {
          if (provisional.status > 100) void notify(provisional.status, provisional.reason ?? '', false);
        },
      },
    );
    log.info({ target }, 'Teams transfer carried out: the new Teams leg replaced the old one');
    await notify(200, 'OK', true, old);
    if (old.connected) await old.destroy().catch(() => undefined);
  } catch (err) {
    const status = isSipError(err) ? err.status : 500;
    const reason = isSipError(err) ? (err.reason ?? '') : 'Server Internal Error';
    log.info({ target, status, err: String(err) }, 'Teams transfer failed');
    await notify(status, reason, true);
  }
}
