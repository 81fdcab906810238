import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthOptionError } from './errors.js';

export interface NonceOptions {
  /**
   * HMAC key. Every SBC instance that may receive the answer to a challenge must share it.
   * At least 16 bytes.
   */
  secret: string | Uint8Array;
  /** After this many seconds a nonce is stale (answered with `stale=true`). Default 300. */
  maxAgeSeconds?: number;
  /** How far in the future an issue time may be (clock skew between SBC instances). Default 60. */
  clockSkewSeconds?: number;
}

/** What a nonce turned out to be. */
export type NonceCheck =
  | { kind: 'valid'; issuedAt: number; ageSeconds: number }
  /** Ours, but older than maxAgeSeconds: challenge again with stale=true (RFC 7616 §3.3). */
  | { kind: 'stale'; issuedAt: number; ageSeconds: number }
  /** Not one we issued: wrong MAC, wrong format, or an issue time in the future. */
  | { kind: 'forged'; reason: 'format' | 'signature' | 'future' };

const VERSION = 1;
// version (1) | issued-at ms (6, big-endian) | random (9) | HMAC-SHA256 truncated (16)
const SIGNED_LENGTH = 16;
const MAC_LENGTH = 16;
const TOTAL_LENGTH = SIGNED_LENGTH + MAC_LENGTH;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const RANDOM_POOL_SIZE = 4096;
let randomPool = randomBytes(RANDOM_POOL_SIZE);
let randomOffset = 0;

/** Copies `length` cryptographically random bytes into `target`, from a pool (one `randomBytes` per 4 KiB). */
function fillRandom(target: Buffer, at: number, length: number): void {
  if (randomOffset + length > RANDOM_POOL_SIZE) {
    randomPool = randomBytes(RANDOM_POOL_SIZE);
    randomOffset = 0;
  }
  randomPool.copy(target, at, randomOffset, randomOffset + length);
  randomOffset += length;
}

/**
 * Stateless digest nonces: each carries its issue time and a random part, signed with
 * HMAC-SHA256, in 43 base64url characters. Any instance holding the secret can tell a nonce it
 * (or a peer) issued from a forged one and how old it is, without storing anything; replayed
 * nonce-counts are caught separately by a ReplayGuard.
 */
export class NonceManager {
  readonly maxAgeSeconds: number;
  readonly clockSkewSeconds: number;
  private readonly key: Buffer;
  /** The last check: a request's nonce is checked twice (early replay claim, then the digest step). */
  private lastCheck: { nonce: string; now: number; result: NonceCheck } | undefined;

  constructor(options: NonceOptions) {
    this.key = Buffer.from(options.secret);
    if (this.key.length < 16)
      throw new AuthOptionError('secret', 'the nonce secret must be at least 16 bytes');
    this.maxAgeSeconds = options.maxAgeSeconds ?? 300;
    this.clockSkewSeconds = options.clockSkewSeconds ?? 60;
    if (!(this.maxAgeSeconds > 0))
      throw new AuthOptionError('maxAgeSeconds', 'maxAgeSeconds must be positive');
    if (!(this.clockSkewSeconds >= 0)) {
      throw new AuthOptionError('clockSkewSeconds', 'clockSkewSeconds must not be negative');
    }
  }

  /** A fresh nonce issued at `now` (ms since the epoch). */
  issue(now: number = Date.now()): string {
    const bytes = Buffer.alloc(TOTAL_LENGTH);
    bytes.writeUInt8(VERSION, 0);
    bytes.writeUIntBE(Math.max(0, Math.floor(now)), 1, 6);
    fillRandom(bytes, 7, 9);
    this.mac(bytes.subarray(0, SIGNED_LENGTH)).copy(bytes, SIGNED_LENGTH);
    return bytes.toString('base64url');
  }

  /** Whether `nonce` is one of ours and still fresh at `now` (ms since the epoch). */
  check(nonce: string, now: number = Date.now()): NonceCheck {
    const last = this.lastCheck;
    if (last && last.nonce === nonce && last.now === now) return last.result;
    const result = Object.freeze(this.verify(nonce, now));
    this.lastCheck = { nonce, now, result };
    return result;
  }

  private verify(nonce: string, now: number): NonceCheck {
    if (!NONCE_PATTERN.test(nonce)) return { kind: 'forged', reason: 'format' };
    const bytes = Buffer.from(nonce, 'base64url');
    // Only the canonical spelling: other strings decoding to the same bytes would dodge the replay guard.
    if (bytes.length !== TOTAL_LENGTH || bytes.toString('base64url') !== nonce) {
      return { kind: 'forged', reason: 'format' };
    }
    const expected = this.mac(bytes.subarray(0, SIGNED_LENGTH));
    if (!timingSafeEqual(expected, bytes.subarray(SIGNED_LENGTH)))
      return { kind: 'forged', reason: 'signature' };
    if (bytes.readUInt8(0) !== VERSION) return { kind: 'forged', reason: 'format' };
    const issuedAt = bytes.readUIntBE(1, 6);
    const ageSeconds = (now - issuedAt) / 1000;
    if (ageSeconds < -this.clockSkewSeconds) return { kind: 'forged', reason: 'future' };
    if (ageSeconds > this.maxAgeSeconds) return { kind: 'stale', issuedAt, ageSeconds };
    return { kind: 'valid', issuedAt, ageSeconds: Math.max(0, ageSeconds) };
  }

  /** How long a replay guard must remember a (nonce, nc) claim: until no instance accepts the nonce. */
  get replayTtlSeconds(): number {
    return Math.ceil(this.maxAgeSeconds + this.clockSkewSeconds);
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.key).update(data).digest().subarray(0, MAC_LENGTH);
  }
}
