import { SipHeaders, type SipHeadersContract, type SipRequest, type SipResponse } from '@sbc/sip';
import { cseqOf } from './sip-fields.js';

/**
 * The ACK a client INVITE transaction sends for a non-2xx final response (RFC 3261 §17.1.1.3):
 * Request-URI, Call-ID, From and the top Via (so the same branch) of the INVITE, To of the response,
 * CSeq with the INVITE's number and method ACK, the INVITE's Route header fields, an empty body.
 */
export function ackForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const src = invite.headers;
  const headers = new SipHeaders();
  const via = src.getAll('via')[0];
  if (via !== undefined) headers.append('Via', via);
  headers.append('Max-Forwards', src.get('max-forwards') ?? '70');
  for (const route of src.getAll('route')) headers.append('Route', route);
  copy(src, headers, 'from', 'From');
  const to = response.headers.get('to') ?? src.get('to');
  if (to !== undefined) headers.append('To', to);
  copy(src, headers, 'call-id', 'Call-ID');
  headers.append('CSeq', `${cseqOf(src)?.seq ?? 1} ACK`);
  headers.append('Content-Length', '0');
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: Buffer.alloc(0) };
}

function copy(from: SipHeadersContract, to: SipHeadersContract, name: string, canonical: string): void {
  const value = from.get(name);
  if (value !== undefined) to.append(canonical, value);
}
