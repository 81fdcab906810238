/**
 * Step 8: the two call legs (srf's createB2BUA), with media through rtpengine and failover across
 * feature servers. A feature server that fails before answering (408, 5xx, a transport error, or no
 * response at all within SBC_FS_ANSWER_TIMEOUT_MS) is replaced by the next one; a 4xx or 6xx is the
 * callee's word (486, 603) and goes to the caller as it is.
 */
import {
  isSipError,
  type Dialog,
  type SipHeaders,
  type Srf,
  type SrfRequest,
  type SrfResponse,
} from '@sbc/service';
import { InboundAnswer } from './answers.js';
import { featureServerTarget } from './feature-servers.js';
import { callerResponseHeaders, type CallerContact } from './headers.js';
import type { InboundInvite } from './invite.js';
import type { CallMedia } from './media/call-media.js';

export interface ConnectPlan {
  /** Feature servers to try, in order. */
  candidates: readonly string[];
  maxAttempts: number;
  answerTimeoutMs: number;
  headers: SipHeaders;
  /** rtpengine's SDP for the feature server; undefined for a late offer (the caller sent none). */
  offerSdp: string | undefined;
  callerContact: CallerContact;
}

export interface Connected {
  uas: Dialog;
  uac: Dialog;
  featureServer: string;
  /** The feature server's 200 OK. */
  answer: SrfResponse;
  attempts: number;
}

/** The caller cancelled before the answer: srf already sent 487 and cancelled the feature server. */
export class CallerCanceledError extends InboundAnswer {
  override readonly name = 'CallerCanceledError';
  readonly status = 487;
  readonly outcome = 'canceled';
  readonly reason = 'canceled';
}

/**
 * The engine connection the INVITE came on closed while its call was being set up: the engine took
 * the caller's transaction with it (nobody can be answered), and srf drops the callbacks of what it
 * had sent on that connection, so without this the set-up would wait forever and hold its call slot.
 */
export class EngineLostError extends InboundAnswer {
  override readonly name = 'EngineLostError';
  readonly status = 503;
  readonly outcome = 'unavailable';
  readonly reason = 'engine_lost';
}

/** Every feature server tried failed (or one refused: `final`); the caller gets `status`. */
export class FeatureServerFailedError extends InboundAnswer {
  override readonly name = 'FeatureServerFailedError';
  readonly outcome = 'failed';
  constructor(
    readonly status: number,
    readonly reason: string,
    override readonly reasonPhrase: string | undefined,
    readonly relayedHeaders: SipHeaders,
    message: string,
  ) {
    super(message);
  }
  override headers(): SipHeaders {
    return this.relayedHeaders;
  }
}

/** How one attempt ended. */
type Attempt =
  | { kind: 'connected'; uas: Dialog; uac: Dialog; answer: SrfResponse }
  /** Our side failed (rtpengine's answer, a bug): the handler maps the error itself. */
  | { kind: 'error'; err: unknown }
  | {
      kind: 'failed';
      status: number;
      reasonPhrase: string | undefined;
      res: SrfResponse | undefined;
      failover: boolean;
      why: string;
    };

/** RFC 3261 §21: 408 and 5xx say nothing about the callee; any other final answer is the callee's. */
const failsOver = (status: number) => status === 408 || (status >= 500 && status < 600);

export interface ConnectHooks {
  /** An attempt is being made (for logs and metrics). */
  attempt(featureServer: string, n: number): void;
  /** An attempt failed and the next server will be tried. */
  failedOver(featureServer: string, why: string): void;
}

