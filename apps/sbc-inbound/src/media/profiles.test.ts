import { describe, expect, it } from 'vitest';
import { callerMediaOf, commonOptions, sideOptions } from './profiles.js';

const sdp = (proto: string) =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 4000 ${proto} 0\r\n`;
const OPTIONS = { strictSource: false, acceptAndTranscode: undefined, recordAllCalls: false };

describe('rtpengine profiles (jambonz §2.8)', () => {
  it('tells RTP, WebRTC (SAVPF) and SDES (SAVP, or anything SRTP from Teams) callers apart', () => {
    expect(callerMediaOf(sdp('RTP/AVP'), false)).toBe('rtp');
    expect(callerMediaOf(sdp('UDP/TLS/RTP/SAVPF'), false)).toBe('webrtc');
    expect(callerMediaOf(sdp('RTP/SAVP'), false)).toBe('sdes');
    expect(callerMediaOf(sdp('UDP/TLS/RTP/SAVPF'), true)).toBe('sdes');
    expect(callerMediaOf(undefined, false)).toBe('rtp');
  });

  it('gives the feature server plain RTP with media handover and injected DTMF', () => {
    expect(sideOptions('featureServer', 'webrtc', OPTIONS)).toEqual({
      'transport-protocol': 'RTP/AVP',
      DTLS: 'off',
      SDES: 'off',
      ICE: 'remove',
      'rtcp-mux': ['accept'],
      flags: ['media handover', 'port latching', 'inject DTMF'],
    });
  });

  it('answers a WebRTC caller with DTLS-SRTP, rtcp-mux required, pad crypto when the gateway asks', () => {
    expect(sideOptions('caller', 'webrtc', { ...OPTIONS, padCrypto: true })).toEqual({
      'transport-protocol': 'UDP/TLS/RTP/SAVPF',
      ICE: 'default',
      SDES: 'off',
      'rtcp-mux': ['require'],
      flags: ['media handover', 'port latching', 'inject DTMF', 'generate mid', 'SDES-no', 'pad crypto'],
    });
  });

  it('does not inject DTMF for SDES (Teams) callers, and uses strict source against rtpbleed when asked', () => {
    const message = sideOptions('caller', 'sdes', { ...OPTIONS, strictSource: true });
    expect(message['transport-protocol']).toBe('RTP/SAVP');
    expect(message.flags).toEqual(['strict source', 'port latching', 'generate mid', 'SDES-no']);
  });

  it('masks the accepted codecs towards the feature server and transcodes to PCMU / PCMA', () => {
    const message = sideOptions('featureServer', 'rtp', { ...OPTIONS, acceptAndTranscode: ['g729'] });
    expect(message.codec).toEqual({ mask: ['g729'], transcode: ['PCMU', 'PCMA'] });
    expect(sideOptions('caller', 'rtp', { ...OPTIONS, acceptAndTranscode: ['g729'] }).codec).toBeUndefined();
  });

  it('records every call when JAMBONES_RECORD_ALL_CALLS is set', () => {
    expect(commonOptions('cid', { ...OPTIONS, recordAllCalls: true })).toEqual({
      'call-id': 'cid',
      replace: ['origin', 'session-connection'],
      'record call': 'yes',
    });
  });
});
