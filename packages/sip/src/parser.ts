import { tryParseCSeq } from './cseq.js';
import { isDigits, isToken, isWsp, parseBoundedInt, trimWsp } from './grammar.js';
import { internHeaderName, SipHeaders, splitHeaderList } from './headers.js';
import { tryParseNameAddr } from './name-addr.js';
import type { ParseLimits, SipMessage, SipParseFailure, SipParseResult } from './types.js';
import { uriShape } from './uri.js';
import { tryParseVia } from './via.js';

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxMessageBytes: 65_535,
  maxHeaders: 256,
  maxLineBytes: 8_192,
});

const HEADER_DISPLAY: Readonly<Record<string, string>> = {
  via: 'Via',
  from: 'From',
  to: 'To',
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'max-forwards': 'Max-Forwards',
  'content-length': 'Content-Length',
  contact: 'Contact',
  route: 'Route',
  'record-route': 'Record-Route',
};

/** Shared by every message without a body (a zero-length buffer cannot be written to). */
export const EMPTY_BODY: Buffer = Buffer.alloc(0);

const LF = 0x0a;
const CR = 0x0d;

interface StartLine {
  kind: 'request' | 'response';
  method: string;
  uri: string;
  status: number;
  reason: string;
  /** First problem found in the start line. */
  error?: string;
  /** 505 when the version is well-formed but not 2.0. */
  errorStatus?: number;
}

function parseStartLine(line: string): StartLine {
  const result: StartLine = { kind: 'request', method: '', uri: '', status: 0, reason: '' };
  if (line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/') {
    result.kind = 'response';
    const sp = line.indexOf(' ');
    const version = sp < 0 ? line : line.slice(0, sp);
    if (version.toUpperCase() !== 'SIP/2.0') {
      result.error = 'unsupported SIP version in the status line';
      return result;
    }
    const code = line.slice(sp + 1, sp + 4);
    if (!isDigits(code) || code.length !== 3 || (line.length > sp + 4 && line.charCodeAt(sp + 4) !== 32)) {
      result.error = 'malformed status code';
      return result;
    }
    result.status = Number(code);
    if (result.status < 100 || result.status > 699) result.error = 'status code out of range';
    result.reason = line.slice(sp + 5);
    return result;
  }
  const sp1 = line.indexOf(' ');
  result.method = sp1 < 0 ? line : line.slice(0, sp1);
  if (!isToken(result.method)) {
    result.error = 'malformed request method';
    return result;
  }
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 < 0 || sp2 < 0) {
    result.error = 'malformed request line';
    return result;
  }
  result.uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (result.uri === '' || version.indexOf(' ') >= 0 || version.indexOf('\t') >= 0) {
    result.error = 'malformed request line (extra whitespace)';
    return result;
  }
  const upper = version.toUpperCase();
  if (upper !== 'SIP/2.0') {
    if (upper.startsWith('SIP/') && /^\d+\.\d+$/.test(upper.slice(4))) {
      result.error = `unsupported SIP version ${version}`;
      result.errorStatus = 505;
    } else {
      result.error = 'malformed SIP version in the request line';
    }
  }
  return result;
}

function fail(reason: string, respondable?: SipParseFailure['respondable']): SipParseFailure {
  return respondable ? { ok: false, reason, respondable } : { ok: false, reason };
}

