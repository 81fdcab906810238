import { createHash, timingSafeEqual } from 'node:crypto';
import type { DigestCredentials } from './digest-credentials.js';

/** The digest algorithms we compute (RFC 2617 §3.2.2, RFC 7616 §3.2 / §6.1, RFC 8760 §2). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'];

/**
 * The algorithm named by a challenge or credentials parameter (case-insensitive, RFC 7616 §3.3);
 * an absent parameter means MD5. Undefined for algorithms we do not implement (e.g. SHA-512-256).
 */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const lower = value.toLowerCase();
  return DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === lower);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  /** The SIP method of the request (RFC 3261 §22.4: A2 uses the request's method). */
  method: string;
  /** The digest-uri the client sent (not the Request-URI we received). */
  uri: string;
  nonce: string;
  /** `auth` or absent (RFC 2069 compatibility, RFC 2617 §3.2.2.1). `auth-int` is not supported. */
  qop?: string;
  nc?: string;
  cnonce?: string;
}

const hasherFor = (algorithm: DigestAlgorithm) => {
  const name = algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  return (text: string): string => createHash(name).update(text, 'utf8').digest('hex');
};

/**
 * The `response` value (RFC 7616 §3.4.1):
 *   A1 = user:realm:password, for -sess: H(user:realm:password):nonce:cnonce (§3.4.2)
 *   A2 = method:uri (qop=auth or none, §3.4.3)
 *   response = H(H(A1):nonce:nc:cnonce:qop:H(A2)) with qop, H(H(A1):nonce:H(A2)) without.
 */
export function computeDigestResponse(input: DigestResponseInput): string {
  const h = hasherFor(input.algorithm);
  let ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  if (input.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const ha2 = h(`${input.method}:${input.uri}`);
  if (input.qop === undefined) return h(`${ha1}:${input.nonce}:${ha2}`);
  return h(`${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
}

/** Compares two hex digests in constant time (case-insensitively; lengths are not secret). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

/**
 * True when `credentials.response` is what a client knowing `password` computes for this request.
 * False for an algorithm we do not implement or a qop other than `auth`.
 */
export function verifyDigestResponse(
  credentials: DigestCredentials,
  request: { method: string; password: string },
): boolean {
  const algorithm = parseDigestAlgorithm(credentials.algorithm);
  if (!algorithm) return false;
  if (credentials.qop !== undefined && credentials.qop.toLowerCase() !== 'auth') return false;
  const expected = computeDigestResponse({
    algorithm,
    username: credentials.username,
    realm: credentials.realm,
    password: request.password,
    method: request.method,
    uri: credentials.uri,
    nonce: credentials.nonce,
    qop: credentials.qop,
    nc: credentials.nc,
    cnonce: credentials.cnonce,
  });
  return digestsEqual(expected, credentials.response);
}
