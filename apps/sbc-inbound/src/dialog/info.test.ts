import { describe, expect, it } from 'vitest';
import { FEATURE_SERVER_DTMF_VOLUME, infoAction } from './info.js';

const info = (headers: Record<string, string>, body = '') => ({
  get: (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
  body,
});

describe('infoAction', () => {
  it('takes mute*, unmute* and *Dtmf* from the feature server', () => {
    expect(infoAction('featureServer', info({ 'X-Reason': 'mute' }))).toEqual({ kind: 'mute' });
    expect(infoAction('featureServer', info({ 'X-Reason': 'muteCall' }))).toEqual({ kind: 'mute' });
    expect(infoAction('featureServer', info({ 'X-Reason': 'unmute' }))).toEqual({ kind: 'unmute' });
    expect(infoAction('featureServer', info({ 'X-Reason': 'Dtmf' }, 'Signal=5\r\n'))).toEqual({
      kind: 'dtmf',
      dtmf: { code: '5', durationMs: 250 },
      volume: FEATURE_SERVER_DTMF_VOLUME,
    });
    expect(infoAction('featureServer', info({ 'X-Reason': 'Dtmf' }, 'nothing'))).toEqual({
      kind: 'malformed-dtmf',
    });
  });

  it('takes the four SIPREC commands, exactly as jambonz names them', () => {
    expect(infoAction('featureServer', info({ 'X-Reason': 'startCallRecording' }))).toEqual({
      kind: 'recording',
      command: 'start',
    });
    expect(infoAction('featureServer', info({ 'X-Reason': 'resumeCallRecording' }))).toEqual({
      kind: 'recording',
      command: 'resume',
    });
    expect(infoAction('featureServer', info({ 'X-Reason': 'fooCallRecording' }))).toEqual({ kind: 'relay' });
  });

  it('relays anything else, and a caller’s X-Reason is no command', () => {
    expect(infoAction('featureServer', info({}))).toEqual({ kind: 'relay' });
    expect(infoAction('featureServer', info({ 'X-Reason': 'app-event' }))).toEqual({ kind: 'relay' });
    expect(infoAction('caller', info({ 'X-Reason': 'mute' }))).toEqual({ kind: 'relay' });
  });

  it('turns a caller’s DTMF INFO into DTMF at rtpengine’s default volume', () => {
    expect(
      infoAction('caller', info({ 'Content-Type': 'application/dtmf-relay' }, 'Signal=#\r\nDuration=100')),
    ).toEqual({ kind: 'dtmf', dtmf: { code: '#', durationMs: 100 } });
    expect(infoAction('caller', info({ 'Content-Type': 'application/dtmf' }, 'x'))).toEqual({
      kind: 'malformed-dtmf',
    });
  });
});
