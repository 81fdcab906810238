/**
 * The rtpengine session of one call. The caller's and the feature server's SDPs never meet: each
 * offer or answer goes through rtpengine, which writes the SDP the other side gets. The call stays
 * on the engine that took its first offer; `delete` is sent once, whatever ends the call.
 */
import type { NgMessage } from 'rtpengine-client';
import { commonOptions, sideOptions, type CallerMedia, type MediaOptions } from './profiles.js';
import { RtpengineUnavailableError, type Rtpengine, type RtpenginePool } from './rtpengines.js';

/** Who sent an SDP. */
export type Side = 'caller' | 'featureServer';

export interface CallMediaInit {
  callId: string;
  /** The caller's From tag. */
  callerTag: string;
  callerMedia: CallerMedia;
  /** rtpengine interface of the caller: private when the caller is inside private_network_cidr. */
  callerDirection: 'public' | 'private';
  /** sip_gateways.pad_crypto of the carrier gateway. */
  padCrypto: boolean;
  options: MediaOptions;
}

const other = (side: Side): Side => (side === 'caller' ? 'featureServer' : 'caller');

export class CallMedia {
  private engine: Rtpengine | undefined;
  private featureServerTag: string | undefined;
  private deleted: Promise<void> | undefined;
  private asymmetric = false;

  constructor(
    private readonly pool: RtpenginePool,
    private readonly init: CallMediaInit,
  ) {}

  /** The engine the call is on (`host:port`), once an offer was taken. */
  get engineId(): string | undefined {
    return this.engine?.id;
  }

  /** The feature server's tag (its To tag on the call), needed from its first SDP on. */
  setFeatureServerTag(tag: string): void {
    this.featureServerTag = tag;
  }

  /**
   * From now on every offer and answer carries `asymmetric` instead of `media handover` (jambonz, on a
   * feature server's `release-media` / `anchor-media` re-INVITE: the media now comes from elsewhere).
   */
  useAsymmetric(): void {
    this.asymmetric = true;
  }

  /** Whether the session was deleted (call ended, or the SBC left the media path). */
  get isDeleted(): boolean {
    return this.deleted !== undefined;
  }

  /**
   * The SBC comes back into the media path after a full release: the next offer opens a new session
   * on the same engine, which `delete` ends again.
   */
  reopen(): void {
    this.deleted = undefined;
  }

  /** `sender` offers `sdp`; resolves with the SDP to send to the other side. */
  async offer(sender: Side, sdp: string): Promise<string> {
    const message = this.message(sender, sdp, 'offer');
    if (!this.engine) {
      const { engine, answer } = await this.pool.offer(message);
      this.engine = engine;
      return answer.sdp ?? '';
    }
    return (await this.pool.command(this.engine, 'offer', message)).sdp ?? '';
  }

  /** `sender` answers the other side's offer with `sdp`; resolves with the SDP for the offerer. */
  async answer(sender: Side, sdp: string): Promise<string> {
    if (!this.engine) throw new RtpengineUnavailableError('answer before any offer');
    return (await this.pool.command(this.engine, 'answer', this.message(sender, sdp, 'answer'))).sdp ?? '';
  }

  /**
   * Blocks (`mute`) or unblocks (`unmute`) the media and DTMF `side` sends through rtpengine: the
   * other side then hears nothing from it. rtpengine selects the sender by `from-tag`; the unblock
   * carries `flags: ['reset']` as jambonz's does. Rejects as `command` does.
   */
  async setBlocked(side: Side, blocked: boolean): Promise<void> {
    const engine = this.requireEngine();
    const message: NgMessage = { 'call-id': this.init.callId, 'from-tag': this.tagOf(side) };
    if (blocked) {
      await Promise.all([
        this.pool.command(engine, 'blockMedia', message),
        this.pool.command(engine, 'blockDTMF', message),
      ]);
    } else {
      const reset = { ...message, flags: ['reset'] };
      await Promise.all([
        this.pool.command(engine, 'unblockMedia', reset),
        this.pool.command(engine, 'unblockDTMF', reset),
      ]);
    }
  }