/** Checks the header fields every request and response needs (RFC 3261 §8.1.1, §20); returns a reason or undefined. */
function validateHeaders(headers: SipHeaders, start: StartLine): string | undefined {
  const fields = headers.keyedFields();
  let via = 0;
  let from = 0;
  let to = 0;
  let callId = 0;
  let cseq = 0;
  let maxForwards = 0;
  let contentLength = 0;
  let contact = 0;
  for (const field of fields) {
    switch (field.key) {
      case 'via':
        via++;
        break;
      case 'from':
        from++;
        break;
      case 'to':
        to++;
        break;
      case 'call-id':
        callId++;
        break;
      case 'cseq':
        cseq++;
        break;
      case 'max-forwards':
        maxForwards++;
        break;
      case 'content-length':
        contentLength++;
        break;
      case 'contact':
        contact++;
        break;
      default:
        break;
    }
  }
  if (via === 0) return 'missing Via header';
  if (from === 0) return 'missing From header';
  if (to === 0) return 'missing To header';
  if (callId === 0) return 'missing Call-ID header';
  if (cseq === 0) return 'missing CSeq header';
  if (callId > 1) return 'multiple Call-ID headers';
  if (from > 1) return 'multiple From headers';
  if (to > 1) return 'multiple To headers';
  if (cseq > 1) return 'multiple CSeq headers';
  if (maxForwards > 1) return 'multiple Max-Forwards headers';
  if (contentLength > 1) return 'multiple Content-Length headers';
  for (const field of fields) {
    const key = field.key;
    switch (key) {
      case 'via':
        for (const element of field.value.indexOf(',') >= 0 ? splitHeaderList(field.value) : [field.value]) {
          if (!tryParseVia(element)) return 'malformed Via header';
        }
        break;
      case 'from':
      case 'to':
        // one name-addr: a second value after a comma makes the whole value invalid
        if (!tryParseNameAddr(field.value)) return `malformed ${HEADER_DISPLAY[key]} header`;
        break;
      case 'contact':
      case 'route':
      case 'record-route': {
        const parts = splitHeaderList(field.value);
        for (const part of parts) {
          if (key === 'contact' && part === '*') {
            if (parts.length !== 1 || contact !== 1) return 'Contact * combined with other contacts';
            continue;
          }
          if (!tryParseNameAddr(part)) return `malformed ${HEADER_DISPLAY[key]} header`;
        }
        break;
      }
      case 'call-id': {
        const v = field.value;
        if (v === '') return 'empty Call-ID header';
        for (let i = 0; i < v.length; i++) {
          const c = v.charCodeAt(i);
          if (c <= 32 || c === 127) return 'malformed Call-ID header';
        }
        break;
      }
      case 'cseq': {
        const cseq = tryParseCSeq(field.value);
        if (!cseq) return 'malformed CSeq header';
        if (start.kind === 'request' && cseq.method !== start.method)
          return 'CSeq method does not match the request method';
        break;
      }
      case 'max-forwards':
        if (parseBoundedInt(field.value, 255) < 0) return 'malformed Max-Forwards header';
        break;
      default:
        break;
    }
  }
  if (start.kind === 'request') {
    const shape = uriShape(start.uri);
    if (shape === 0) return 'malformed Request-URI';
    if (shape === 2) return 'Request-URI must not contain headers'; // RFC 3261 §19.1.1
  }
  return undefined;
}

/**
 * The body bytes. A view keeps its whole backing store alive for as long as the message lives (a
 * transaction keeps it for 32 s): an empty body is the shared EMPTY_BODY, and a body that is a small part
 * of a larger store (Buffer.concat and Buffer.from draw from Node's shared 8 KiB pool) is copied.
 */
function bodyOf(buf: Buffer, start: number, end: number): Buffer {
  if (end <= start) return EMPTY_BODY;
  const view = buf.subarray(start, end);
  return buf.buffer.byteLength > 2 * buf.length ? ownCopy(view) : view;
}

/** A copy in memory of its own (Buffer.from would take a slice of the shared pool again). */
export function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

