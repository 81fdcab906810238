/**
 * A connected call: what happens inside its two dialogs (reference §2.9) until it ends. Re-INVITEs
 * from either side go through rtpengine; INFO, NOTIFY, OPTIONS and MESSAGE are relayed to the other
 * leg; a BYE from either side ends the other leg. Whatever ends the call, `end` runs once: the other
 * leg is hung up, the rtpengine session deleted, the call counters given back and the CDR written.
 */
import {
  isSipError,
  type CreateUASOptions,
  type Dialog,
  type Logger,
  type ProgressCallbacks,
  type SipHeaders,
  type SrfRequest,
  type SrfResponse,
} from '@sbc/service';
import { dtmfRelayBody, type Dtmf } from './dialog/dtmf.js';
import { handleInfo, type DtmfCarriage } from './dialog/info.js';
import type { TeamsCall } from './dialog/teams-refer.js';
import { CallRecorder, type RecorderDeps } from './dialog/recording.js';
import { handleCallerRefer, handleFeatureServerRefer, type ReferDeps } from './dialog/refer.js';
import { inDialogHeaders } from './headers.js';
import type { CallMedia, Side } from './media/call-media.js';
import type { DtmfEventHandler } from './media/dtmf-events.js';
import { RtpengineRejectedError, RtpengineUnavailableError } from './media/rtpengines.js';
import { ReplaceRefusedError, ReplacesWithoutOfferError, type ReplaceableCall } from './replaces.js';

export type EndedBy = 'caller' | 'featureServer' | 'sbc';

export interface CallEnd {
  endedBy: EndedBy;
  /** Why the SBC ended it (`endedBy: 'sbc'`). */
  reason?: string;
}

/** Methods relayed to the other leg as they are (INFO too, unless it asks the SBC: dialog/info.ts). */
const RELAYED = ['notify', 'options', 'message'] as const;

/** What the in-dialog services (dialog/*.ts) need to know about the call besides its legs. */
export type CallContext = Omit<
  ReferDeps,
  'log' | 'caller' | 'featureServer' | 'moveToFeatureServer' | 'teams'
> & {
  /** srf's createUAC: a new leg to another feature server (`context-…` REFER), an SRS, a Teams leg. */
  createUac: (
    uri: string,
    options: { localSdp: string; headers: SipHeaders; proxy?: string },
    progress?: ProgressCallbacks,
  ) => Promise<Dialog>;
  /** A call from Microsoft Teams (its transfer REFERs are the SBC's to carry out). */
  teams?: TeamsCall;
  /** srf's createUAS: the new caller's leg of an INVITE with Replaces. */
  createUas: (req: SrfRequest, res: SrfResponse, options: CreateUASOptions) => Promise<Dialog>;
  /** JAMBONES_ENABLE_FULL_MEDIA_RELEASE: the partner call's SDP (`b_sdp:<Call-ID>` in Redis). */
  fullMediaRelease?: { partnerSdp: () => Promise<string | null> };
  /**
   * How the caller takes DTMF: `info` for a carrier whose voip_carriers.dtmf_type is `info`, else
   * RFC 2833 through rtpengine (which makes in-band tones of it when the caller did not negotiate
   * telephone-event, as a `tones` carrier does not).
   */
  callerDtmf: 'rfc2833' | 'info';
  /**
   * The RFC 2833 digits rtpengine sees from the caller (DTMF_LISTEN_PORT), until the returned
   * function is called; absent when the SBC does not listen for them.
   */
  callerDigits?: (handler: DtmfEventHandler) => () => void;
  /** SIPREC client: the call's part of the metadata and JAMBONES_RECORDING_NO_ANSWER_TIMEOUT. */
  recording: Pick<RecorderDeps, 'call' | 'noAnswerTimeoutMs'>;
};

/**
 * Where the media goes (jambonz's MediaPath): through rtpengine both ways (`full`), anchored for
 * the caller only after a feature server's `release-media` (`partial`), or not through the SBC at
 * all after `release-media-entirely` (`none`).
 */
export type MediaPath = 'full' | 'partial' | 'none';

/** X-Reason values of a feature server re-INVITE that moves the media without re-INVITEing the caller. */
const RELEASING = ['release-media', 'anchor-media'];

export interface CallLegs {
  uas: Dialog;
  uac: Dialog;
}

