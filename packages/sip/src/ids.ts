import { randomBytes, randomUUID } from 'node:crypto';

/** RFC 3261 §8.1.1.7 magic cookie that starts every branch we generate. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** `bytes` cryptographically random bytes as lower-case hex, drawn from a pooled buffer. */
function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** A From/To tag (RFC 3261 §19.3: at least 32 bits of randomness; we use 64). */
export function newTag(): string {
  return randomHex(8);
}

/** A Via branch: the magic cookie plus 96 random bits (RFC 3261 §8.1.1.7). */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomHex(12);
}

/** A globally unique Call-ID (RFC 3261 §8.1.1.4). */
export function newCallId(): string {
  return randomUUID();
}
