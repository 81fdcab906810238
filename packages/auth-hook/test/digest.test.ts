import { describe, expect, it } from 'vitest';
import { digestResponse } from '@sbc/testkit';
import {
  buildDigestChallenge,
  buildDigestChallenges,
  computeDigestResponse,
  DIGEST_ALGORITHMS,
  DigestParseError,
  digestsEqual,
  nonceCountOf,
  parseDigestAlgorithm,
  parseDigestCredentials,
  verifyDigestResponse,
  type DigestParseFailure,
} from '../src/index.js';

// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
const RFC7616 = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
  qop: 'auth',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
};

describe('digest responses', () => {
  it('matches RFC 2617 §3.5 (MD5, qop=auth)', () => {
    expect(
      computeDigestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('matches RFC 7616 §3.9.1 for MD5 and SHA-256', () => {
    expect(computeDigestResponse({ ...RFC7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(computeDigestResponse({ ...RFC7616, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('verifies the RFC 7616 §3.9.1 Authorization headers as a server', () => {
    const md5 = parseDigestCredentials(
      `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5,
       nonce="${RFC7616.nonce}", nc=00000001, cnonce="${RFC7616.cnonce}", qop=auth,
       response="8ca523f5e9506fed4657c9700eebdbec", opaque="${RFC7616.opaque}"`,
    );
    const sha = parseDigestCredentials(
      `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256,
       nonce="${RFC7616.nonce}", nc=00000001, cnonce="${RFC7616.cnonce}", qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="${RFC7616.opaque}"`,
    );
    expect(verifyDigestResponse(md5, { method: 'GET', password: 'Circle of Life' })).toBe(true);
    expect(verifyDigestResponse(sha, { method: 'GET', password: 'Circle of Life' })).toBe(true);
    expect(verifyDigestResponse(sha, { method: 'GET', password: 'circle of life' })).toBe(false);
    expect(verifyDigestResponse(sha, { method: 'POST', password: 'Circle of Life' })).toBe(false);
  });

  it('agrees with an independent implementation for every algorithm, with and without qop', () => {
    const base = {
      username: 'john',
      realm: 'jambonz.org',
      password: '1234',
      method: 'REGISTER',
      uri: 'sip:jambonz.org',
      nonce: 'abc123',
    };
    for (const algorithm of DIGEST_ALGORITHMS) {
      const withQop = { ...base, algorithm, qop: 'auth', nc: '0000000a', cnonce: 'xyz' };
      expect(computeDigestResponse(withQop), algorithm).toBe(digestResponse(withQop));
      // RFC 2069 style: the -sess variants still need a cnonce for A1.
      const withoutQop = { ...base, algorithm, ...(algorithm.endsWith('-sess') && { cnonce: 'xyz' }) };
      expect(computeDigestResponse(withoutQop), algorithm).toBe(digestResponse(withoutQop));
    }
  });

  it('refuses auth-int and unknown algorithms, and compares hex case-insensitively', () => {
    const response = digestResponse({ ...RFC7616, algorithm: 'MD5' });
    const header = (extra: string) =>
      parseDigestCredentials(
        `Digest username="Mufasa", realm="${RFC7616.realm}", nonce="${RFC7616.nonce}", uri="/dir/index.html", nc=00000001, cnonce="${RFC7616.cnonce}", ${extra}`,
      );
    const password = { method: 'GET', password: 'Circle of Life' };
    expect(verifyDigestResponse(header(`qop=auth, response="${response.toUpperCase()}"`), password)).toBe(
      true,
    );
    expect(verifyDigestResponse(header(`qop=auth-int, response="${response}"`), password)).toBe(false);
    expect(
      verifyDigestResponse(header(`qop=auth, algorithm=SHA-512-256, response="${response}"`), password),
    ).toBe(false);
    expect(digestsEqual('abcd', 'abc')).toBe(false);
  });

  it('names algorithms case-insensitively, MD5 when absent', () => {
    expect(parseDigestAlgorithm(undefined)).toBe('MD5');
    expect(parseDigestAlgorithm('sha-256-SESS')).toBe('SHA-256-sess');
    expect(parseDigestAlgorithm('md5')).toBe('MD5');
    expect(parseDigestAlgorithm('SHA-512-256')).toBeUndefined();
  });
});

describe('parseDigestCredentials', () => {
  it('reads quoted strings with escapes, tokens, any name case and folded whitespace', () => {
    const c = parseDigestCredentials(
      'digest  USERNAME="jo\\"hn\\\\", Realm=jambonz.org,\r\n\tnonce="n,1", uri="sip:jambonz.org;transport=udp",' +
        'response="0123", ALGORITHM=sha-256, qop="auth", NC=00000001, cnonce="c n", opaque="", x-ext=1,',
    );
    expect(c).toMatchObject({
      scheme: 'Digest',
      username: 'jo"hn\\',
      realm: 'jambonz.org',
      nonce: 'n,1',
      uri: 'sip:jambonz.org;transport=udp',
      response: '0123',
      algorithm: 'sha-256',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c n',
      opaque: '',
    });
    expect(c.params.get('x-ext')).toBe('1');
    expect(nonceCountOf(c)).toBe(1);
  });

  it('leaves out what the client did not send', () => {
    const c = parseDigestCredentials('Digest username="a", realm="r", nonce="n", uri="sip:r", response="x"');
    expect(c.algorithm).toBeUndefined();
    expect(c.qop).toBeUndefined();
    expect(nonceCountOf(c)).toBeUndefined();
    expect(Object.keys(c)).toEqual(['scheme', 'username', 'realm', 'nonce', 'uri', 'response', 'params']);
  });

  const garbage: [string, DigestParseFailure, string?][] = [
    ['', 'not-digest'],
    ['Basic am9objoxMjM0', 'not-digest'],
    ['Digestusername="a"', 'not-digest'],
    ['Digest', 'missing-parameter', 'username'],
    ['Digest username', 'syntax', 'username'],
    ['Digest username=', 'syntax', 'username'],
    ['Digest username="a', 'syntax', 'username'],
    ['Digest username="a" realm="r"', 'syntax', 'username'],
    ['Digest ="a"', 'syntax'],
    [
      'Digest username="a", Username="b", realm="r", nonce="n", uri="u", response="x"',
      'duplicate-parameter',
      'username',
    ],
    ['Digest username="a", realm="r", nonce="n", uri="u"', 'missing-parameter', 'response'],
    [
      'Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, cnonce="c"',
      'missing-parameter',
      'nc',
    ],
    [
      'Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=1',
      'missing-parameter',
      'cnonce',
    ],
    [
      'Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=MD5-sess',
      'missing-parameter',
      'cnonce',
    ],
    [
      'Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=zz, cnonce="c"',
      'invalid-parameter',
      'nc',
    ],
    [
      'Digest username="a\x00b", realm="r", nonce="n", uri="u", response="x"',
      'invalid-parameter',
      'username',
    ],
    [
      'Digest username="a\r\nb", realm="r", nonce="n", uri="u", response="x"',
      'invalid-parameter',
      'username',
    ],
  ];
  it.each(garbage)('refuses %j with a typed error (%s)', (header, failure, parameter) => {
    let caught: unknown;
    try {
      parseDigestCredentials(header);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DigestParseError);
    expect((caught as DigestParseError).failure).toBe(failure);
    expect((caught as DigestParseError).parameter).toBe(parameter);
  });
});

describe('challenges', () => {
  it('builds the jambonz-shaped header, escaping the realm', () => {
    expect(buildDigestChallenge({ realm: 'jambonz.org', nonce: 'abc' })).toBe(
      'Digest realm="jambonz.org", algorithm=MD5, qop="auth", nonce="abc"',
    );
    expect(
      buildDigestChallenge({
        realm: 'a"b\\c',
        nonce: 'n',
        algorithm: 'SHA-256',
        opaque: 'o',
        stale: true,
        domain: 'sip:a sip:b',
      }),
    ).toBe(
      'Digest realm="a\\"b\\\\c", domain="sip:a sip:b", algorithm=SHA-256, qop="auth", nonce="n", opaque="o", stale=true',
    );
    expect(buildDigestChallenge({ realm: 'r', nonce: 'n', qop: false })).toBe(
      'Digest realm="r", algorithm=MD5, nonce="n"',
    );
  });

  it('offers one challenge per algorithm in preference order, sharing the nonce (RFC 8760 §2.4)', () => {
    expect(
      buildDigestChallenges({ realm: 'r', nonce: 'n', algorithms: ['SHA-256', 'MD5'], stale: true }),
    ).toEqual([
      'Digest realm="r", algorithm=SHA-256, qop="auth", nonce="n", stale=true',
      'Digest realm="r", algorithm=MD5, qop="auth", nonce="n", stale=true',
    ]);
  });

  it('round-trips: what a client computes from our challenge verifies', () => {
    const value = buildDigestChallenge({ realm: 'jambonz.org', nonce: 'xyz', algorithm: 'SHA-256' });
    // Read the challenge back with the same grammar (it is an auth-param list too).
    const parsed = parseDigestCredentials(
      `${value}, username="john", uri="sip:jambonz.org", response="-", nc=1, cnonce="c"`,
    );
    const response = digestResponse({
      username: 'john',
      realm: parsed.realm,
      password: '1234',
      method: 'REGISTER',
      uri: 'sip:jambonz.org',
      nonce: parsed.nonce,
      algorithm: parsed.algorithm,
      qop: parsed.qop,
      nc: '00000001',
      cnonce: 'c',
    });
    const credentials = parseDigestCredentials(
      `Digest username="john", realm="jambonz.org", nonce="xyz", uri="sip:jambonz.org", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c", response="${response}"`,
    );
    expect(verifyDigestResponse(credentials, { method: 'REGISTER', password: '1234' })).toBe(true);
  });
});
