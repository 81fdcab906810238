import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import type { SpammerAction, SpammerRules } from './spammers.js';

/** drachtio's `drachtio.sip.blacklist` children, as written (validated by ./options.ts). */
export interface BlacklistSection {
  redisAddress?: string;
  redisSentinels?: string;
  redisMaster?: string;
  redisPassword?: string;
  redisPort?: string;
  redisKey?: string;
  refreshSecs?: string;
}

/** What this engine reads of a drachtio-server config file (`-f` / DRACHTIO_CONFIG_FILE_PATH). */
export interface DrachtioConfigFile {
  /** `drachtio.sip.spammers`; undefined when the element is absent. */
  spammers?: SpammerRules;
  /** `drachtio.sip.blacklist`; undefined when the element is absent. */
  blacklist?: BlacklistSection;
}

export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

type XmlNode = Record<string, unknown>;

const text = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return text((value as XmlNode)['#text']);
  return undefined;
};

function action(value: unknown, attribute: string): SpammerAction {
  const v = text(value) ?? 'discard';
  if (v !== 'reject' && v !== 'discard') {
    throw new ConfigFileError(`<spammers ${attribute}="${v}">: expected reject or discard`);
  }
  return v;
}

/**
 * `<spammers action="reject" tcp-action="discard"><header name="User-Agent"><value>sipcli</value>…`
 * as drachtio-server reads it: header names lower-cased, empty values skipped, actions default to
 * `discard`.
 */
function spammersOf(node: unknown): SpammerRules {
  const spammers = (node && typeof node === 'object' ? node : {}) as XmlNode;
  const headers = new Map<string, string[]>();
  for (const header of (spammers.header as XmlNode[] | undefined) ?? []) {
    const name = text(header['@_name'])?.toLowerCase();
    if (!name) continue;
    const values = ((header.value as unknown[] | undefined) ?? []).map(text).filter((v): v is string => !!v);
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return {
    headers,
    action: action(spammers['@_action'], 'action'),
    tcpAction: action(spammers['@_tcp-action'], 'tcp-action'),
  };
}

function blacklistOf(node: unknown): BlacklistSection {
  const b = (node && typeof node === 'object' ? node : {}) as XmlNode;
  return {
    redisAddress: text(b['redis-address']),
    redisSentinels: text(b['redis-sentinels']),
    redisMaster: text(b['redis-master']),
    redisPassword: text(b['redis-password']),
    redisPort: text(b['redis-port']),
    redisKey: text(b['redis-key']),
    refreshSecs: text(b['refresh-secs']),
  };
}

/** Reads the parts of a drachtio-server XML config file that this engine implements. */
export function parseDrachtioConfig(xml: string): DrachtioConfigFile {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    isArray: (name) => name === 'header' || name === 'value',
  });
  let doc: XmlNode;
  try {
    doc = parser.parse(xml, true) as XmlNode;
  } catch (err) {
    throw new ConfigFileError(`not XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const drachtio = doc.drachtio as XmlNode | undefined;
  if (!drachtio || typeof drachtio !== 'object') throw new ConfigFileError('no <drachtio> element');
  const sip = (drachtio.sip && typeof drachtio.sip === 'object' ? drachtio.sip : {}) as XmlNode;
  return {
    spammers: 'spammers' in sip ? spammersOf(sip.spammers) : undefined,
    blacklist: 'blacklist' in sip ? blacklistOf(sip.blacklist) : undefined,
  };
}

export function readDrachtioConfig(path: string): DrachtioConfigFile {
  let xml: string;
  try {
    xml = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseDrachtioConfig(xml);
  } catch (err) {
    throw new ConfigFileError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
