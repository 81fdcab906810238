/**
 * Remembers which (nonce, nonce-count) pairs were used. `claim` resolves true the first time a
 * pair is seen and false for a replay; it rejects when its store is unreachable. `NonceStore`
 * from @sbc/redis implements it (shared across SBC instances through Redis).
 */
export interface ReplayGuard {
  claim(nonce: string, nc: number, ttlSeconds: number): Promise<boolean>;
}

/**
 * The nonce-count claimed for credentials without qop (RFC 2069 style, no `nc`): such a nonce is
 * single-use, so a second request with it is treated as a replay and re-challenged with stale=true.
 */
export const NO_QOP_NONCE_COUNT = 0;
