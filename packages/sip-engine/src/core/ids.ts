import { newCallId, newTag } from '../sip/ids.js';

/** A From/To tag (RFC 3261 §19.3), from the pooled random source of sip/ids.ts. */
export function newTagValue(): string {
  return newTag();
}

/** A Call-ID, from the same source. */
export function newCallIdValue(): string {
  return newCallId();
}