  /**
   * rtpengine plays an RFC 2833 event as if `from` had sent it, i.e. towards the other side
   * (`play DTMF`; the offers carry `inject DTMF`). `volume` in -dBm0 (jambonz: 13 for the feature
   * server's DTMF, rtpengine's default otherwise).
   */
  async playDtmf(from: Side, dtmf: { code: string; durationMs: number; volume?: number }): Promise<void> {
    const message: NgMessage = {
      'call-id': this.init.callId,
      'from-tag': this.tagOf(from),
      code: dtmf.code,
      duration: dtmf.durationMs,
    };
    if (dtmf.volume !== undefined) message.volume = dtmf.volume;
    await this.pool.command(this.requireEngine(), 'playDTMF', message);
  }

  /**
   * A recording fork (SIPREC, RFC 7866): rtpengine `subscribe request` for all the call's media
   * (`all`), plain RTP on its public interface, ICE removed. Resolves with the offer for the SRS (one
   * m-line per party) and the subscription's tag.
   */
  async subscribe(): Promise<{ sdp: string; toTag: string }> {
    const answer = await this.pool.command(this.requireEngine(), 'subscribeRequest', {
      'call-id': this.init.callId,
      'from-tag': this.init.callerTag,
      flags: ['all', 'allow transcoding'],
      'transport protocol': 'RTP/AVP',
      ICE: 'remove',
      interface: 'public',
    });
    const { sdp, 'to-tag': toTag } = answer;
    if (typeof sdp !== 'string' || typeof toTag !== 'string')
      throw new RtpengineUnavailableError('subscribe request answered without an SDP or a to-tag');
    return { sdp, toTag };
  }

  /** The SRS's answer to a `subscribe` offer. */
  async subscribed(toTag: string, sdp: string): Promise<void> {
    await this.pool.command(this.requireEngine(), 'subscribeAnswer', {
      'call-id': this.init.callId,
      'to-tag': toTag,
      sdp,
      flags: ['allow transcoding'],
    });
  }

  /** Ends a recording fork. */
  async unsubscribe(toTag: string): Promise<void> {
    await this.pool.command(this.requireEngine(), 'unsubscribe', {
      'call-id': this.init.callId,
      'to-tag': toTag,
    });
  }

  private requireEngine(): Rtpengine {
    if (!this.engine) throw new RtpengineUnavailableError('no rtpengine session for this call');
    return this.engine;
  }

  private tagOf(side: Side): string {
    const tag = side === 'caller' ? this.init.callerTag : this.featureServerTag;
    if (tag === undefined) throw new RtpengineUnavailableError(`no rtpengine tag for the ${side} yet`);
    return tag;
  }

  /** Ends the rtpengine session once; later calls wait for the same delete. Never rejects. */
  delete(): Promise<void> {
    this.deleted ??= (async () => {
      if (!this.engine) return;
      try {
        await this.pool.command(this.engine, 'delete', {
          'call-id': this.init.callId,
          'from-tag': this.init.callerTag,
        });
      } catch {
        // The engine forgets the session by itself (its own timeout) when it missed the delete.
      }
    })();
    return this.deleted;
  }

  /**
   * rtpengine wants `from-tag` = the offerer's tag in both the offer and its answer; the SDP it
   * writes is for the party that did not send this one.
   */
  private message(sender: Side, sdp: string, kind: 'offer' | 'answer'): NgMessage {
    const { callerTag, callerMedia, callerDirection, padCrypto, options, callId } = this.init;
    const fsTag = this.featureServerTag;
    const offerer = kind === 'offer' ? sender : other(sender);
    const tagOf = (side: Side) => (side === 'caller' ? callerTag : fsTag);
    const fromTag = tagOf(offerer);
    const toTag = tagOf(other(offerer));
    const message: NgMessage = {
      ...commonOptions(callId, options),
      ...sideOptions(other(sender), callerMedia, { ...options, padCrypto }),
      sdp,
      'from-tag': fromTag ?? '',
    };
    if (toTag !== undefined) message['to-tag'] = toTag;
    if (this.asymmetric && Array.isArray(message.flags)) {
      message.flags = [...message.flags.filter((f) => f !== 'media handover'), 'asymmetric'];
    }
    if (kind === 'offer') {
      message.direction = sender === 'caller' ? [callerDirection, 'private'] : ['private', callerDirection];
    }
    return message;
  }
}
