import { hash } from 'node:crypto';

/** Digest algorithms a SIP client may use (RFC 2617, RFC 7616 / RFC 8760). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestInput {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/** The node:crypto hash an algorithm name stands for: SHA-256[-sess] or else MD5. */
export const hashNameOf = (algorithm: string): 'sha256' | 'md5' =>
  algorithm.toUpperCase().startsWith('SHA-256') ? 'sha256' : 'md5';

/** H(username:realm:password), the part of HA1 that depends only on the user. */
export function userSecretHash(
  user: Pick<DigestInput, 'username' | 'realm' | 'password'>,
  hashName: 'sha256' | 'md5',
): string {
  return hash(hashName, `${user.username}:${user.realm}:${user.password}`, 'hex');
}

/** The `response` from a precomputed `userSecretHash` (for the fake hook, which sees each user often). */
export function digestResponseWithSecret(input: Omit<DigestInput, 'password'>, secretHash: string): string {
  const algorithm = input.algorithm ?? 'MD5';
  const hashName = hashNameOf(algorithm);
  const h = (text: string): string => hash(hashName, text, 'hex');
  const ha1 = algorithm.toLowerCase().endsWith('-sess')
    ? h(`${secretHash}:${input.nonce}:${input.cnonce ?? ''}`)
    : secretHash;
  const ha2 = h(`${input.method}:${input.uri}`);
  return input.qop
    ? h(`${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`)
    : h(`${ha1}:${input.nonce}:${ha2}`);
}

/**
 * The `response` a client computes (RFC 7616 §3.4.1). Written apart from @sbc/auth-hook on purpose:
 * the fake hook plays the customer, so it must not share the code it is testing.
 */
export function digestResponse(input: DigestInput): string {
  return digestResponseWithSecret(input, userSecretHash(input, hashNameOf(input.algorithm ?? 'MD5')));
}
