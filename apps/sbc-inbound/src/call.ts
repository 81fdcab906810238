/**
 * A connected call: what happens inside its two dialogs (reference §2.9) until it ends. Re-INVITEs
 * from either side go through rtpengine; INFO, NOTIFY, OPTIONS and MESSAGE are relayed to the other
 * leg; a BYE from either side ends the other leg. Whatever ends the call, `end` runs once: the other
 * leg is hung up, the rtpengine session deleted, the call counters given back and the CDR written.
 */
import type { Dialog, Logger, SipHeaders, SrfRequest, SrfResponse } from '@sbc/service';
import { handleInfo } from './dialog/info.js';
import { handleCallerRefer, handleFeatureServerRefer, type ReferDeps } from './dialog/refer.js';
import { inDialogHeaders } from './headers.js';
import type { CallMedia, Side } from './media/call-media.js';
import { RtpengineRejectedError } from './media/rtpengines.js';

export type EndedBy = 'caller' | 'featureServer' | 'sbc';

export interface CallEnd {
  endedBy: EndedBy;
  /** Why the SBC ended it (`endedBy: 'sbc'`). */
  reason?: string;
}

/** Methods relayed to the other leg as they are (INFO too, unless it asks the SBC: dialog/info.ts). */
const RELAYED = ['notify', 'options', 'message'] as const;

/** What the in-dialog services (dialog/*.ts) need to know about the call besides its legs. */
export type CallContext = Omit<ReferDeps, 'log' | 'caller' | 'featureServer'>;

export interface CallLegs {
  uas: Dialog;
  uac: Dialog;
}

export class ConnectedCall {
  private ending: Promise<void> | undefined;

  constructor(
    private readonly legs: CallLegs,
    private readonly media: CallMedia,
    private readonly log: Logger,
    private readonly onEnd: (end: CallEnd) => Promise<void>,
    private readonly context: CallContext,
  ) {
    this.listen('caller', legs.uas);
    this.listen('featureServer', legs.uac);
    // A BYE in the same engine read as the ACK reaches srf before the dialogs reach us: srf
    // answers it and the leg is gone without a 'destroy' we could hear. End the call now.
    queueMicrotask(() => {
      if (!legs.uas.connected) void this.end({ endedBy: 'caller' });
      else if (!legs.uac.connected) void this.end({ endedBy: 'featureServer' });
    });
  }

  /** Hangs up both legs (shutdown, or an error after connecting). */
  hangUp(reason: string): Promise<void> {
    return this.end({ endedBy: 'sbc', reason });
  }

  private dialogOf(side: Side): Dialog {
    return side === 'caller' ? this.legs.uas : this.legs.uac;
  }

  private listen(side: Side, dialog: Dialog): void {
    const otherSide: Side = side === 'caller' ? 'featureServer' : 'caller';
    dialog.on('destroy', (bye) => void this.end({ endedBy: side }, bye));
    dialog.on('modify', (req, res) => void this.reinvite(side, otherSide, req, res));
    for (const method of RELAYED) dialog.on(method, (req, res) => void this.relay(otherSide, req, res));
    const relay = (req: SrfRequest, res: SrfResponse) => this.relay(otherSide, req, res);
    dialog.on(
      'info',
      (req, res) => void handleInfo({ media: this.media, log: this.log, relay }, side, req, res),
    );
    const refer = side === 'caller' ? handleCallerRefer : handleFeatureServerRefer;
    dialog.on('refer', (req, res) => void refer(this.referDeps(), req, res));
  }

  private referDeps(): ReferDeps {
    return { ...this.context, log: this.log, caller: this.legs.uas, featureServer: this.legs.uac };
  }

  private end(end: CallEnd, bye?: SrfRequest): Promise<void> {
    this.ending ??= (async () => {
      const hangUp = (dialog: Dialog) =>
        dialog.connected
          ? dialog.destroy(bye ? { headers: inDialogHeaders(bye) } : {}).catch((err: unknown) => {
              this.log.debug({ err: String(err) }, 'BYE not answered');
            })
          : Promise.resolve();
      // The leg that sent the BYE is already gone; the other one (or both, when we end it) get one.
      const legs =
        end.endedBy === 'caller'
          ? [this.legs.uac]
          : end.endedBy === 'featureServer'
            ? [this.legs.uas]
            : [this.legs.uas, this.legs.uac];
      // Do not wait for the BYE answers: a vanished peer must not hold the call's resources for 32 s.
      for (const leg of legs) void hangUp(leg);
      await this.media.delete();
      await this.onEnd(end);
    })();
    return this.ending;
  }

  /**
   * A re-INVITE from `from`: its offer goes through rtpengine to the other leg, whose answer goes
   * back through rtpengine. Without SDP (an offer request) the current SDP is re-sent, and the
   * answer in the ACK updates rtpengine (RFC 3261 §14.2, as jambonz does).
   */
  private async reinvite(from: Side, to: Side, req: SrfRequest, res: SrfResponse): Promise<void> {
    const dialog = this.dialogOf(from);
    try {
      if (!req.body) {
        res.send(200, { body: dialog.local.sdp, headers: { 'Content-Type': 'application/sdp' } });
        dialog.once('ack', (ack) => {
          if (ack.body)
            void this.media
              .answer(from, ack.body)
              .catch((err: unknown) =>
                this.log.warn({ err: String(err) }, 'rtpengine did not take the answer in the ACK'),
              );
        });
        return;
      }
      const offer = await this.media.offer(from, req.body);
      const answer = await this.dialogOf(to).modify(offer, { headers: reinviteHeaders(req) });
      const back = await this.media.answer(to, answer);
      res.send(200, { body: back, headers: { 'Content-Type': 'application/sdp' } });
      dialog.local.sdp = back;
    } catch (err) {
      const status =
        err instanceof RtpengineRejectedError ? 488 : ((err as { status?: number }).status ?? 500);
      this.log.info({ from, status, err: String(err) }, 're-INVITE failed');
      if (!res.finalResponseSent) res.send(status);
    }
  }

  /** An in-dialog INFO / NOTIFY / OPTIONS / MESSAGE: sent to the other leg, its answer relayed back. */
  private async relay(to: Side, req: SrfRequest, res: SrfResponse): Promise<void> {
    try {
      const answer = await this.dialogOf(to).request({
        method: req.method,
        headers: inDialogHeaders(req),
        ...(req.body ? { body: req.body } : {}),
      });
      const headers: SipHeaders = {};
      const contentType = answer.get('Content-Type');
      if (contentType) headers['Content-Type'] = contentType;
      res.send(answer.status, answer.reason, { headers, ...(answer.body ? { body: answer.body } : {}) });
    } catch (err) {
      this.log.info({ method: req.method, err: String(err) }, 'in-dialog request not relayed');
      if (!res.finalResponseSent) res.send(500);
    }
  }
}

/** Headers of a re-INVITE copied to the other leg (not its SDP-related ones). */
function reinviteHeaders(req: SrfRequest): SipHeaders {
  const headers = inDialogHeaders(req);
  delete headers['Content-Type'];
  return headers;
}
