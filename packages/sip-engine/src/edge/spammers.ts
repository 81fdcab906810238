import { tryParseNameAddr, tryParseUri, type SipRequest } from '@sbc/sip';
import type { TransportProtocol } from '../transport/types.js';

/** drachtio-server's `<spammers action="…" tcp-action="…">`: answer 603 Decline, or nothing at all. */
export type SpammerAction = 'reject' | 'discard';

/**
 * drachtio-server's spammer list (`drachtio.sip.spammers` of its config file): a request outside a
 * dialog whose User-Agent, or the user part of whose To or From, contains one of the values (a
 * case-sensitive substring, as drachtio's `strstr`) is a scanner. Header names are matched
 * case-insensitively; drachtio looks at these three headers only, and so do we.
 */
export interface SpammerRules {
  /** Lower-case header name (`user-agent`, `to`, `from`) → substrings. */
  headers: ReadonlyMap<string, readonly string[]>;
  /** For UDP (drachtio's `action`, default `discard`). */
  action: SpammerAction;
  /**
   * For TCP, TLS, WS and WSS (drachtio's `tcp-action`, default `discard`; drachtio-server leaves TLS
   * under `action`, a quirk of its transport names we do not copy).
   */
  tcpAction: SpammerAction;
}

/**
 * The scanners of a default install, where no config file names a list: the User-Agents of
 * sipvicious (`friendly-scanner`), sipcli, SIPVicious' successors and the common war-dialers, and
 * sipvicious' To user. Discarded silently: a scanner that gets no answer moves on.
 */
export const DEFAULT_SPAMMERS: SpammerRules = {
  headers: new Map([
    [
      'user-agent',
      [
        'friendly-scanner',
        'sipvicious',
        'sip-cli',
        'sipcli',
        'SIPVicious',
        'VaxSIPUserAgent',
        'pplsip',
        'sundayddr',
        'iWar',
        'sipsak',
        'SIVuS',
        'smap',
      ],
    ],
    ['to', ['sipvicious']],
  ]),
  action: 'discard',
  tcpAction: 'discard',
};

const HEADERS = ['user-agent', 'to', 'from'] as const;

function userOf(nameAddr: string | undefined): string | undefined {
  if (nameAddr === undefined) return undefined;
  const uri = tryParseNameAddr(nameAddr)?.uri;
  if (uri === undefined) return undefined;
  return tryParseUri(uri)?.user;
}

/** The header value that makes `request` a scanner's, or undefined. */
export function spammerMatch(request: SipRequest, rules: SpammerRules): string | undefined {
  for (const name of HEADERS) {
    const values = rules.headers.get(name);
    if (!values || values.length === 0) continue;
    const seen =
      name === 'user-agent' ? request.headers.get('user-agent') : userOf(request.headers.get(name));
    if (seen === undefined) continue;
    for (const value of values) if (seen.includes(value)) return seen;
  }
  return undefined;
}

/** `tcp-action` applies to connection-oriented transports. */
export function spammerAction(rules: SpammerRules, protocol: TransportProtocol): SpammerAction {
  return protocol === 'udp' ? rules.action : rules.tcpAction;
}