export async function connectCall(
  srf: Srf,
  req: SrfRequest,
  res: SrfResponse,
  invite: InboundInvite,
  media: CallMedia,
  plan: ConnectPlan,
  hooks: ConnectHooks,
): Promise<Connected> {
  const servers = plan.candidates.slice(0, plan.maxAttempts);
  let last: Attempt | undefined;
  for (const [i, featureServer] of servers.entries()) {
    if (req.canceled) throw new CallerCanceledError('caller cancelled');
    hooks.attempt(featureServer, i + 1);
    const attempt = await tryFeatureServer(srf, req, res, invite, media, plan, featureServer);
    if (attempt.kind === 'connected') return { ...attempt, featureServer, attempts: i + 1 };
    if (attempt.kind === 'error') throw attempt.err;
    if (req.canceled || (attempt.status === 487 && !attempt.failover))
      throw new CallerCanceledError('caller cancelled');
    last = attempt;
    if (!attempt.failover) break;
    if (i < servers.length - 1) hooks.failedOver(featureServer, attempt.why);
  }
  const failed = last as Extract<Attempt, { kind: 'failed' }>;
  if (failed.failover && failed.res === undefined) {
    throw new FeatureServerFailedError(
      480,
      'feature_server_failed',
      undefined,
      {},
      `no feature server answered (${failed.why})`,
    );
  }
  const headers = failed.res ? callerResponseHeaders(failed.res, plan.callerContact) : {};
  delete headers.Contact;
  throw new FeatureServerFailedError(
    failed.status,
    failed.failover ? 'feature_server_failed' : 'callee_refused',
    failed.reasonPhrase,
    headers,
    `feature server answered ${failed.status}`,
  );
}

function tryFeatureServer(
  srf: Srf,
  req: SrfRequest,
  res: SrfResponse,
  invite: InboundInvite,
  media: CallMedia,
  plan: ConnectPlan,
  featureServer: string,
): Promise<Attempt> {
  const { uri, proxy } = featureServerTarget(invite.requestUri, featureServer);
  const lateOffer = plan.offerSdp === undefined;
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const engineLost = () =>
      settle({ kind: 'error', err: new EngineLostError('SIP engine connection closed during set-up') });
    const settle = (attempt: Attempt) => {
      clearTimeout(timer);
      req.socket.off('close', engineLost);
      if (settled) return;
      settled = true;
      resolve(attempt);
    };
    if (req.socket.destroyed) return engineLost();
    req.socket.once('close', engineLost);
    const toTagOf = (fsRes: SrfResponse) => fsRes.getParsedHeader('to').params.tag ?? '';

    srf
      .createB2BUA(
        req,
        res,
        uri,
        {
          ...(proxy !== undefined && { proxy }),
          headers: { ...plan.headers },
          // Late offer: srf sends the INVITE without SDP; the caller's answer comes in its ACK.
          ...(lateOffer
            ? { localSdpB: (callerAnswer: string) => media.answer('caller', callerAnswer) }
            : { localSdpB: plan.offerSdp }),
          localSdpA: (fsSdp: string, fsRes: SrfResponse) => {
            media.setFeatureServerTag(toTagOf(fsRes));
            return lateOffer ? media.offer('featureServer', fsSdp) : media.answer('featureServer', fsSdp);
          },
          responseHeaders: (fsRes: SrfResponse) => callerResponseHeaders(fsRes, plan.callerContact),
          passFailure: false,
        },
        {
          cbRequest: (err, uacReq) => {
            if (err) {
              settle({
                kind: 'failed',
                status: 503,
                reasonPhrase: undefined,
                res: undefined,
                failover: true,
                why: `cannot send: ${err instanceof Error ? err.message : JSON.stringify(err)}`,
              });
              return;
            }
            timer = setTimeout(() => {
              // RFC 3261 §9.1: no CANCEL before a provisional response; the engine holds it until one
              // comes (or the transaction times out). An answer that still arrives is torn down by srf.
              uacReq?.cancel();
              settle({
                kind: 'failed',
                status: 408,
                reasonPhrase: undefined,
                res: undefined,
                failover: true,
                why: `no response within ${plan.answerTimeoutMs} ms`,
              });
            }, plan.answerTimeoutMs);
          },
          cbProvisional: () => clearTimeout(timer),
        },
      )
      .then(({ uas, uac }) => {
        if (settled) {
          // Answered after we moved on: the caller has another leg (or none). Hang this one up.
          void uac.destroy().catch(() => undefined);
          void uas.destroy().catch(() => undefined);
          return;
        }
        settle({ kind: 'connected', uas, uac, answer: uac.res });
      })
      .catch((err: unknown) => {
        if (isSipError(err)) {
          settle({
            kind: 'failed',
            status: err.status,
            reasonPhrase: err.reason,
            res: err.res,
            failover: failsOver(err.status),
            why: `${err.status} ${err.reason ?? ''}`.trim(),
          });
        } else {
          // Not the feature server's answer: our side failed (e.g. rtpengine did not take its SDP).
          settle({ kind: 'error', err });
        }
      });
  });
}
