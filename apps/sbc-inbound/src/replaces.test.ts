import { describe, expect, it } from 'vitest';
import {
  findReplacedCall,
  MalformedReplacesError,
  parseReplaces,
  ReplacedCallAnsweredError,
  ReplacedDialogMismatchError,
} from './replaces.js';

describe('parseReplaces', () => {
  it('reads RFC 3891’s call-id, tags (any order, any case) and early-only', () => {
    expect(parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff')).toEqual({
      callId: '98732@sip.example.com',
      toTag: 'ff87ff',
      fromTag: 'r33th4x0r',
      earlyOnly: false,
    });
    expect(parseReplaces('c1 ; To-Tag=a ; From-Tag=b ; early-only')).toMatchObject({
      toTag: 'a',
      fromTag: 'b',
      earlyOnly: true,
    });
  });

  it('refuses a header that names no dialog', () => {
    for (const bad of [
      '',
      'c1',
      'c1;to-tag=a',
      'c1;from-tag=b',
      ';to-tag=a;from-tag=b',
      'c1;to-tag=;from-tag=b',
    ])
      expect(() => parseReplaces(bad), bad).toThrow(MalformedReplacesError);
  });
});

describe('findReplacedCall', () => {
  const calls = [
    { callerDialog: { callId: 'c1', localTag: 'sbc1', remoteTag: 'caller1' } },
    { callerDialog: { callId: 'c2', localTag: 'sbc2', remoteTag: 'caller2' } },
  ];
  const target = (callId: string, toTag: string, fromTag: string, earlyOnly = false) => ({
    callId,
    toTag,
    fromTag,
    earlyOnly,
  });

  it('matches Call-ID, to-tag = our tag and from-tag = the caller’s', () => {
    expect(findReplacedCall(calls, target('c2', 'sbc2', 'caller2'))).toBe(calls[1]);
    expect(findReplacedCall(calls, target('c3', 'x', 'y'))).toBeUndefined();
  });

  it('481 for the tags of another dialog (or swapped), 486 for early-only on an answered call', () => {
    expect(() => findReplacedCall(calls, target('c1', 'caller1', 'sbc1'))).toThrow(
      ReplacedDialogMismatchError,
    );
    expect(() => findReplacedCall(calls, target('c1', 'sbc1', 'caller1', true))).toThrow(
      ReplacedCallAnsweredError,
    );
  });
});
