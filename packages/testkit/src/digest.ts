import { createHash } from 'node:crypto';

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

const hashOf = (algorithm: string) => (text: string) =>
  createHash(algorithm.toUpperCase().startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');

/**
 * The `response` a client computes (RFC 7616 §3.4.1). Written apart from @sbc/auth-hook on purpose:
 * the fake hook plays the customer, so it must not share the code it is testing.
 */
export function digestResponse(input: DigestInput): string {
  const algorithm = input.algorithm ?? 'MD5';
  const h = hashOf(algorithm);
  let ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  if (algorithm.toLowerCase().endsWith('-sess')) ha1 = h(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const ha2 = h(`${input.method}:${input.uri}`);
  return input.qop
    ? h(`${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`)
    : h(`${ha1}:${input.nonce}:${ha2}`);
}
