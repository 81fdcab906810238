import type { SipRequest, SipResponse } from '@sbc/sip';
import { BRANCH_COOKIE, cseqOf, tagOf, topVia, type TopVia } from './sip-fields.js';

/** RFC 3261 §8.1.1.7: only branches with the magic cookie are unique transaction ids. */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(BRANCH_COOKIE);
}

/** §17.1.3: a client transaction is the branch of the top Via plus the CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

/** The client transaction key a response belongs to, undefined when its top Via or CSeq cannot be read. */
export function clientKeyOfResponse(response: SipResponse): string | undefined {
  const branch = topVia(response.headers)?.branch;
  const method = cseqOf(response.headers)?.method;
  return branch === undefined || method === undefined ? undefined : clientKey(branch, method);
}

/**
 * §17.2.3: the server transaction key of `request` looked up as `method` (ACK and CANCEL look up the
 * INVITE: pass 'INVITE'). With a magic-cookie branch: branch + sent-by + method. Without (RFC 2543
 * peers): Request-URI, To tag (`toTag` overrides it, for the ACK of a response that added one), From
 * tag, Call-ID, CSeq number and the top Via. Undefined when the request lacks what is needed.
 */
export function serverKey(
  request: SipRequest,
  via: TopVia,
  method: string,
  toTag?: string,
): string | undefined {
  if (isRfc3261Branch(via.branch)) return `${via.branch}|${via.sentBy}|${method}`;
  const headers = request.headers;
  const cseq = cseqOf(headers);
  if (cseq === undefined) return undefined;
  const to = toTag ?? tagOf(headers.get('to')) ?? '';
  const from = tagOf(headers.get('from')) ?? '';
  const callId = headers.get('call-id') ?? '';
  return `2543|${method}|${request.uri}|${to}|${from}|${callId}|${cseq.seq}|${via.transport} ${via.sentBy};${via.branch ?? ''}`;
}
