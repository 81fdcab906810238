import { DigestParseError } from './errors.js';

/**
 * Digest credentials from an `Authorization` or `Proxy-Authorization` header (RFC 7616 §3.4,
 * RFC 3261 §22.4 / §25.1). Values are unquoted and unescaped; names are matched case-insensitively.
 */
export interface DigestCredentials {
  readonly scheme: 'Digest';
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  /** As the client sent it; absent means MD5 (RFC 2617 §3.2.2). */
  readonly algorithm?: string;
  readonly qop?: string;
  /** The nonce-count, as sent (8 hex digits, RFC 7616 §3.4). */
  readonly nc?: string;
  readonly cnonce?: string;
  readonly opaque?: string;
  /** Every parameter received, names lower-cased, in order (includes extensions). */
  readonly params: ReadonlyMap<string, string>;
}

// RFC 7230 §3.2.6 tchar, as a table of character codes.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}
const isTokenCode = (code: number): boolean => code < 128 && TCHAR[code] === 1;
// LWS in SIP may include folded lines (RFC 3261 §25.1).
const isSpaceCode = (code: number): boolean =>
  code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const EQUALS = 0x3d;

// Tab is allowed inside quoted strings; other C0 controls and DEL are not (RFC 7230 §3.2.6).
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;

/** Reads the auth-params after the scheme: `name=token` or `name="quoted \"string\""`, comma separated. */
function parseAuthParams(text: string, start: number): Map<string, string> {
  const params = new Map<string, string>();
  const end = text.length;
  let i = start;
  const skipSpace = (): void => {
    while (i < end && isSpaceCode(text.charCodeAt(i))) i++;
  };
  for (;;) {
    skipSpace();
    // Empty list elements (",,") are allowed by the #rule (RFC 7230 §7).
    while (text.charCodeAt(i) === COMMA) {
      i++;
      skipSpace();
    }
    if (i >= end) return params;

    const nameStart = i;
    while (i < end && isTokenCode(text.charCodeAt(i))) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    if (!name) throw new DigestParseError('syntax', `unexpected character at offset ${i}`);
    skipSpace();
    if (text.charCodeAt(i) !== EQUALS)
      throw new DigestParseError('syntax', `parameter ${name} has no value`, name);
    i++;
    skipSpace();

    let value = '';
    if (text.charCodeAt(i) === QUOTE) {
      i++;
      let closed = false;
      let runStart = i;
      while (i < end) {
        const code = text.charCodeAt(i);
        if (code === QUOTE) {
          value += text.slice(runStart, i);
          closed = true;
          i++;
          break;
        }
        if (code === BACKSLASH) {
          // quoted-pair (RFC 7230 §3.2.6): the next character stands for itself.
          if (i + 1 >= end) break;
          value += text.slice(runStart, i) + text[i + 1];
          i += 2;
          runStart = i;
          continue;
        }
        i++;
      }
      if (!closed) throw new DigestParseError('syntax', `unterminated quoted string for ${name}`, name);
    } else {
      // A token; some clients also send unquoted URIs, so anything up to a separator is accepted.
      const valueStart = i;
      while (i < end) {
        const code = text.charCodeAt(i);
        if (code === COMMA || code === QUOTE || isSpaceCode(code)) break;
        i++;
      }
      value = text.slice(valueStart, i);
      if (!value) throw new DigestParseError('syntax', `parameter ${name} has an empty value`, name);
    }
    if (hasControlCharacter(value)) {
      throw new DigestParseError('invalid-parameter', `parameter ${name} contains control characters`, name);
    }
    if (params.has(name))
      throw new DigestParseError('duplicate-parameter', `parameter ${name} appears twice`, name);
    params.set(name, value);

    skipSpace();
    if (i >= end) return params;
    if (text.charCodeAt(i) !== COMMA)
      throw new DigestParseError('syntax', `expected ',' after ${name}`, name);
    i++;
  }
}

// The last header parsed: a request's credentials are read twice (the early replay claim, then the
// digest step), and on the hot path of every authenticated request.
let lastParsed: { headerValue: string; credentials: DigestCredentials } | undefined;

/**
 * Parses one `Authorization` / `Proxy-Authorization` header value. Throws DigestParseError when
 * the scheme is not Digest, the syntax is broken, a parameter repeats, or a mandatory one
 * (username, realm, nonce, uri, response; nc and cnonce with qop; cnonce with a -sess algorithm)
 * is missing. The result is frozen: the same header value gives the same object.
 */
export function parseDigestCredentials(headerValue: string): DigestCredentials {
  if (lastParsed?.headerValue === headerValue) return lastParsed.credentials;
  const credentials = Object.freeze(parseFresh(headerValue));
  lastParsed = { headerValue, credentials };
  return credentials;
}

function parseFresh(headerValue: string): DigestCredentials {
  const end = headerValue.length;
  let i = 0;
  while (i < end && isSpaceCode(headerValue.charCodeAt(i))) i++;
  const schemeStart = i;
  while (i < end && isTokenCode(headerValue.charCodeAt(i))) i++;
  const scheme = headerValue.slice(schemeStart, i);
  if (scheme.toLowerCase() !== 'digest') {
    throw new DigestParseError('not-digest', scheme ? `scheme ${scheme} is not Digest` : 'no scheme');
  }
  if (i < end && !isSpaceCode(headerValue.charCodeAt(i))) {
    throw new DigestParseError('syntax', 'no space after the scheme');
  }
  const params = parseAuthParams(headerValue, i);

  for (const name of REQUIRED) {
    if (!params.has(name)) throw new DigestParseError('missing-parameter', `no ${name} parameter`, name);
  }
  const qop = params.get('qop');
  const nc = params.get('nc');
  const cnonce = params.get('cnonce');
  const algorithm = params.get('algorithm');
  if (qop !== undefined) {
    // RFC 7616 §3.4: with a qop the client must send cnonce and nc.
    if (nc === undefined) throw new DigestParseError('missing-parameter', 'qop without nc', 'nc');
    if (cnonce === undefined) throw new DigestParseError('missing-parameter', 'qop without cnonce', 'cnonce');
  }
  if (nc !== undefined && !/^[0-9a-fA-F]{1,8}$/.test(nc)) {
    throw new DigestParseError('invalid-parameter', 'nc is not a hex nonce-count', 'nc');
  }
  if (algorithm?.toLowerCase().endsWith('-sess') && cnonce === undefined) {
    throw new DigestParseError('missing-parameter', `${algorithm} without cnonce`, 'cnonce');
  }

  const opaque = params.get('opaque');
  const credentials: { -readonly [K in keyof DigestCredentials]: DigestCredentials[K] } = {
    scheme: 'Digest',
    username: params.get('username')!,
    realm: params.get('realm')!,
    nonce: params.get('nonce')!,
    uri: params.get('uri')!,
    response: params.get('response')!,
    params,
  };
  if (algorithm !== undefined) credentials.algorithm = algorithm;
  if (qop !== undefined) credentials.qop = qop;
  if (nc !== undefined) credentials.nc = nc;
  if (cnonce !== undefined) credentials.cnonce = cnonce;
  if (opaque !== undefined) credentials.opaque = opaque;
  return credentials;
}

/** The nonce-count as a number (RFC 7616 §3.4: hexadecimal), or undefined without `nc`. */
export function nonceCountOf(credentials: DigestCredentials): number | undefined {
  return credentials.nc === undefined ? undefined : Number.parseInt(credentials.nc, 16);
}
