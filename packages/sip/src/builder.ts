import { canonicalHeaderKey, SipHeaders } from './headers.js';
import { tagOf } from './name-addr.js';
import { EMPTY_BODY } from './parser.js';
import { reasonPhrase } from './reasons.js';
import type { SipHeaderField, SipHeaders as SipHeadersContract, SipRequest, SipResponse } from './types.js';

/** Header fields to start a message with: fields, name/value pairs or a record (array values repeat the header). */
export type HeaderInit =
  | SipHeadersContract
  | Iterable<SipHeaderField>
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[]>>;

function toHeaders(init: HeaderInit | undefined): SipHeaders {
  if (init === undefined) return new SipHeaders();
  if (init instanceof SipHeaders) return init.clone();
  if (typeof (init as SipHeadersContract).fields === 'function') {
    return new SipHeaders((init as SipHeadersContract).fields());
  }
  if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return new SipHeaders(init as Iterable<SipHeaderField>);
  }
  const headers = new SipHeaders();
  for (const [name, value] of Object.entries(init as Record<string, string | readonly string[]>)) {
    if (typeof value === 'string') headers.append(name, value);
    else for (const v of value) headers.append(name, v);
  }
  return headers;
}

function toBody(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return EMPTY_BODY;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

export function createRequest(
  method: string,
  uri: string,
  headers?: HeaderInit,
  body?: Buffer | string,
): SipRequest {
  return { kind: 'request', method, uri, headers: toHeaders(headers), body: toBody(body) };
}

/** A response; the reason defaults to the standard phrase of the status. */
export function createResponse(
  status: number,
  reason?: string,
  headers?: HeaderInit,
  body?: Buffer | string,
): SipResponse {
  return {
    kind: 'response',
    status,
    reason: reason ?? reasonPhrase(status),
    headers: toHeaders(headers),
    body: toBody(body),
  };
}

const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * A response to `request` per RFC 3261 §8.2.6.2: every Via (in order), From, To, Call-ID and CSeq copied.
 * With `toTag`, a To without a tag gets it (not on 100 Trying).
 */
export function responseTo(
  request: SipRequest,
  status: number,
  reason?: string,
  options?: { toTag?: string },
): SipResponse {
  const headers = new SipHeaders();
  for (const field of request.headers.fields()) {
    const key = canonicalHeaderKey(field.name);
    if (!COPIED.has(key)) continue;
    if (key === 'to' && options?.toTag && status > 100 && tagOf(field.value) === undefined) {
      headers.pushCanonical(field.name, key, `${field.value};tag=${options.toTag}`);
    } else {
      headers.pushCanonical(field.name, key, field.value);
    }
  }
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers, body: EMPTY_BODY };
}

/** Adds `;tag=` to the To header of a response unless it has one (RFC 3261 §8.2.6.2). */
export function setToTag(response: SipResponse, tag: string): void {
  const to = response.headers.get('to') ?? '';
  if (!tagOf(to)) response.headers.set('To', `${to};tag=${tag}`);
}
