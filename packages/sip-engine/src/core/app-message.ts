import {
  SipHeaders as HeaderList,
  parseMessage,
  type SipHeadersContract as SipHeaders,
  type SipMessage,
} from '@sbc/sip';

/** Compact forms of the headers the parser insists on (RFC 3261 §7.3.3). */
const MANDATORY: readonly { key: string; names: readonly string[] }[] = [
  { key: 'Via', names: ['via', 'v'] },
  { key: 'From', names: ['from', 'f'] },
  { key: 'To', names: ['to', 't'] },
  { key: 'Call-ID', names: ['call-id', 'i'] },
  { key: 'CSeq', names: ['cseq'] },
];

/**
 * A SIP message written by an app. The server takes the body as everything after the first CRLFCRLF
 * and ignores the app's Content-Length, which srf writes as a character count (PROTOCOL.md §1.6). Apps leave
 * out what the server fills in (Via always; From, To, Call-ID and CSeq on new requests), so those are
 * parsed with placeholders that are removed again.
 */
export function parseAppSip(text: string): SipMessage | undefined {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text.replace(/(\r\n)*$/, '') : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  const lines = head.split(/\r\n|\r|\n/).filter((line) => !/^(content-length|l)\s*:/i.test(line));
  const present = new Set(
    lines.slice(1).map((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase()),
  );
  const method = /^([A-Za-z]+) /.exec(lines[0] ?? '')?.[1] ?? 'OPTIONS';
  const added: string[] = [];
  for (const { key, names } of MANDATORY) {
    if (names.some((n) => present.has(n))) continue;
    added.push(key);
    lines.push(`${key}: ${PLACEHOLDER[key]!.replace('METHOD', method)}`);
  }
  const bodyBytes = Buffer.from(body, 'utf8');
  lines.push(`Content-Length: ${bodyBytes.length}`);
  const parsed = parseMessage(
    Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), bodyBytes]),
  );
  if (!parsed.ok) return undefined;
  const message = parsed.message;
  for (const key of added) message.headers.remove(key);
  message.headers = new HeaderList(
    message.headers.fields().map((f) => ({ name: canonicalName(f.name), value: f.value })),
  );
  return message;
}

/** Header names as they go on the wire: srf writes them lower-case; drachtio prints the standard spelling. */
const KNOWN_NAMES = new Map(
  [
    'Accept',
    'Accept-Encoding',
    'Accept-Language',
    'Alert-Info',
    'Allow',
    'Allow-Events',
    'Authentication-Info',
    'Authorization',
    'Call-ID',
    'Call-Info',
    'Contact',
    'Content-Disposition',
    'Content-Encoding',
    'Content-Language',
    'Content-Length',
    'Content-Type',
    'CSeq',
    'Date',
    'Diversion',
    'Error-Info',
    'Event',
    'Expires',
    'From',
    'History-Info',
    'In-Reply-To',
    'Max-Forwards',
    'Min-Expires',
    'Min-SE',
    'MIME-Version',
    'Organization',
    'P-Asserted-Identity',
    'P-Preferred-Identity',
    'Path',
    'Priority',
    'Privacy',
    'Proxy-Authenticate',
    'Proxy-Authorization',
    'Proxy-Require',
    'RAck',
    'Reason',
    'Record-Route',
    'Refer-To',
    'Referred-By',
    'Remote-Party-ID',
    'Reply-To',
    'Require',
    'Retry-After',
    'Route',
    'RSeq',
    'Server',
    'Session-Expires',
    'SIP-ETag',
    'SIP-If-Match',
    'Subject',
    'Subscription-State',
    'Supported',
    'Timestamp',
    'To',
    'Unsupported',
    'User-Agent',
    'Via',
    'Warning',
    'WWW-Authenticate',
  ].map((name) => [name.toLowerCase(), name]),
);

const spellings = new Map<string, string>();

/** The wire spelling of a header name (memoised: called for every header of every app message). */
export function canonicalName(name: string): string {
  let spelled = spellings.get(name);
  if (spelled !== undefined) return spelled;
  spelled =
    KNOWN_NAMES.get(name.toLowerCase()) ??
    (/^x-/i.test(name)
      ? name
      : name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()));
  if (spellings.size < 2048) spellings.set(name, spelled);
  return spelled;
}

const PLACEHOLDER: Record<string, string> = {
  Via: 'SIP/2.0/UDP placeholder.invalid;branch=z9hG4bKplaceholder',
  From: '<sip:placeholder.invalid>',
  To: '<sip:placeholder.invalid>',
  'Call-ID': 'placeholder',
  CSeq: '1 METHOD',
};

/** Headers the server always owns (PROTOCOL.md §7.2): whatever the app wrote is dropped. */
const SERVER_OWNED = ['via', 'route', 'record-route', 'rseq', 'content-length'];

export function dropServerOwnedHeaders(headers: SipHeaders): void {
  for (const name of SERVER_OWNED) headers.remove(name);
}

/**
 * Rewrites `@localhost` (with an optional port) in From, To, Contact and P-Asserted-Identity to the
 * outgoing transport's host:port (PROTOCOL.md §7.4): srf's createUAC / createB2BUA rely on it.
 */
export function rewriteLocalhost(headers: SipHeaders, hostport: string): void {
  for (const name of ['From', 'To', 'Contact', 'P-Asserted-Identity']) {
    const values = headers.getAll(name);
    if (!values.some((v) => /@localhost\b/i.test(v))) continue;
    headers.remove(name);
    for (const value of values)
      headers.append(name, value.replace(/@localhost(:\d+)?(?=[>;?]|$)/gi, `@${hostport}`));
  }
}

/**
 * A body without Content-Type (PROTOCOL.md §7.6): SDP is recognised by `v=0`; any other body on a request is
 * refused (returns false); a response is sent without one.
 */
export function ensureContentType(message: SipMessage): boolean {
  if (message.body.length === 0 || message.headers.has('content-type')) return true;
  if (message.body.subarray(0, 3).toString('latin1') === 'v=0') {
    message.headers.set('Content-Type', 'application/sdp');
    return true;
  }
  return message.kind === 'response';
}
