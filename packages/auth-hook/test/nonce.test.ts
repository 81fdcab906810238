import { describe, expect, it } from 'vitest';
import { AuthOptionError, NonceManager } from '../src/index.js';

const secret = 'a-nonce-secret-of-enough-length';
const t0 = Date.UTC(2025, 0, 1);

describe('NonceManager', () => {
  const nonces = new NonceManager({ secret, maxAgeSeconds: 300 });

  it('issues distinct 43-character base64url nonces carrying their issue time', () => {
    const a = nonces.issue(t0);
    const b = nonces.issue(t0);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(nonces.check(a, t0 + 10_000)).toEqual({ kind: 'valid', issuedAt: t0, ageSeconds: 10 });
  });

  it('draws fresh random bits for every nonce, across refills of its random pool', () => {
    const issued = Array.from({ length: 2000 }, () => nonces.issue(t0));
    expect(new Set(issued).size).toBe(2000);
    for (const n of issued) expect(nonces.check(n, t0).kind).toBe('valid');
  });

  it('is valid up to maxAge, stale after', () => {
    const n = nonces.issue(t0);
    expect(nonces.check(n, t0 + 300_000).kind).toBe('valid');
    expect(nonces.check(n, t0 + 300_001)).toMatchObject({ kind: 'stale', issuedAt: t0 });
  });

  it('is checked by another instance sharing the secret, and refused by one without it', () => {
    const n = nonces.issue(t0);
    expect(new NonceManager({ secret }).check(n, t0).kind).toBe('valid');
    expect(new NonceManager({ secret: `${secret}-other` }).check(n, t0)).toEqual({
      kind: 'forged',
      reason: 'signature',
    });
  });

  it('calls tampered, garbage, non-canonical and future nonces forged', () => {
    const n = nonces.issue(t0);
    const bytes = Buffer.from(n, 'base64url');
    bytes[3] = bytes[3]! ^ 1; // a different issue time under the same MAC
    expect(nonces.check(bytes.toString('base64url'), t0)).toEqual({ kind: 'forged', reason: 'signature' });
    for (const junk of ['', '157590482938000', 'x'.repeat(43), `${n}A`, n.slice(1), '"; DROP']) {
      expect(nonces.check(junk, t0).kind, junk).toBe('forged');
    }
    // 43 base64url chars hold 258 bits: the last char's low 2 bits are padding. Another spelling of
    // the same bytes must not pass (it would be a new replay-guard key).
    const last = n.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = n.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(sibling, 'base64url').equals(Buffer.from(n, 'base64url'))).toBe(true);
    expect(nonces.check(sibling, t0)).toEqual({ kind: 'forged', reason: 'format' });

    const future = nonces.issue(t0 + 61_000);
    expect(nonces.check(future, t0)).toEqual({ kind: 'forged', reason: 'future' });
    expect(nonces.check(nonces.issue(t0 + 30_000), t0).kind).toBe('valid');
  });

  it('refuses unusable options with a typed error', () => {
    expect(() => new NonceManager({ secret: 'short' })).toThrow(AuthOptionError);
    expect(() => new NonceManager({ secret, maxAgeSeconds: 0 })).toThrow(AuthOptionError);
    expect(nonces.replayTtlSeconds).toBe(360);
  });
});
