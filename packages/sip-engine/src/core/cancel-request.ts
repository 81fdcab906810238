import { SipHeaders, tryParseCSeq, type SipRequest } from '@sbc/sip';
import type { ClientTransactionHandlers } from '../transaction/types.js';

/**
 * The CANCEL of an INVITE we sent (RFC 3261 §9.1): the same Request-URI, Call-ID, From, To, CSeq number
 * and Route; sent with the INVITE's branch, which the transaction layer puts in its one Via.
 */
export function cancelOf(invite: SipRequest): SipRequest {
  const headers = new SipHeaders();
  headers.set('From', invite.headers.get('from') ?? '');
  headers.set('To', invite.headers.get('to') ?? '');
  headers.set('Call-ID', invite.headers.get('call-id') ?? '');
  headers.set('CSeq', `${tryParseCSeq(invite.headers.get('cseq') ?? '')?.seq ?? 1} CANCEL`);
  for (const route of invite.headers.getAll('route')) headers.append('Route', route);
  headers.set('Max-Forwards', '70');
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, headers, body: Buffer.alloc(0) };
}

/** Handlers for a request whose responses nobody needs (a CANCEL: the INVITE's 487 tells the outcome). */
export const IGNORE_RESPONSES: ClientTransactionHandlers = {
  onResponse: () => undefined,
  onTimeout: () => undefined,
  onTransportError: () => undefined,
};
