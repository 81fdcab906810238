/**
 * Step 1: what the INVITE says, read once. The source address is the packet's, unless the packet
 * came from a configured trusted proxy (SBC_TRUSTED_PROXY_CIDRS) that names the caller in
 * X-Forwarded-For / X-Subspace-Forwarded-For: jambonz trusts those headers from anyone, which lets
 * any caller pose as a carrier's gateway.
 */
import { parseSipUri } from '@sbc/sip';
import type { SrfRequest } from '@sbc/service';
import { parse as parseSdp } from 'sdp-transform';
import { InboundAnswer } from './answers.js';
import { parseReplaces, type ReplacesTarget } from './replaces.js';

export interface SourceAddress {
  address: string;
  port: number;
}

export interface Siprec {
  /** The recording metadata part (XML, up to `</recording>`). */
  metadata: string;
  metadataContentType: string;
}

export interface InboundInvite {
  callId: string;
  /** The caller's From tag. */
  fromTag: string;
  /** Where the call comes from: the packet's source, or a trusted proxy's X-Forwarded-For. */
  source: SourceAddress;
  /** The packet's own source (differs from `source` only behind a trusted proxy). */
  packetSource: SourceAddress;
  protocol: string;
  requestUri: { user: string | undefined; host: string; hostIsIp: boolean };
  /** The called number: Request-URI user without a leading `+`, `anonymous` when empty. */
  did: string;
  /** P-Asserted-Identity user, else From user (jambonz's callingNumber). */
  callingNumber: string;
  /** X-Application-Sid as it arrived (the loop guard compares it; it is never forwarded). */
  incomingApplicationSid: string | undefined;
  /** The caller's offer; undefined for a late offer (INVITE without SDP). */
  sdp: string | undefined;
  siprec: Siprec | undefined;
  /** The dialog a `Replaces` header names (an attended transfer, src/replaces.ts). */
  replaces: ReplacesTarget | undefined;
}

/** 400: an INVITE we cannot route at all (no usable Request-URI, no From tag). */
export class MalformedInviteError extends InboundAnswer {
  override readonly name = 'MalformedInviteError';
  readonly status = 400;
  readonly outcome = 'rejected';
  readonly reason = 'malformed';
  constructor(override readonly xReason: string) {
    super(xReason);
  }
}

/** 488: a body we cannot take as a media offer (not SDP, or SIPREC without an SDP part). */
export class UnusableBodyError extends InboundAnswer {
  override readonly name = 'UnusableBodyError';
  readonly status = 488;
  readonly outcome = 'rejected';
  readonly reason = 'bad_sdp';
  constructor(override readonly xReason: string) {
    super(xReason);
  }
}

export type AddressMatcher = (address: string) => boolean;

const FORWARDED_FOR = ['X-Forwarded-For', 'X-Subspace-Forwarded-For'];
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The first address of an X-Forwarded-For value (`ip`, `ip:port`, `[v6]:port`, lists). */
function forwardedAddress(value: string): string | undefined {
  const first = value.split(',')[0]?.trim() ?? '';
  const bracketed = /^\[([0-9a-f:.]+)\]/i.exec(first);
  if (bracketed) return bracketed[1];
  if (/^[0-9a-f:]+$/i.test(first) && first.includes('::')) return first;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(first);
  return v4?.[1];
}

export function trustedSource(req: SrfRequest, isTrustedProxy: AddressMatcher): SourceAddress {
  const packet = { address: req.source_address, port: req.source_port };
  if (!isTrustedProxy(packet.address)) return packet;
  for (const name of FORWARDED_FOR) {
    const value = req.get(name);
    const address = value === undefined ? undefined : forwardedAddress(value);
    if (address !== undefined) return { address, port: packet.port };
  }
  return packet;
}

function userOf(nameAddr: string | undefined): string | undefined {
  if (!nameAddr) return undefined;
  const uri = /<([^>]*)>/.exec(nameAddr)?.[1] ?? nameAddr.split(';')[0] ?? '';
  const tel = /^tel:([^;]+)/i.exec(uri.trim());
  if (tel) return tel[1];
  return parseSipUri(uri.trim())?.user;
}

