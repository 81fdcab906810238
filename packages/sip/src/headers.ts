import { isToken, scanQuoted, trimWsp } from './grammar.js';
import type { SipHeaderField, SipHeaders as SipHeadersContract } from './types.js';

/** RFC 3261 §7.3.3 and later RFCs: compact form → canonical lower-case long name. */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1): `getAll` splits them into elements.
 * Headers that carry commas inside one value (Date, WWW-Authenticate, Authorization, …) are not here.
 */
const LIST_HEADERS = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'path',
  'service-route',
  'allow',
  'allow-events',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-contact',
  'reject-contact',
  'request-disposition',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
  'warning',
  'reason',
  'security-client',
  'security-server',
  'security-verify',
  'p-asserted-identity',
  'p-preferred-identity',
  'p-associated-uri',
  'history-info',
  'diversion',
  'privacy',
  'recv-info',
]);

/** A header name as stored: one shared string per spelling, with its canonical key. */
export interface InternedHeaderName {
  readonly name: string;
  readonly key: string;
}

/**
 * Header names seen on the wire, by spelling. Every message repeats the same dozen names: sharing one
 * string per spelling (and its lower-cased key) saves two allocations per header and keeps retained
 * transactions small. Bounded (cleared when full) so hostile input cannot grow it.
 */
const INTERNED = new Map<string, InternedHeaderName>();
const INTERNED_MAX = 1024;
const INTERNED_NAME_MAX_LENGTH = 64;

function keyOf(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT_FORMS[lower] ?? lower) : lower;
}

/**
 * An ASCII string with its own storage: V8 makes slices of 13+ characters views of their parent, and a
 * cached name must not keep a whole received message alive.
 */
function detached(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'latin1').toString('latin1');
}

/** The shared name and canonical key for a header name as written (`Via`, `v`, `CONTACT`, …). */
export function internHeaderName(name: string): InternedHeaderName {
  const known = INTERNED.get(name);
  if (known !== undefined) return known;
  if (name.length > INTERNED_NAME_MAX_LENGTH || !isToken(name)) return { name, key: keyOf(name) };
  if (INTERNED.size >= INTERNED_MAX) INTERNED.clear();
  const own = detached(name);
  const interned = { name: own, key: keyOf(own) };
  INTERNED.set(own, interned);
  return interned;
}

/** Canonical lookup key of a header name: lower-case, compact forms expanded (`v` → `via`). */
export function canonicalHeaderKey(name: string): string {
  return internHeaderName(name).key;
}

/** Whether `getAll` splits this header's values at top-level commas. */
export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(canonicalHeaderKey(name));
}

/**
 * Splits a header value at commas that are outside quoted strings and `<…>` (RFC 3261 §7.3.1), trimming
 * each element and dropping empty ones.
 */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 /* " */ && !angle) {
      const end = scanQuoted(value, i);
      if (end < 0) break; // unterminated: the rest is one element
      i = end - 1;
    } else if (c === 60 /* < */) {
      angle = true;
    } else if (c === 62 /* > */) {
      angle = false;
    } else if (c === 44 /* , */ && !angle) {
      const part = trimWsp(value.slice(start, i));
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = trimWsp(value.slice(start));
  if (last) out.push(last);
  return out;
}

interface StoredField extends SipHeaderField {
  /** canonicalHeaderKey(name) */
  key: string;
}

/**
 * The ordered header multimap of a SIP message. Fields stay in an array in wire order, each with its
 * canonical key precomputed, so lookups are a short scan with no allocation.
 */
export class SipHeaders implements SipHeadersContract {
  private list: StoredField[];

  constructor(fields?: Iterable<SipHeaderField> | Iterable<readonly [string, string]>) {
    this.list = [];
    if (fields) {
      for (const f of fields as Iterable<SipHeaderField | readonly [string, string]>) {
        if (Array.isArray(f)) this.append(f[0] as string, f[1] as string);
        else this.append((f as SipHeaderField).name, (f as SipHeaderField).value);
      }
    }
  }

  /** Adds a field whose key is already canonical (parser fast path). */
  pushCanonical(name: string, key: string, value: string): void {
    this.list.push({ name, key, value });
  }

  /** The fields with their canonical keys (for single-pass readers inside src/sip). */
  keyedFields(): readonly Readonly<StoredField>[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  get(name: string): string | undefined {
    const key = canonicalHeaderKey(name);
    for (const f of this.list) if (f.key === key) return f.value;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = canonicalHeaderKey(name);
    const split = LIST_HEADERS.has(key);
    const out: string[] = [];
    for (const f of this.list) {
      if (f.key !== key) continue;
      if (split && f.value.indexOf(',') >= 0) {
        for (const part of splitHeaderList(f.value)) out.push(part);
      } else if (!split || f.value !== '') {
        out.push(f.value);
      }
    }
    return out;
  }

  /** How many fields (lines) carry this header, without splitting lists. */
  count(name: string): number {
    const key = canonicalHeaderKey(name);
    let n = 0;
    for (const f of this.list) if (f.key === key) n++;
    return n;
  }

  has(name: string): boolean {
    const key = canonicalHeaderKey(name);
    for (const f of this.list) if (f.key === key) return true;
    return false;
  }

  set(name: string, value: string): void {
    const key = canonicalHeaderKey(name);
    const first = this.list.findIndex((f) => f.key === key);
    if (first < 0) {
      this.list.push({ name, key, value });
      return;
    }
    this.list[first] = { name, key, value };
    for (let i = this.list.length - 1; i > first; i--) if (this.list[i]!.key === key) this.list.splice(i, 1);
  }

  append(name: string, value: string): void {
    this.list.push({ name, key: canonicalHeaderKey(name), value });
  }

  prepend(name: string, value: string): void {
    this.list.unshift({ name, key: canonicalHeaderKey(name), value });
  }

  remove(name: string): void {
    const key = canonicalHeaderKey(name);
    if (this.list.some((f) => f.key === key)) this.list = this.list.filter((f) => f.key !== key);
  }

  /** Replaces the value of the index-th field of this name (0 = first), keeping its position and spelling. */
  replaceAt(name: string, index: number, value: string): boolean {
    const key = canonicalHeaderKey(name);
    let seen = 0;
    for (let i = 0; i < this.list.length; i++) {
      const f = this.list[i]!;
      if (f.key !== key) continue;
      if (seen++ === index) {
        this.list[i] = { name: f.name, key, value };
        return true;
      }
    }
    return false;
  }

  fields(): readonly SipHeaderField[] {
    return this.list;
  }

  clone(): SipHeaders {
    const copy = new SipHeaders();
    copy.list = this.list.map((f) => ({ name: f.name, key: f.key, value: f.value }));
    return copy;
  }
}