export class ConnectedCall implements ReplaceableCall {
  private ending: Promise<void> | undefined;
  private readonly legs: CallLegs;
  /** Feature-server legs the call moved away from: what they still send is ignored. */
  private readonly retired = new WeakSet<Dialog>();
  private mediaPathNow: MediaPath = 'full';
  private readonly stopCallerDigits: () => void;
  /** SIPREC recording driven by the feature server's INFOs. */
  readonly recorder: CallRecorder;
  /**
   * Digits of the caller's INFOs that rtpengine played towards the feature server, with when they
   * end: rtpengine reports these too, as the caller's, and the feature server already has them.
   */
  private readonly callerDigitsPlayed: { code: string; until: number }[] = [];

  constructor(
    legs: CallLegs,
    private readonly media: CallMedia,
    private readonly log: Logger,
    private readonly onEnd: (end: CallEnd) => Promise<void>,
    private readonly context: CallContext,
  ) {
    this.legs = { uas: legs.uas, uac: legs.uac };
    this.recorder = new CallRecorder({
      ...context.recording,
      media,
      log,
      createUac: (uri, options) => context.createUac(uri, options),
    });
    this.listen('caller', legs.uas);
    this.listen('featureServer', legs.uac);
    // jambonz sbc-inbound #139: the caller's RFC 2833 digits also reach the feature server as INFO.
    this.stopCallerDigits =
      context.callerDigits?.((event) => {
        if (this.playedForCaller(event.code)) return;
        void this.sendDtmfInfo('featureServer', event).catch((err: unknown) =>
          this.log.info(
            { err: String(err), code: event.code },
            'DTMF INFO to the feature server not answered',
          ),
        );
      }) ?? (() => undefined);
    // A BYE in the same engine read as the ACK reaches srf before the dialogs reach us: srf
    // answers it and the leg is gone without a 'destroy' we could hear. End the call now.
    queueMicrotask(() => {
      // The engine connection closed as the call connected, after srf's 'close' was heard.
      if (this.engineLost) void this.hangUp('engine connection lost');
      else if (!legs.uas.connected) void this.end({ endedBy: 'caller' });
      else if (!legs.uac.connected) void this.end({ endedBy: 'featureServer' });
    });
  }

  /** Hangs up both legs (shutdown, or an error after connecting). */
  hangUp(reason: string): Promise<void> {
    return this.end({ endedBy: 'sbc', reason });
  }

  /**
   * The engine connection the caller's leg lives on closed (the engine stopped or the link broke):
   * the engine no longer holds the dialogs, nobody will send us their BYE.
   */
  get engineLost(): boolean {
    return this.legs.uas.socket.destroyed;
  }

  /** The caller dialog's identifiers, as an INVITE with Replaces names them. */
  get callerDialog(): { callId: string; localTag: string; remoteTag: string } {
    return this.legs.uas.sip;
  }

  /**
   * An INVITE with Replaces for this call's caller dialog (RFC 3891, jambonz's `replaces`): the new
   * caller's offer goes through rtpengine in the caller's place (same tag, so the session and its
   * DTMF subscription stay), the feature server is re-INVITEd with it, its answer goes back through
   * rtpengine to the new caller in a 200; then the old caller gets a BYE. The call (its counters,
   * CDR and rtpengine session) goes on. Rejects with the answer for the INVITE when it cannot.
   */
  async replaceCaller(req: SrfRequest, res: SrfResponse, headers: SipHeaders): Promise<void> {
    if (!req.body) throw new ReplacesWithoutOfferError('INVITE with Replaces without an SDP offer');
    const offer = await this.media.offer('caller', req.body);
    let featureServerAnswer: string;
    try {
      featureServerAnswer = await this.legs.uac.modify(offer);
    } catch (err) {
      throw isSipError(err) ? new ReplaceRefusedError(err.status) : err;
    }
    const answer = await this.media.answer('featureServer', featureServerAnswer);
    const uas = await this.context.createUas(req, res, { localSdp: answer, headers });
    const old = this.swapCallerLeg(uas);
    this.log.info(
      { replacedCallId: old.sip.callId, newCallId: uas.sip.callId },
      'caller replaced (INVITE with Replaces)',
    );
    if (old.connected) void old.destroy().catch(() => undefined);
  }

  /**
   * Teams' transfer REFER: a new leg to `uri` offered the caller leg's SDP (rtpengine's ports, so
   * the feature server keeps its media); its answer becomes the caller side's media in rtpengine
   * (given as the caller's new offer, answered with the feature server's current SDP). Resolves
   * with the old caller leg, retired but still up.
   */
  private async callNewCallerLeg(
    uri: string,
    headers: SipHeaders,
    progress: ProgressCallbacks,
  ): Promise<Dialog> {
    const teams = this.context.teams;
    const leg = await this.context.createUac(
      uri,
      {
        localSdp: this.legs.uas.local.sdp.replace(/a=inactive/g, 'a=sendrecv'),
        headers,
        ...(teams?.outboundProxy !== undefined && { proxy: `sip:${teams.outboundProxy}` }),
      },
      progress,
    );
    try {
      await this.media.offer('caller', leg.remote.sdp);
      await this.media.answer('featureServer', this.legs.uac.remote.sdp);
    } catch (err) {
      void leg.destroy().catch(() => undefined);
      throw err;
    }
    return this.swapCallerLeg(leg);
  }

