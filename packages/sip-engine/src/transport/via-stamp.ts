import {
  SipHeaders as SipHeaderList,
  splitHeaderList,
  formatVia,
  tryParseVia,
  type SipHeadersContract as SipHeaders,
  type SipRequest,
} from '@sbc/sip';
import { sameAddress } from './addresses.js';
import type { Peer } from './types.js';

/**
 * Adds `received` to the top Via when its sent-by host is not the source address (RFC 3261 §18.2.1) and
 * fills an empty `rport` with the source port, then `received` always (RFC 3581 §4). With `forceRport`
 * a missing `rport` is added too. Returns whether the Via changed.
 */
export function stampTopVia(request: SipRequest, source: Peer, forceRport: boolean): boolean {
  const headers: SipHeaders = request.headers;
  const first = headers.get('via');
  if (first === undefined) return false;
  const elements = first.indexOf(',') >= 0 ? splitHeaderList(first) : [first];
  const top = elements[0];
  const via = top === undefined ? undefined : tryParseVia(top);
  if (!via) return false;
  const rport = via.params.get('rport');
  let changed = false;
  if (rport === null || rport === '' || (rport === undefined && forceRport)) {
    via.params.set('rport', String(source.port));
    via.params.set('received', source.address);
    changed = true;
  } else if (!sameAddress(via.host, source.address) && via.params.get('received') !== source.address) {
    via.params.set('received', source.address);
    changed = true;
  }
  if (!changed) return false;
  elements[0] = formatVia(via);
  const value = elements.length === 1 ? elements[0] : elements.join(', ');
  if (headers instanceof SipHeaderList) {
    headers.replaceAt('via', 0, value);
  } else {
    // another SipHeaders implementation: rewrite the Via fields in order
    const vias = headers
      .fields()
      .filter((f) => f.name.toLowerCase() === 'via' || f.name.toLowerCase() === 'v');
    headers.remove('via');
    for (let i = vias.length - 1; i >= 1; i--) headers.prepend(vias[i]!.name, vias[i]!.value);
    headers.prepend(vias[0]?.name ?? 'Via', value);
  }
  return true;
}
