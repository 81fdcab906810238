import { parseNetworks } from '@sbc/net';
import type { BlacklistConfig } from './blacklist.js';
import type { BlacklistSection, DrachtioConfigFile } from './config-file.js';
import type { EdgeConfig } from './guard.js';
import { DEFAULT_SPAMMERS } from './spammers.js';

/**
 * The defaults of the engine's own protections (beyond drachtio-server). A source must send more
 * than 1,000 messages in 2 s (500/s) to be banned: an office of phones behind one NAT at 50
 * requests/s is ten times below it, a flood of 2,000/s is caught within half a second.
 */
export const EDGE_DEFAULTS = {
  rateLimitRequests: 1000,
  rateLimitWindowSecs: 2,
  rateLimitBanSecs: 300,
  maxConnectionsPerSource: 250,
  connectionIdleSecs: 3600,
  incompleteMessageSecs: 20,
} as const;

/** drachtio-server's blacklist defaults from the command line (a config file's refresh is 3600). */
const BLACKLIST_PORT = 6379;
const BLACKLIST_REFRESH_SECS = 300;
const CONFIG_FILE_REFRESH_SECS = 3600;

/** The edge options as given by flags or the environment (strings, validated here). */
export interface EdgeFlags {
  blacklist: BlacklistSection;
  rateLimitRequests?: string;
  rateLimitWindowSecs?: string;
  rateLimitBanSecs?: string;
  allow: string[];
  maxConnectionsPerSource?: string;
  connectionIdleSecs?: string;
  incompleteMessageSecs?: string;
}

export class EdgeOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EdgeOptionError';
  }
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value.trim())) throw new EdgeOptionError(`${name} ${value}: not a whole number`);
  return Number(value);
}

function sentinelsOf(list: string): { host: string; port: number }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(.+):(\d+)$/.exec(entry);
      if (!match) throw new EdgeOptionError(`--blacklist-redis-sentinels ${entry}: expected host:port`);
      return { host: match[1]!, port: Number(match[2]) };
    });
}

/**
 * drachtio-server's rules: the command line and environment win; the config file's
 * `<blacklist>` is read only when they name no Redis address. On by an address and a key, or by
 * sentinels, a master name and a key.
 */
function blacklistOf(
  flags: BlacklistSection,
  file: BlacklistSection | undefined,
): BlacklistConfig | undefined {
  const fromFile = !flags.redisAddress && file !== undefined;
  const b = fromFile ? file : flags;
  const key = b.redisKey;
  const refreshSecs =
    count(b.refreshSecs, '--blacklist-refresh-secs', 0) ||
    (fromFile ? CONFIG_FILE_REFRESH_SECS : BLACKLIST_REFRESH_SECS);
  const port = count(b.redisPort, '--blacklist-redis-port', 0) || BLACKLIST_PORT;
  const password = b.redisPassword || undefined;
  if (fromFile) {
    if (!b.redisAddress && !b.redisSentinels)
      throw new EdgeOptionError('<blacklist>: either redis-address or redis-sentinels must be specified');
    if (!key) throw new EdgeOptionError('<blacklist>: must specify redis-key');
    if (b.redisSentinels && !b.redisMaster)
      throw new EdgeOptionError('<blacklist>: must specify redis-master when using redis sentinel');
  }
  if (b.redisAddress && key) return { redis: { address: b.redisAddress, port }, password, key, refreshSecs };
  if (b.redisSentinels && b.redisMaster && key) {
    return {
      redis: { sentinels: sentinelsOf(b.redisSentinels), master: b.redisMaster },
      password,
      key,
      refreshSecs,
    };
  }
  if (b.redisAddress || b.redisSentinels) {
    throw new EdgeOptionError(
      b.redisSentinels && !b.redisMaster
        ? '--blacklist-redis-sentinels needs --blacklist-redis-master and --blacklist-redis-key'
        : '--blacklist-redis-address needs --blacklist-redis-key',
    );
  }
  return undefined;
}

/** The engine's edge protection from its options, its config file and the private networks. */
export function edgeConfigFrom(
  flags: EdgeFlags,
  file: DrachtioConfigFile | undefined,
  privateNetworks: readonly string[],
): EdgeConfig {
  const requests = count(flags.rateLimitRequests, '--rate-limit-requests', EDGE_DEFAULTS.rateLimitRequests);
  const windowSecs = count(
    flags.rateLimitWindowSecs,
    '--rate-limit-window-secs',
    EDGE_DEFAULTS.rateLimitWindowSecs,
  );
  const banSecs = count(flags.rateLimitBanSecs, '--rate-limit-ban-secs', EDGE_DEFAULTS.rateLimitBanSecs);
  if (requests > 0 && (windowSecs === 0 || banSecs === 0))
    throw new EdgeOptionError('--rate-limit-window-secs and --rate-limit-ban-secs must be above 0');
  const idleSecs = count(
    flags.connectionIdleSecs,
    '--connection-idle-secs',
    EDGE_DEFAULTS.connectionIdleSecs,
  );
  const incompleteSecs = count(
    flags.incompleteMessageSecs,
    '--incomplete-message-secs',
    EDGE_DEFAULTS.incompleteMessageSecs,
  );
  const exempt = [...privateNetworks, ...flags.allow];
  const invalid = parseNetworks(exempt).invalid;
  if (invalid.length > 0)
    throw new EdgeOptionError(`--edge-allow / JAMBONES_NETWORK_CIDR: not networks: ${invalid.join(', ')}`);
  return {
    spammers: file?.spammers ?? DEFAULT_SPAMMERS,
    blacklist: blacklistOf(flags.blacklist, file?.blacklist),
    rateLimit: requests > 0 ? { requests, windowMs: windowSecs * 1000, banMs: banSecs * 1000 } : undefined,
    maxConnectionsPerSource: count(
      flags.maxConnectionsPerSource,
      '--max-connections-per-source',
      EDGE_DEFAULTS.maxConnectionsPerSource,
    ),
    exempt,
    idleTimeoutMs: idleSecs > 0 ? idleSecs * 1000 : undefined,
    incompleteMessageTimeoutMs: incompleteSecs > 0 ? incompleteSecs * 1000 : undefined,
  };
}