  /** `leg` becomes the caller leg; the old one is retired (its requests ignored) and returned. */
  private swapCallerLeg(leg: Dialog): Dialog {
    const old = this.legs.uas;
    this.retired.add(old);
    this.legs.uas = leg;
    this.listen('caller', leg);
    if (this.ending) void leg.destroy().catch(() => undefined);
    return old;
  }

  /** Where the call's media goes now. */
  get mediaPath(): MediaPath {
    return this.mediaPathNow;
  }

  private dialogOf(side: Side): Dialog {
    return side === 'caller' ? this.legs.uas : this.legs.uac;
  }

  private listen(side: Side, dialog: Dialog): void {
    const otherSide: Side = side === 'caller' ? 'featureServer' : 'caller';
    dialog.on('destroy', (bye) => {
      if (!this.retired.has(dialog)) void this.end({ endedBy: side }, bye);
    });
    dialog.on('modify', (req, res) => void this.reinvite(side, otherSide, req, res));
    for (const method of RELAYED) dialog.on(method, (req, res) => void this.relay(otherSide, req, res));
    const relay = (req: SrfRequest, res: SrfResponse) => this.relay(otherSide, req, res);
    const passDtmf = (from: Side, dtmf: Dtmf & { volume?: number }) => this.passDtmf(from, dtmf);
    const recording = (command: Parameters<CallRecorder['handle']>[0], req: SrfRequest) =>
      this.recorder.handle(command, req);
    dialog.on(
      'info',
      (req, res) =>
        void handleInfo({ media: this.media, log: this.log, relay, passDtmf, recording }, side, req, res),
    );
    const refer = side === 'caller' ? handleCallerRefer : handleFeatureServerRefer;
    dialog.on('refer', (req, res) => void refer(this.referDeps(), req, res));
  }

  private referDeps(): ReferDeps {
    const { teams, ...context } = this.context;
    return {
      ...context,
      log: this.log,
      caller: this.legs.uas,
      featureServer: this.legs.uac,
      moveToFeatureServer: (uri, headers) => this.moveToFeatureServer(uri, headers),
      ...(teams && {
        teams: {
          teams,
          replaceCallerLeg: (uri, headers, progress) => this.callNewCallerLeg(uri, headers, progress),
        },
      }),
    };
  }

  /**
   * A `context-…` REFER from the feature server: a new leg to `uri` offering the SDP the old leg has
   * (rtpengine's feature-server port, so the caller is not re-INVITEd), the new feature server's
   * answer given to rtpengine under the old leg's tag (its port latching keeps the ports), then the
   * old leg is hung up. The call's end, CDR and counters stay the call's.
   */
  private async moveToFeatureServer(uri: string, headers: SipHeaders): Promise<void> {
    const old = this.legs.uac;
    this.retired.add(old);
    let uac: Dialog;
    try {
      uac = await this.context.createUac(uri, { localSdp: old.local.sdp, headers });
    } catch (err) {
      this.retired.delete(old);
      if (!old.connected) void this.end({ endedBy: 'featureServer' });
      throw err;
    }
    if (this.ending) {
      void uac.destroy().catch(() => undefined);
      return;
    }
    this.legs.uac = uac;
    this.listen('featureServer', uac);
    try {
      await this.media.answer('featureServer', uac.remote.sdp);
    } finally {
      if (old.connected) void old.destroy().catch(() => undefined);
    }
  }

  /**
   * A digit from `from` to the other party: played as RFC 2833 by rtpengine while the SBC holds
   * that party's media, else an INFO `application/dtmf-relay` (jambonz: the caller's digits once
   * the feature server released its media; ours also the feature server's once there is no media
   * through the SBC at all, and always for a carrier whose dtmf_type is `info`).
   */
  private async passDtmf(from: Side, dtmf: Dtmf & { volume?: number }): Promise<DtmfCarriage> {
    const to: Side = from === 'caller' ? 'featureServer' : 'caller';
    const byInfo =
      to === 'featureServer'
        ? this.mediaPathNow !== 'full'
        : this.mediaPathNow === 'none' || this.context.callerDtmf === 'info';
    if (byInfo) {
      await this.sendDtmfInfo(to, dtmf);
      return 'info';
    }
    if (from === 'caller')
      this.callerDigitsPlayed.push({ code: dtmf.code, until: Date.now() + dtmf.durationMs + 2000 });
    await this.media.playDtmf(from, dtmf);
    return 'rfc2833';
  }

