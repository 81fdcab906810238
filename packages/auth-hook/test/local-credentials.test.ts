import { describe, expect, it } from 'vitest';
import { digestResponse } from '@sbc/testkit';
import { parseDigestCredentials, verifyClientCredentials, type ClientRow } from '../src/index.js';

const row: ClientRow = {
  client_sid: 'c-1',
  account_sid: 'a-1',
  username: 'alice',
  password: 'wonder1and',
  is_active: 1,
  allow_direct_app_calling: 1,
  allow_direct_queue_calling: 0,
  allow_direct_user_calling: true,
};

function credentialsOf(password: string, algorithm?: string, method = 'REGISTER') {
  const input = {
    username: 'alice',
    realm: 'sip.example.com',
    password,
    method,
    uri: 'sip:sip.example.com',
    nonce: 'nonce-1',
    algorithm,
    qop: 'auth',
    nc: '00000001',
    cnonce: 'abc',
  };
  return parseDigestCredentials(
    `Digest username="alice", realm="sip.example.com", nonce="nonce-1", uri="sip:sip.example.com", qop=auth, nc=00000001, cnonce="abc"` +
      `${algorithm ? `, algorithm=${algorithm}` : ''}, response="${digestResponse(input)}"`,
  );
}

describe('verifyClientCredentials', () => {
  it('accepts the right password (MD5 and SHA-256) and grants the allow_direct_* flags', () => {
    for (const algorithm of [undefined, 'SHA-256', 'MD5-sess']) {
      expect(
        verifyClientCredentials(row, credentialsOf('wonder1and', algorithm), { method: 'REGISTER' }),
      ).toEqual({
        kind: 'ok',
        grant: {
          allow_direct_app_calling: true,
          allow_direct_queue_calling: false,
          allow_direct_user_calling: true,
        },
        client: row,
      });
    }
  });

  it('refuses a wrong password, a digest for another method, and a row without a password', () => {
    const fail = { kind: 'fail', reason: 'invalid-password' };
    expect(verifyClientCredentials(row, credentialsOf('wonderland'), { method: 'REGISTER' })).toEqual(fail);
    expect(
      verifyClientCredentials(row, credentialsOf('wonder1and', undefined, 'INVITE'), { method: 'REGISTER' }),
    ).toEqual(fail);
    expect(
      verifyClientCredentials({ ...row, password: null }, credentialsOf('wonder1and'), {
        method: 'REGISTER',
      }),
    ).toEqual(fail);
  });

  it('refuses an inactive client even with the right password', () => {
    expect(
      verifyClientCredentials({ ...row, is_active: 0 }, credentialsOf('wonder1and'), { method: 'REGISTER' }),
    ).toEqual({ kind: 'fail', reason: 'inactive-client' });
  });

  it('refuses an unknown user (no row, or a row for someone else)', () => {
    expect(verifyClientCredentials(undefined, credentialsOf('wonder1and'), { method: 'REGISTER' })).toEqual({
      kind: 'fail',
      reason: 'unknown-user',
    });
    expect(
      verifyClientCredentials({ ...row, username: 'bob' }, credentialsOf('wonder1and'), {
        method: 'REGISTER',
      }),
    ).toEqual({ kind: 'fail', reason: 'unknown-user' });
  });
});
