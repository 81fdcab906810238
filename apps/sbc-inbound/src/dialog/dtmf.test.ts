import { describe, expect, it } from 'vitest';
import { DEFAULT_DTMF_DURATION_MS, isDtmfContentType, parseDtmf } from './dtmf.js';

describe('parseDtmf', () => {
  it('reads Signal= and Duration= lines (dtmf-relay, jambonz Dtmf INFO)', () => {
    expect(parseDtmf('Signal=5\r\nDuration=160\r\n')).toEqual({ code: '5', durationMs: 160 });
    expect(parseDtmf('Signal= #\nDuration= 400')).toEqual({ code: '#', durationMs: 400 });
    expect(parseDtmf('signal=a\r\n')).toEqual({ code: 'A', durationMs: DEFAULT_DTMF_DURATION_MS });
  });

  it('takes a bare digit (application/dtmf)', () => {
    expect(parseDtmf('9\r\n')).toEqual({ code: '9', durationMs: DEFAULT_DTMF_DURATION_MS });
  });

  it('refuses bodies without a digit or with a silly duration', () => {
    for (const body of [
      undefined,
      '',
      'Signal=x',
      'Signal=12',
      'hello',
      'Duration=100',
      'Signal=1\nDuration=0',
    ])
      expect(parseDtmf(body), String(body)).toBeUndefined();
  });

  it('knows the DTMF content types, parameters and case aside', () => {
    expect(isDtmfContentType('application/dtmf-relay')).toBe(true);
    expect(isDtmfContentType('Application/DTMF; charset=utf-8')).toBe(true);
    expect(isDtmfContentType('application/sdp')).toBe(false);
    expect(isDtmfContentType(undefined)).toBe(false);
  });
});