  /** Whether rtpengine's report of the caller's `code` is one the SBC played itself (and forgets it). */
  private playedForCaller(code: string): boolean {
    const now = Date.now();
    const i = this.callerDigitsPlayed.findIndex((d) => d.code === code && d.until >= now);
    const played = i >= 0;
    if (played) this.callerDigitsPlayed.splice(i, 1);
    // Drop what expired unreported.
    for (let j = this.callerDigitsPlayed.length - 1; j >= 0; j--)
      if (this.callerDigitsPlayed[j]!.until < now) this.callerDigitsPlayed.splice(j, 1);
    return played;
  }

  /** An INFO `application/dtmf-relay` with `dtmf` to `to`; rejects unless it is answered 2xx. */
  private async sendDtmfInfo(to: Side, dtmf: Dtmf): Promise<void> {
    const answer = await this.dialogOf(to).request({
      method: 'INFO',
      headers: { 'Content-Type': 'application/dtmf-relay' },
      body: dtmfRelayBody(dtmf),
    });
    if (answer.status < 200 || answer.status >= 300)
      throw new Error(`DTMF INFO answered ${answer.status} by the ${to}`);
  }

  private end(end: CallEnd, bye?: SrfRequest): Promise<void> {
    this.ending ??= (async () => {
      this.stopCallerDigits();
      this.recorder.stop();
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
      const reason = from === 'featureServer' ? req.get('X-Reason') : undefined;
      if (reason === 'release-media-entirely' && this.context.fullMediaRelease) {
        await this.releaseMediaEntirely(this.context.fullMediaRelease, res);
        return;
      }
      // release-media / anchor-media: the feature server moves its end of the media (e.g. to the
      // partner call's media); rtpengine takes it asymmetric, and the caller keeps its SDP: its own
      // last SDP answers the offer, so it is not re-INVITEd (unless the SBC had left the media path).
      const releasing = reason !== undefined && RELEASING.includes(reason);
      if (releasing) this.media.useAsymmetric();
      const wasReleased = this.mediaPathNow === 'none';
      if (wasReleased) this.media.reopen();
      const offer = await this.media.offer(from, req.body);
      let answer: string;
      if (releasing && this.mediaPathNow !== 'none') {
        answer = this.dialogOf(to).remote.sdp;
        this.mediaPathNow = reason === 'release-media' ? 'partial' : 'full';
        this.log.info({ reason, mediaPath: this.mediaPathNow }, 'media path changed by the feature server');
      } else {
        answer = await this.dialogOf(to).modify(offer, { headers: reinviteHeaders(req) });
        // Back from no media: the caller was re-INVITEd onto rtpengine again.
        if (wasReleased) this.mediaPathNow = reason === 'release-media' ? 'partial' : 'full';
      }
      const back = await this.media.answer(to, answer);
      res.send(200, { body: back, headers: { 'Content-Type': 'application/sdp' } });
      dialog.local.sdp = back;
    } catch (err) {
      // rtpengine refusing the SDP or not answering: 488, and the call goes on as it was.
      const status =
        err instanceof RtpengineRejectedError || err instanceof RtpengineUnavailableError
          ? 488
          : ((err as { status?: number }).status ?? 500);
      this.log.info({ from, status, err: String(err) }, 're-INVITE failed');
      if (!res.finalResponseSent) res.send(status);
    }
  }

  /**
   * `release-media-entirely` (JAMBONES_ENABLE_FULL_MEDIA_RELEASE): the caller is re-INVITEd with the
   * partner call's SDP (`b_sdp:<Call-ID>`), so its media goes straight to the partner; the feature
   * server gets its current SDP back and the rtpengine session is deleted.
   */
  private async releaseMediaEntirely(
    release: NonNullable<CallContext['fullMediaRelease']>,
    res: SrfResponse,
  ): Promise<void> {
    const partnerSdp = await release.partnerSdp();
    if (!partnerSdp) {
      this.log.warn('release-media-entirely without a partner SDP (b_sdp) in Redis');
      res.send(488, 'No Partner SDP');
      return;
    }
    const callerAnswer = await this.legs.uas.modify(partnerSdp);
    this.log.info({ callerAnswer }, 'caller re-INVITEd out of the SBC media path');
    res.send(200, {
      body: this.legs.uac.local.sdp,
      headers: { 'Content-Type': 'application/sdp' },
    });
    this.mediaPathNow = 'none';
    await this.media.delete();
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