/** Splits a SIPREC body (RFC 7866 §8: multipart/mixed with the SDP and the rs-metadata). */
function splitSiprec(contentType: string, body: string): { sdp: string; siprec: Siprec } | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const parts = body
    .split(`--${boundary}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .map((part) => {
      const trimmed = part.replace(/^\r?\n/, '');
      const split = /\r?\n\r?\n/.exec(trimmed);
      const head = split ? trimmed.slice(0, split.index) : trimmed;
      const content = split ? trimmed.slice(split.index + split[0].length).replace(/\r?\n$/, '') : '';
      const type = /^content-type:\s*([^\r\n;]+)/im.exec(head)?.[1]?.trim().toLowerCase() ?? '';
      return { type, content };
    });
  if (parts.length < 2) return undefined;
  const sdp = parts.find((p) => p.type === 'application/sdp');
  if (!sdp) throw new UnusableBodyError('SIPREC INVITE without an application/sdp part');
  const meta = parts.find((p) => p !== sdp);
  const xml = meta?.content ?? '';
  const end = xml.indexOf('</recording>');
  return {
    sdp: sdp.content.endsWith('\n') ? sdp.content : `${sdp.content}\r\n`,
    siprec: {
      metadata: end >= 0 ? xml.slice(0, end + '</recording>'.length) : xml,
      metadataContentType: meta?.type || 'application/rs-metadata+xml',
    },
  };
}

/** RFC 4566 §5: a session description starts with v=0 and offers at least one media line. */
function checkSdp(sdp: string): void {
  let parsed: ReturnType<typeof parseSdp>;
  try {
    parsed = parseSdp(sdp);
  } catch {
    throw new UnusableBodyError('SDP that cannot be parsed');
  }
  if (
    parsed.version !== 0 ||
    parsed.media.length === 0 ||
    !parsed.media.every((m) => m.port >= 0 && m.protocol)
  ) {
    throw new UnusableBodyError('SDP without v=0 or a usable m= line');
  }
}

/** Reads the INVITE; throws the 400 / 488 it must get when it cannot be a call. */
export function readInvite(req: SrfRequest, isTrustedProxy: AddressMatcher): InboundInvite {
  const uri = parseSipUri(req.uri);
  if (!uri) throw new MalformedInviteError('Request-URI is not a SIP URI');
  const fromTag = /;\s*tag=([^;>\s]+)/i.exec(req.get('From') ?? '')?.[1];
  if (!fromTag) throw new MalformedInviteError('From header without a tag');
  const host = uri.host.replace(/^\[|\]$/g, '');

  let sdp: string | undefined = req.body ? req.body : undefined;
  let siprec: Siprec | undefined;
  const contentType = (req.get('Content-Type') ?? '').toLowerCase();
  if (sdp !== undefined) {
    if (contentType.startsWith('multipart/')) {
      const split = splitSiprec(req.get('Content-Type') ?? '', sdp);
      if (!split) throw new UnusableBodyError('multipart body without an SDP and a metadata part');
      ({ sdp, siprec } = split);
    } else if (contentType !== '' && contentType !== 'application/sdp') {
      throw new UnusableBodyError(`body of type ${contentType} is not an SDP offer`);
    }
    checkSdp(sdp);
  }

  const did = (uri.user ?? '').replace(/^\+/, '');
  return {
    callId: req.get('Call-ID') ?? '',
    fromTag,
    source: trustedSource(req, isTrustedProxy),
    packetSource: { address: req.source_address, port: req.source_port },
    protocol: req.protocol,
    requestUri: { user: uri.user, host, hostIsIp: IPV4.test(host) || host.includes(':') },
    did: did === '' ? 'anonymous' : did,
    callingNumber: userOf(req.get('P-Asserted-Identity')) ?? userOf(req.get('From')) ?? '',
    incomingApplicationSid: req.get('X-Application-Sid'),
    sdp,
    siprec,
    replaces: req.has('Replaces') ? parseReplaces(req.get('Replaces') ?? '') : undefined,
  };
}
