import { isWsp, parseBoundedInt } from './grammar.js';
import { DEFAULT_PARSE_LIMITS, ownCopy } from './parser.js';
import type { ParseLimits } from './types.js';

/** What a stream framer found in the bytes pushed into it. */
export type FramedItem =
  /** One complete message (header section + Content-Length bytes of body), ready for parseMessage. */
  | { kind: 'message'; data: Buffer }
  /** A CRLFCRLF keep-alive ping: answer it with a CRLF pong (RFC 5626 §3.5.1). */
  | { kind: 'ping' }
  /** A lone CRLF between messages: the pong to a ping of ours. */
  | { kind: 'pong' }
  /** The stream cannot be framed any more; close the connection. `head` holds the header section when read. */
  | { kind: 'error'; reason: string; head?: Buffer };

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * Cuts a TCP/TLS byte stream into SIP messages by Content-Length (RFC 3261 §18.3), tolerating CRLF and bare-LF
 * line ends, and reporting CRLF keep-alives between messages. A message over `maxMessageBytes` or without
 * Content-Length is fatal: the framer reports an error and ignores everything after it.
 */
export class SipStreamFramer {
  private readonly maxBytes: number;
  private buf: Buffer = EMPTY;
  private scanFrom = 0;
  private expected = -1;
  private dead = false;

  constructor(limits?: Partial<ParseLimits>) {
    this.maxBytes = limits?.maxMessageBytes ?? DEFAULT_PARSE_LIMITS.maxMessageBytes;
  }

  /** Whether a fatal error ended the stream. */
  get failed(): boolean {
    return this.dead;
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): FramedItem[] {
    if (this.dead || chunk.length === 0) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FramedItem[] = [];
    for (;;) {
      const buf = this.buf;
      if (this.expected >= 0) {
        if (buf.length < this.expected) break;
        const view = buf.subarray(0, this.expected);
        // a message is kept as long as its transaction (32 s): it must not pin a whole 64 KiB socket read
        const data = buf.buffer.byteLength > 2 * view.length ? ownCopy(view) : view;
        out.push({ kind: 'message', data });
        this.buf = buf.subarray(this.expected);
        this.expected = -1;
        this.scanFrom = 0;
        continue;
      }
      if (buf.length === 0) break;
      const b0 = buf[0];
      if (b0 === CR || b0 === LF) {
        const keepAlive = this.keepAlive(buf);
        if (keepAlive === 'wait') break;
        if (keepAlive !== 'skip') out.push({ kind: keepAlive });
        continue;
      }
      const item = this.frameHead(buf);
      if (item === 'wait') break;
      if (item) {
        out.push(item);
        this.fail();
        break;
      }
    }
    return out;
  }

  /** Consumes keep-alive bytes at a message boundary. */
  private keepAlive(buf: Buffer): 'ping' | 'pong' | 'skip' | 'wait' {
    if (buf[0] === LF) {
      this.buf = buf.subarray(1);
      return 'skip';
    }
    if (buf.length === 1) return 'wait';
    if (buf[1] !== LF) {
      this.buf = buf.subarray(1);
      return 'skip';
    }
    if (buf.length === 2 || (buf.length === 3 && buf[2] === CR)) return 'wait';
    if (buf[2] === CR && buf[3] === LF) {
      this.buf = buf.subarray(4);
      return 'ping';
    }
    this.buf = buf.subarray(2);
    return 'pong';
  }

  /** Finds the header section and its Content-Length; sets `expected`, or returns a fatal error. */
  private frameHead(buf: Buffer): FramedItem | 'wait' | undefined {
    let pos = this.scanFrom;
    let headEnd = -1;
    let bodyStart = -1;
    for (;;) {
      const nl = buf.indexOf(LF, pos);
      if (nl < 0 || nl + 1 >= buf.length) break;
      const next = nl + 1;
      if (buf[next] === LF) {
        headEnd = next;
        bodyStart = next + 1;
        break;
      }
      if (buf[next] === CR) {
        if (next + 1 >= buf.length) break;
        if (buf[next + 1] === LF) {
          headEnd = next;
          bodyStart = next + 2;
          break;
        }
      }
      pos = next;
    }
    if (headEnd < 0) {
      if (buf.length > this.maxBytes)
        return { kind: 'error', reason: `message larger than ${this.maxBytes} bytes` };
      this.scanFrom = Math.max(0, buf.length - 3);
      return 'wait';
    }
    const head = buf.subarray(0, headEnd);
    const length = contentLengthOf(head.toString('latin1'));
    if (length === undefined)
      return { kind: 'error', reason: 'missing Content-Length on a stream transport', head };
    if (length < 0) return { kind: 'error', reason: 'malformed Content-Length header', head };
    if (bodyStart + length > this.maxBytes) {
      return { kind: 'error', reason: `message larger than ${this.maxBytes} bytes`, head };
    }
    this.expected = bodyStart + length;
    return undefined;
  }

  private fail(): void {
    this.dead = true;
    this.buf = EMPTY;
    this.expected = -1;
  }
}

/** The Content-Length of a header section: undefined when absent, -1 when malformed or repeated. */
function contentLengthOf(head: string): number | undefined {
  let found: number | undefined;
  let pos = head.indexOf('\n') + 1; // skip the start line
  if (pos === 0) return undefined;
  while (pos < head.length) {
    let end = head.indexOf('\n', pos);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', pos);
    if (colon > pos && colon < end && !isWsp(head.charCodeAt(pos))) {
      const name = head.slice(pos, colon).trimEnd().toLowerCase();
      if (name === 'content-length' || name === 'l') {
        let value = head.slice(colon + 1, end).trim();
        // a folded value continues on lines that start with whitespace
        while (end + 1 < head.length && isWsp(head.charCodeAt(end + 1))) {
          const nextEnd = head.indexOf('\n', end + 1);
          const stop = nextEnd < 0 ? head.length : nextEnd;
          value = `${value} ${head.slice(end + 1, stop).trim()}`.trim();
          end = stop;
        }
        if (found !== undefined) return -1;
        found = parseBoundedInt(value, 2 ** 31 - 1);
        if (found < 0) return -1;
      }
    }
    pos = end + 1;
  }
  return found;
}
