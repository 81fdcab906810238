import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** What a parser makes of one raw value: the value, or the end of a sentence that starts with the variable. */
export type ParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** Turns a raw (non-empty) environment value into a typed one. Problems never repeat the raw value. */
export type Parser<T> = (raw: string) => ParseResult<T>;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = (problem: string): ParseResult<never> => ({ ok: false, problem });

export const parseString: Parser<string> = (raw) => ok(raw);

export function intParser(options: { min?: number; max?: number } = {}): Parser<number> {
  const { min, max } = options;
  const range =
    min !== undefined && max !== undefined
      ? ` (${min}-${max})`
      : min !== undefined
        ? ` (${min} or more)`
        : max !== undefined
          ? ` (${max} or less)`
          : '';
  return (raw) => {
    const text = raw.trim();
    if (!/^[+-]?\d+$/.test(text)) return bad(`is not an integer${range}`);
    const value = Number(text);
    if (!Number.isSafeInteger(value)) return bad(`is not an integer${range}`);
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      return bad(`is not an integer in range${range}`);
    }
    return ok(value);
  };
}

export const parsePort: Parser<number> = (raw) => {
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 65535) return bad('is not a port (1-65535)');
  return ok(value);
};

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/** jambonz flags: `1`/`true` switch on, `0`/`false` switch off (also yes/no, on/off, any case). */
export const parseBool: Parser<boolean> = (raw) => {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad('is not a boolean (1/true/yes or 0/false/no)');
};

/** Comma-separated items, trimmed, empty items dropped; each item checked by `item`. */
export function listParser<T>(item: Parser<T>, itemName: string): Parser<T[]> {
  return (raw) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0) return bad(`is not a comma-separated list of ${itemName}`);
    const values: T[] = [];
    for (const [index, text] of items.entries()) {
      const result = item(text);
      if (!result.ok)
        return bad(`is not a comma-separated list of ${itemName}: item ${index + 1} ${result.problem}`);
      values.push(result.value);
    }
    return ok(values);
  };
}

/** An IPv4 or IPv6 network in CIDR notation; a bare address means that one host (/32 or /128). */
export const parseCidr: Parser<string> = (raw) => {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return bad('is not a CIDR network (e.g. 10.0.0.0/8)');
  const maxBits = family === 4 ? 32 : 128;
  if (slash === -1) return ok(`${address}/${maxBits}`);
  const bitsText = text.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > maxBits) return bad('is not a CIDR network (e.g. 10.0.0.0/8)');
  return ok(`${address}/${bits}`);
};

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** A host name or IP address (IPv6 with or without brackets). */
export const parseHost: Parser<string> = (raw) => {
  const text = raw.trim();
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(unbracketed) !== 0 || HOSTNAME.test(text)) return ok(unbracketed);
  return bad('is not a host name or IP address');
};

/** `host[:port]`; IPv6 addresses in brackets when a port follows (`[::1]:26379`). */
export function hostPortParser(options: { defaultPort?: number } = {}): Parser<HostPort> {
  const { defaultPort } = options;
  const expected = defaultPort === undefined ? 'host:port' : `host[:port]`;
  return (raw) => {
    const text = raw.trim();
    let hostText: string;
    let portText: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
    if (bracketed) {
      hostText = bracketed[1] ?? '';
      portText = bracketed[2];
    } else if (isIP(text) === 6) {
      hostText = text;
    } else {
      const colon = text.lastIndexOf(':');
      hostText = colon === -1 ? text : text.slice(0, colon);
      portText = colon === -1 ? undefined : text.slice(colon + 1);
    }
    const host = parseHost(hostText);
    if (!host.ok) return bad(`is not ${expected} (bad host)`);
    if (portText === undefined) {
      if (defaultPort === undefined) return bad(`is not ${expected} (port missing)`);
      return ok({ host: host.value, port: defaultPort });
    }
    const port = parsePort(portText);
    if (!port.ok) return bad(`is not ${expected} (bad port)`);
    return ok({ host: host.value, port: port.value });
  };
}

export function urlParser(options: { protocols?: readonly string[] } = {}): Parser<string> {
  const protocols = options.protocols ?? ['http', 'https'];
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      return bad(`is not a URL (${protocols.join(' or ')})`);
    }
    if (!protocols.includes(url.protocol.replace(/:$/, '')))
      return bad(`is not a URL (${protocols.join(' or ')})`);
    return ok(url.href);
  };
}

export function enumParser<const V extends string>(values: readonly V[]): Parser<V> {
  return (raw) => {
    const text = raw.trim();
    const found = values.find((v) => v === text);
    return found === undefined ? bad(`is not one of ${values.join(', ')}`) : ok(found);
  };
}

/** A path to a readable file; the value is the file's contents (certificates, keys). */
export const parseFile: Parser<string> = (raw) => {
  try {
    return ok(readFileSync(raw, 'utf8'));
  } catch (err) {
    const code =
      err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'unreadable';
    return bad(`is not a readable file (${code})`);
  }
};

/** `403,404`: comma-separated SIP status codes (REGISTER_RESPONSE_REMOVE, OPTIONS_RESPONSE_REMOVE). */
export const parseSipStatusList: Parser<number[]> = (raw) => {
  const codes = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!codes.every((c) => /^[1-6]\d\d$/.test(c)))
    return { ok: false, problem: 'is not a comma-separated list of SIP status codes' };
  return ok(codes.map(Number));
};
