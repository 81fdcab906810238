import { clip, CSeqSyntaxError } from './errors.js';
import { isToken, isWsp, parseBoundedInt, trimWsp } from './grammar.js';
import type { CSeq } from './types.js';

const MAX_CSEQ = 2 ** 31 - 1;

/** Parses `1*DIGIT LWS Method` (RFC 3261 §20.16; the number must be below 2^31, §8.1.1.5). */
export function tryParseCSeq(value: string): CSeq | undefined {
  const s = trimWsp(value);
  let i = 0;
  while (i < s.length && !isWsp(s.charCodeAt(i))) i++;
  const seq = parseBoundedInt(s.slice(0, i), MAX_CSEQ);
  if (seq < 0) return undefined;
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  const method = s.slice(i);
  if (!isToken(method)) return undefined;
  return { seq, method };
}

/** Like `tryParseCSeq`, throwing `CSeqSyntaxError`. */
export function parseCSeq(value: string): CSeq {
  const cseq = tryParseCSeq(value);
  if (!cseq) throw new CSeqSyntaxError(`invalid CSeq: ${clip(value)}`, clip(value));
  return cseq;
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}
