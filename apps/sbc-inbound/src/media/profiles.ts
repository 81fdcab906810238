/**
 * The rtpengine options of each side of a call, as jambonz sends them (reference §2.8): the
 * feature-server side is always plain RTP; the caller side is RTP, DTLS-SRTP (WebRTC) or SDES-SRTP
 * (Teams and SIP trunks with `RTP/SAVP`), decided by the caller's SDP.
 */
import type { NgMessage, NgValue } from 'rtpengine-client';
import { parse as parseSdp } from 'sdp-transform';

export type CallerMedia = 'rtp' | 'webrtc' | 'sdes';

export interface MediaOptions {
  /** RTPENGINE_ENABLE_STRICT_SOURCE: `strict source` instead of `media handover` (rtpbleed). */
  strictSource: boolean;
  /** JAMBONES_ACCEPT_AND_TRANSCODE, or ['g729'] with JAMBONES_ACCEPT_G729. */
  acceptAndTranscode: readonly string[] | undefined;
  /** JAMBONES_RECORD_ALL_CALLS. */
  recordAllCalls: boolean;
}

/** How the caller's SDP wants its media: `SAVPF` with DTLS is WebRTC, any other SAVP is SDES. */
export function callerMediaOf(sdp: string | undefined, fromTeams: boolean): CallerMedia {
  if (!sdp) return 'rtp';
  const audio = parseSdp(sdp).media.find((m) => m.type === 'audio')?.protocol ?? '';
  if (!audio.includes('SAVP')) return 'rtp';
  if (fromTeams || !audio.includes('SAVPF')) return 'sdes';
  return 'webrtc';
}

/** jambonz's data/rtp-transcoding.json. */
const RTP_SIDE: NgMessage = {
  'transport-protocol': 'RTP/AVP',
  DTLS: 'off',
  SDES: 'off',
  ICE: 'remove',
  'rtcp-mux': ['accept'],
};

/** jambonz's data/srtp-transcoding.json: `default` (WebRTC) and `teams` (also SDES callers). */
function srtpSide(kind: 'webrtc' | 'sdes'): NgMessage {
  return {
    'transport-protocol': kind === 'webrtc' ? 'UDP/TLS/RTP/SAVPF' : 'RTP/SAVP',
    ICE: 'default',
    SDES: 'off',
    'rtcp-mux': kind === 'webrtc' ? ['require'] : ['accept'],
  };
}

/**
 * The options of the SDP rtpengine writes for one side: `toward: 'featureServer'` for the offer sent
 * to the feature server, `toward: 'caller'` for the answer sent back to the caller.
 */
export function sideOptions(
  toward: 'featureServer' | 'caller',
  caller: CallerMedia,
  options: MediaOptions & { padCrypto?: boolean },
): NgMessage {
  const srtp = toward === 'caller' && caller !== 'rtp';
  const flags: string[] = [options.strictSource ? 'strict source' : 'media handover', 'port latching'];
  // jambonz injects DTMF on both sides unless the caller is Teams / SDES.
  if (caller !== 'sdes') flags.push('inject DTMF');
  if (srtp) {
    flags.push('generate mid', 'SDES-no');
    if (options.padCrypto) flags.push('pad crypto');
  }
  const message: NgMessage = { ...(srtp ? srtpSide(caller) : RTP_SIDE), flags };
  const mask = options.acceptAndTranscode;
  if (toward === 'featureServer' && mask && mask.length > 0) {
    message.codec = { mask: [...mask] as NgValue[], transcode: ['PCMU', 'PCMA'] };
  }
  return message;
}

/** The options every command of a call carries. */
export function commonOptions(callId: string, options: MediaOptions): NgMessage {
  return {
    'call-id': callId,
    replace: ['origin', 'session-connection'],
    'record call': options.recordAllCalls ? 'yes' : 'no',
  };
}
