/**
 * INVITE with `Replaces` (RFC 3891): an attended transfer on the caller's side. The transfer target
 * calls in naming the caller's dialog with the SBC; if this SBC holds that call, the new caller
 * takes the old caller's place in it (the feature server is re-INVITEd, the old caller gets a BYE).
 * The INVITE is classified and authenticated like any other first (RFC 3891 §7: the replacing
 * party must be allowed to), but it is no new call: it claims no call slot.
 */
import type { SrfRequest, SrfResponse } from '@sbc/service';
import { InboundAnswer } from './answers.js';

/** `Replaces: <call-id>;to-tag=<tag>;from-tag=<tag>[;early-only]` (RFC 3891 §6.1). */
export interface ReplacesTarget {
  callId: string;
  /** Compared with the SBC's (local) tag of the replaced dialog (RFC 3891 §3). */
  toTag: string;
  /** Compared with the caller's (remote) tag. */
  fromTag: string;
  earlyOnly: boolean;
}

/** 400: a Replaces header without a Call-ID or either tag. */
export class MalformedReplacesError extends InboundAnswer {
  override readonly name = 'MalformedReplacesError';
  readonly status = 400;
  readonly outcome = 'rejected';
  readonly reason = 'bad_replaces';
  override readonly reasonPhrase = 'Bad Replaces Header';
}

/** 404 (jambonz's answer): no call with that Call-ID on any sbc-inbound instance. */
export class ReplacedCallUnknownError extends InboundAnswer {
  override readonly name = 'ReplacedCallUnknownError';
  readonly status = 404;
  readonly outcome = 'not_found';
  readonly reason = 'replaced_call_unknown';
}

/** 481 (RFC 3891 §3): the Call-ID is known but the tags name another dialog. */
export class ReplacedDialogMismatchError extends InboundAnswer {
  override readonly name = 'ReplacedDialogMismatchError';
  readonly status = 481;
  readonly outcome = 'not_found';
  readonly reason = 'replaced_dialog_mismatch';
}

/** 486 (RFC 3891 §3): `early-only`, and the call was answered long ago. */
export class ReplacedCallAnsweredError extends InboundAnswer {
  override readonly name = 'ReplacedCallAnsweredError';
  readonly status = 486;
  readonly outcome = 'rejected';
  readonly reason = 'replaced_call_answered';
}

/**
 * 503: another sbc-inbound instance behind the same engine holds the call, and only it can change
 * its legs. The engine spreads INVITEs over its apps, so the caller's next attempt may reach it.
 */
export class ReplacedCallElsewhereError extends InboundAnswer {
  override readonly name = 'ReplacedCallElsewhereError';
  readonly status = 503;
  readonly outcome = 'unavailable';
  readonly reason = 'replaced_call_elsewhere';
  override readonly xReason = 'replaced call is held by another sbc-inbound instance';
  override headers(): Record<string, string> {
    return { 'Retry-After': '1' };
  }
}

/** The dialog a `Replaces` header names; throws MalformedReplacesError when it names none. */
export function parseReplaces(value: string): ReplacesTarget {
  const [callId, ...params] = value.split(';').map((part) => part.trim());
  const param = (name: string) =>
    params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
  const toTag = param('to-tag');
  const fromTag = param('from-tag');
  if (!callId || !toTag || !fromTag)
    throw new MalformedReplacesError(`Replaces names no dialog (call-id, to-tag, from-tag): ${value}`);
  return { callId, toTag, fromTag, earlyOnly: params.some((p) => p.toLowerCase() === 'early-only') };
}

/** The feature server refused the re-INVITE that moves it to the new caller: its status, relayed. */
export class ReplaceRefusedError extends InboundAnswer {
  override readonly name = 'ReplaceRefusedError';
  readonly outcome = 'failed';
  readonly reason = 'replace_refused';
  constructor(readonly status: number) {
    super(`the feature server answered ${status} to the re-INVITE for the new caller`);
  }
}

/** 488: an INVITE with Replaces and no SDP offer (the SBC needs the new caller's media first). */
export class ReplacesWithoutOfferError extends InboundAnswer {
  override readonly name = 'ReplacesWithoutOfferError';
  readonly status = 488;
  readonly outcome = 'rejected';
  readonly reason = 'replaces_without_sdp';
}

/** A call as Replaces sees it: the identifiers of its caller dialog. */
export interface ReplaceableCall {
  readonly callerDialog: { callId: string; localTag: string; remoteTag: string };
}

/**
 * The call `target` names among `calls` (RFC 3891 §3: Call-ID, to-tag = our tag, from-tag = the
 * caller's), undefined when no call has that Call-ID; throws for a tag mismatch or `early-only`.
 */
export function findReplacedCall<C extends ReplaceableCall>(
  calls: Iterable<C>,
  target: ReplacesTarget,
): C | undefined {
  for (const call of calls) {
    const dialog = call.callerDialog;
    if (dialog.callId !== target.callId) continue;
    if (dialog.localTag !== target.toTag || dialog.remoteTag !== target.fromTag)
      throw new ReplacedDialogMismatchError(`Replaces tags do not match the call ${target.callId}`);
    if (target.earlyOnly) throw new ReplacedCallAnsweredError(`${target.callId} is answered (early-only)`);
    return call;
  }
  return undefined;
}

/** A call the new caller can take over. */
export interface ReplacingCall extends ReplaceableCall {
  replaceCaller(req: SrfRequest, res: SrfResponse, headers: Record<string, string>): Promise<void>;
}

/**
 * The INVITE with Replaces `target`: the call this instance holds takes the new caller; a call
 * another instance holds (`ownerOf`, src/call-directory.ts) is a 503, no call at all a 404.
 */
export async function replaceCaller(
  calls: Iterable<ReplacingCall>,
  target: ReplacesTarget,
  ownerOf: ((callId: string) => Promise<string | undefined>) | undefined,
  req: SrfRequest,
  res: SrfResponse,
): Promise<void> {
  const call = findReplacedCall(calls, target);
  if (!call) {
    const owner = await ownerOf?.(target.callId);
    if (owner) throw new ReplacedCallElsewhereError(`${target.callId} is held by instance ${owner}`);
    throw new ReplacedCallUnknownError(`no call ${target.callId} to replace`);
  }
  await call.replaceCaller(req, res, {});
}
