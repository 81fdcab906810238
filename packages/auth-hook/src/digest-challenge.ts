import type { DigestAlgorithm } from './digest-response.js';

export interface DigestChallengeInput {
  realm: string;
  nonce: string;
  /** Default MD5. */
  algorithm?: DigestAlgorithm;
  /** `auth` (default) or false for an RFC 2069-style challenge without qop. */
  qop?: 'auth' | false;
  opaque?: string;
  /** RFC 7616 §3.3: the credentials were right but the nonce expired; retry without asking the user. */
  stale?: boolean;
  /** Space-separated URIs of the protection space (RFC 7616 §3.3). */
  domain?: string;
}

/** A quoted-string with `"` and `\` escaped (RFC 7230 §3.2.6). */
export function quoteString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * A `WWW-Authenticate` / `Proxy-Authenticate` header value. Parameter order follows what jambonz
 * sends (`realm, algorithm, qop, nonce`), then opaque and stale:
 * `Digest realm="example.com", algorithm=MD5, qop="auth", nonce="…"`.
 */
export function buildDigestChallenge(input: DigestChallengeInput): string {
  const parts = [`realm=${quoteString(input.realm)}`];
  if (input.domain !== undefined) parts.push(`domain=${quoteString(input.domain)}`);
  parts.push(`algorithm=${input.algorithm ?? 'MD5'}`);
  if (input.qop !== false) parts.push('qop="auth"');
  parts.push(`nonce=${quoteString(input.nonce)}`);
  if (input.opaque !== undefined) parts.push(`opaque=${quoteString(input.opaque)}`);
  if (input.stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

/**
 * One challenge per algorithm, most preferred first: RFC 8760 §2.4 has a UAS send a separate
 * challenge for each algorithm it supports, in its order of preference, and the UAC use the
 * topmost one it understands. All share the nonce.
 */
export function buildDigestChallenges(
  input: Omit<DigestChallengeInput, 'algorithm'> & { algorithms: readonly DigestAlgorithm[] },
): string[] {
  const { algorithms, ...rest } = input;
  return algorithms.map((algorithm) => buildDigestChallenge({ ...rest, algorithm }));
}