function parse(buf: Buffer, limits: ParseLimits): SipParseResult {
  if (buf.length > limits.maxMessageBytes) return fail(`message larger than ${limits.maxMessageBytes} bytes`);
  // RFC 3261 §7.5: CRLFs before the start line are ignored
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  if (start >= buf.length) return fail('empty message');

  // find the empty line that ends the header section (CRLF or bare LF line ends)
  let headEnd = -1;
  let bodyStart = buf.length;
  let pos = start;
  for (;;) {
    const nl = buf.indexOf(LF, pos);
    if (nl < 0) break;
    const next = nl + 1;
    if (next < buf.length && buf[next] === LF) {
      headEnd = next;
      bodyStart = next + 1;
      break;
    }
    if (next + 1 < buf.length && buf[next] === CR && buf[next + 1] === LF) {
      headEnd = next;
      bodyStart = next + 2;
      break;
    }
    pos = next;
  }
  const head = buf.toString('utf8', start, headEnd < 0 ? buf.length : headEnd);

  // start line
  let lineEnd = head.indexOf('\n');
  let line = lineEnd < 0 ? head : head.slice(0, lineEnd);
  if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
  if (line.length > limits.maxLineBytes) return fail(`start line longer than ${limits.maxLineBytes} bytes`);
  const startLine = parseStartLine(line);

  // header fields, unfolding continuation lines (RFC 3261 §7.3.1)
  const headers = new SipHeaders();
  let firstError: string | undefined;
  let name = '';
  let key = '';
  let value = '';
  let pending = false;
  let count = 0;
  const flush = (): string | undefined => {
    pending = false;
    if (name.length + value.length + 2 > limits.maxLineBytes) {
      return `header line longer than ${limits.maxLineBytes} bytes`;
    }
    if (++count > limits.maxHeaders) return `more than ${limits.maxHeaders} header fields`;
    headers.pushCanonical(name, key, value);
    return undefined;
  };
  let cursor = lineEnd < 0 ? head.length : lineEnd + 1;
  while (cursor < head.length) {
    lineEnd = head.indexOf('\n', cursor);
    if (lineEnd < 0) lineEnd = head.length;
    let end = lineEnd;
    if (end > cursor && head.charCodeAt(end - 1) === CR) end--;
    const first = head.charCodeAt(cursor);
    if (isWsp(first)) {
      if (!pending) {
        firstError ??= 'continuation line without a header';
      } else {
        const more = trimWsp(head.slice(cursor, end));
        if (more) value = value ? `${value} ${more}` : more;
        if (value.length > limits.maxLineBytes)
          return fail(`header line longer than ${limits.maxLineBytes} bytes`);
      }
    } else {
      if (pending) {
        const limitError = flush();
        if (limitError) return fail(limitError);
      }
      const colon = head.indexOf(':', cursor);
      if (colon < 0 || colon >= end) {
        firstError ??= 'header line without a colon';
      } else {
        let nameEnd = colon;
        while (nameEnd > cursor && isWsp(head.charCodeAt(nameEnd - 1))) nameEnd--;
        const written = head.slice(cursor, nameEnd);
        if (!isToken(written)) {
          firstError ??= 'malformed header name';
        } else {
          const interned = internHeaderName(written);
          name = interned.name;
          key = interned.key;
          value = trimWsp(head.slice(colon + 1, end));
          pending = true;
        }
      }
    }
    cursor = lineEnd + 1;
  }
  if (pending) {
    const limitError = flush();
    if (limitError) return fail(limitError);
  }

  const respondable =
    startLine.kind === 'request' && isToken(startLine.method) && headers.has('via')
      ? { method: startLine.method, headers, status: startLine.errorStatus ?? 400 }
      : undefined;
  if (startLine.error) return fail(startLine.error, respondable);
  if (firstError) return fail(firstError, respondable);
  if (headEnd < 0) return fail('no empty line after the header fields', respondable);

  const invalid = validateHeaders(headers, startLine);
  if (invalid) return fail(invalid, respondable);

  // body: Content-Length bytes after the empty line; without Content-Length the rest of the datagram
  let bodyEnd = buf.length;
  const contentLength = headers.get('content-length');
  if (contentLength !== undefined) {
    const length = parseBoundedInt(contentLength, 2 ** 31 - 1);
    if (length < 0) return fail('malformed Content-Length header', respondable);
    if (length > buf.length - bodyStart) return fail('Content-Length larger than the message', respondable);
    bodyEnd = bodyStart + length;
  }
  const body = bodyOf(buf, bodyStart, bodyEnd);

  const message: SipMessage =
    startLine.kind === 'request'
      ? { kind: 'request', method: startLine.method, uri: startLine.uri, headers, body }
      : { kind: 'response', status: startLine.status, reason: startLine.reason, headers, body };
  return { ok: true, message };
}

function isComplete(limits: Partial<ParseLimits>): limits is ParseLimits {
  return (
    limits.maxMessageBytes !== undefined &&
    limits.maxHeaders !== undefined &&
    limits.maxLineBytes !== undefined
  );
}

/**
 * Parses one SIP message (RFC 3261 §7, §25) from a datagram or a framed stream message. Never throws:
 * every problem is a `SipParseFailure` with a reason, and with `respondable` when the request can be
 * answered (a request start line and a Via; `status` says 400 or 505).
 */
export function parseMessage(buf: Buffer, limits?: Partial<ParseLimits>): SipParseResult {
  const effective: ParseLimits =
    limits === undefined || isComplete(limits)
      ? (limits ?? DEFAULT_PARSE_LIMITS)
      : { ...DEFAULT_PARSE_LIMITS, ...limits };
  try {
    return parse(buf, effective);
  } catch (err) {
    return fail(`parser error: ${err instanceof Error ? err.message : 'unknown'}`);
  }
}
