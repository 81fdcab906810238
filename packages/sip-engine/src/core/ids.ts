import { randomBytes } from 'node:crypto';

/** A From/To tag: 64 random bits (RFC 3261 §19.3 asks for at least 32). */
export function newTagValue(): string {
  return randomBytes(8).toString('hex');
}

/** A Call-ID: 128 random bits. */
export function newCallIdValue(): string {
  return randomBytes(16).toString('hex');
}
