import type { SourceBan } from '@sbc/redis';
import { normalizeIp } from '@sbc/service';
import { parseServerName } from './network.js';

/**
 * The drain CLI's wire protocol, shared by the socket server (src/cli-server.ts) and the client
 * (src/cli.ts): one JSON object per line each way, the shape jambonz's sbc-sip-sidecar uses.
 */

/** SBC_SOCKET_PATH default (jambonz sbc-sip-sidecar's). */
export const DEFAULT_SOCKET_PATH = '/tmp/sbc-sip-sidecar.sock';

export type CliRequest =
  | { action: 'fs-drain'; server: string }
  | { action: 'fs-undrain'; server: string }
  | { action: 'fs-drained' }
  | { action: 'fs-available' }
  | { action: 'fs-list' }
  | { action: 'set'; key: string; value: string }
  | { action: 'get'; key: string }
  | { action: 'unset'; key: string }
  | { action: 'add'; key: string; item: string }
  | { action: 'remove'; key: string; item: string }
  | { action: 'list' }
  | { action: 'ban-list' }
  /** `seconds` undefined: banned until removed. */
  | { action: 'ban-add'; ip: string; seconds?: number }
  | { action: 'ban-remove'; ip: string };

export type CliAction = CliRequest['action'];

/** How `fs list` reports a feature server. */
export type FeatureServerStatus = 'active' | 'drained' | 'drained-and-still-pinging';

export interface FeatureServerEntry {
  /** `ip:port` of a server that pings, or a drained entry as written (bare IP or `ip:port`). */
  server: string;
  status: FeatureServerStatus;
  /** Last OPTIONS from it (epoch ms), when one was recorded. */
  lastSeen?: number;
}

/** A runtime configuration value as it travels (runtime-keys.ts has the keys and their types). */
export type ConfigValue = string | number | number[];

/** Where a runtime configuration value comes from. */
export type ConfigSource = 'runtime' | 'environment';

/** One answer line. `success: false` carries `error`; the other fields depend on the action. */
export interface CliResponse {
  success: boolean;
  error?: string;
  /** fs-drain / fs-undrain: what was done to which server, and the drained entries after it. */
  action?: 'drain' | 'undrain';
  server?: string;
  drained?: string[];
  /** fs-available. */
  available?: string[];
  /** fs-list. */
  servers?: FeatureServerEntry[];
  /** set / get / unset / add / remove: the key and its value now (add / remove: `array`). */
  key?: string;
  value?: ConfigValue;
  source?: ConfigSource;
  item?: ConfigValue;
  array?: ConfigValue[];
  added?: boolean;
  removed?: boolean;
  /** list: every key's value, and where each comes from. */
  config?: Record<string, ConfigValue>;
  sources?: Record<string, ConfigSource>;
  /** ban-list: the banned sources; ban-add / ban-remove: the IP (and `added` / `removed`). */
  bans?: SourceBan[];
  ip?: string;
  seconds?: number;
}

/** Longest request line the server reads; longer ones close the connection. */
export const MAX_LINE_BYTES = 4096;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

/** Checks a decoded line from a client; returns the request or why it is refused. */
export function validateRequest(value: unknown): CliRequest | { error: string } {
  if (typeof value !== 'object' || value === null) return { error: 'Invalid command' };
  const fields = value as {
    action?: unknown;
    server?: unknown;
    key?: unknown;
    value?: unknown;
    item?: unknown;
    ip?: unknown;
    seconds?: unknown;
  };
  const { action, server } = fields;
  switch (action) {
    case 'fs-drain':
    case 'fs-undrain': {
      if (typeof server !== 'string' || server.trim() === '') {
        return { error: `${action === 'fs-drain' ? 'drain' : 'undrain'} requires server IP address` };
      }
      const name = parseServerName(server);
      if (!name) return { error: `Invalid IP address: ${server}` };
      return { action, server: name.canonical };
    }
    case 'fs-drained':
    case 'fs-available':
    case 'fs-list':
    case 'list':
      return { action };
    case 'set':
    case 'get':
    case 'unset':
    case 'add':
    case 'remove': {
      const key = text(fields.key)?.trim();
      if (!key) return { error: `${action} requires key` };
      if (action === 'get' || action === 'unset') return { action, key };
      if (action === 'set') {
        const v = text(fields.value);
        return v === undefined ? { error: 'set requires key and value' } : { action, key, value: v };
      }
      const item = text(fields.item);
      return item === undefined ? { error: `${action} requires key and item` } : { action, key, item };
    }
    case 'ban-list':
      return { action };
    case 'ban-add':
    case 'ban-remove': {
      const ip = typeof fields.ip === 'string' ? normalizeIp(fields.ip) : undefined;
      if (!ip) return { error: `${action === 'ban-add' ? 'ban add' : 'ban remove'} requires an IP address` };
      if (action === 'ban-remove') return { action, ip };
      const { seconds } = fields;
      if (seconds === undefined) return { action, ip };
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1)
        return { error: 'ban add: seconds must be a whole number above 0' };
      return { action, ip, seconds };
    }
    default:
      return { error: `Unknown action: ${typeof action === 'string' ? action : JSON.stringify(action)}` };
  }
}

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'request'; request: CliRequest; json: boolean }
  | { kind: 'error'; message: string };

export const USAGE = `SBC Runtime CLI

Usage:
  npm run cli <command> [options]

Feature Server Commands:
  npm run cli fs drain <ip>        Drain server (remove from pool); <ip> or <ip>:<port>
  npm run cli fs undrain <ip>      Undrain server (add back to pool)
  npm run cli fs drained           Show drained servers
  npm run cli fs active            Show available servers
  npm run cli fs list              Show all servers with status

Configuration Commands (kept in Redis: every instance, and after a restart):
  npm run cli set <key> <value>    Set runtime config
  npm run cli get <key>            Get runtime config
  npm run cli add <key> <item>     Add an item to a list key
  npm run cli remove <key> <item>  Remove an item from a list key
  npm run cli unset <key>          Back to the environment's value
  npm run cli list                 Show all runtime config
Keys: JAMBONES_LOGLEVEL, EXPIRES_INTERVAL, CHECK_EXPIRES_INTERVAL, SEND_OPTIONS_PING_INTERVAL,
  OPTIONS_PING_TTL, OPTIONS_RESPONSE_REMOVE (list)

Source bans (the blacklist set every SIP engine reads; an IP banned here is dropped cluster-wide
within the engines' refresh interval):
  npm run cli ban list             Show banned IPs, why and until when
  npm run cli ban add <ip> [s]     Ban an IP (for s seconds, else until removed)
  npm run cli ban remove <ip>      Lift a ban (and forget the IP's authentication failures)

Options:
  --json                           Print the service's JSON answer
Environment:
  SBC_SOCKET_PATH                  The service's socket (default ${DEFAULT_SOCKET_PATH})

Examples:
  npm run cli fs drain 127.0.1.5
  npm run cli fs active
  npm run cli set JAMBONES_LOGLEVEL debug
  npm run cli add OPTIONS_RESPONSE_REMOVE 403
  npm run cli ban add 203.0.113.7 3600`;

const FS_ACTIONS = 'drain, undrain, drained, active, list';

/** Turns `argv` (without node and the script) into a request, help, or a one-line error. */
export function parseCommand(argv: readonly string[]): ParsedCommand {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [command, ...rest] = args;
  const request = (r: CliRequest): ParsedCommand => ({ kind: 'request', request: r, json });
  const error = (message: string): ParsedCommand => ({ kind: 'error', message });
  const noMore = (used: number, usage: string): ParsedCommand | undefined =>
    rest.length > used ? error(`${usage} (got ${rest.length} arguments)`) : undefined;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'fs':
      return parseFsCommand(rest, json);
    case 'ban':
      return parseBanCommand(rest, json);
    case 'set': {
      const [key, value] = rest;
      if (key === undefined || value === undefined) return error('set requires key and value');
      return noMore(2, 'set takes one key and one value') ?? request({ action: 'set', key, value });
    }
    case 'get':
    case 'unset': {
      const [key] = rest;
      if (key === undefined) return error(`${command} requires key`);
      return noMore(1, `${command} takes one key`) ?? request({ action: command, key });
    }
    case 'add':
    case 'remove': {
      const [key, item] = rest;
      if (key === undefined || item === undefined) return error(`${command} requires key and item`);
      return noMore(2, `${command} takes one key and one item`) ?? request({ action: command, key, item });
    }
    case 'list':
      return noMore(0, 'list takes no argument') ?? request({ action: 'list' });
    default:
      return error(`Unknown command: ${command}. Run without arguments for help.`);
  }
}

function parseBanCommand(args: readonly string[], json: boolean): ParsedCommand {
  const [command, address, seconds, ...extra] = args;
  const request = (r: CliRequest): ParsedCommand => ({ kind: 'request', request: r, json });
  const error = (message: string): ParsedCommand => ({ kind: 'error', message });
  switch (command) {
    case 'list':
      return address === undefined ? request({ action: 'ban-list' }) : error('ban list takes no argument');
    case 'add':
    case 'remove': {
      if (address === undefined) return error(`ban ${command} requires an IP address`);
      const ip = normalizeIp(address);
      if (!ip) return error(`Invalid IP address: ${address}`);
      if (command === 'remove')
        return seconds === undefined
          ? request({ action: 'ban-remove', ip })
          : error('ban remove takes one IP');
      if (extra.length > 0) return error('ban add takes an IP and at most a number of seconds');
      if (seconds === undefined) return request({ action: 'ban-add', ip });
      if (!/^[1-9]\d*$/.test(seconds)) return error(`ban add: ${seconds} is not a number of seconds`);
      return request({ action: 'ban-add', ip, seconds: Number(seconds) });
    }
    default:
      return error(`Unknown ban command: ${command ?? '(none)'}. Use: list, add, remove`);
  }
}

function parseFsCommand(args: readonly string[], json: boolean): ParsedCommand {
  const [command, server, ...extra] = args;
  const request = (r: CliRequest): ParsedCommand => ({ kind: 'request', request: r, json });
  const error = (message: string): ParsedCommand => ({ kind: 'error', message });
  switch (command) {
    case undefined:
      return error('fs command requires an action');
    case 'drain':
    case 'undrain': {
      if (server === undefined) return error(`${command} requires server IP address`);
      if (extra.length > 0) return error(`${command} takes one server, got ${args.length - 1}`);
      const name = parseServerName(server);
      if (!name) return error(`Invalid IP address: ${server}`);
      return request({ action: command === 'drain' ? 'fs-drain' : 'fs-undrain', server: name.canonical });
    }
    case 'drained':
    case 'active':
    case 'list':
      if (server !== undefined) return error(`fs ${command} takes no argument`);
      return request(
        command === 'drained'
          ? { action: 'fs-drained' }
          : command === 'active'
            ? { action: 'fs-available' }
            : { action: 'fs-list' },
      );
    default:
      return error(`Unknown fs command: ${command}. Use: ${FS_ACTIONS}`);
  }
}

const show = (value: unknown): string => JSON.stringify(value);
const fromEnvironment = (source: ConfigSource | undefined): string =>
  source === 'environment' ? ' (from the environment)' : '';

/** The lines printed for a successful answer (jambonz's sbc-sip-sidecar CLI texts). */
export function formatResponse(request: CliRequest, response: CliResponse): string[] {
  const drainedLine = (drained: readonly string[]): string => `Drained servers: [${drained.join(', ')}]`;
  switch (request.action) {
    case 'fs-drain':
      return [`✓ Drained ${response.server ?? request.server}`, drainedLine(response.drained ?? [])];
    case 'fs-undrain':
      return [`✓ Undrained ${response.server ?? request.server}`, drainedLine(response.drained ?? [])];
    case 'fs-drained': {
      const drained = response.drained ?? [];
      return drained.length === 0
        ? ['No servers are currently drained']
        : ['Drained servers:', ...drained.map((s) => `  🔴 ${s}`)];
    }
    case 'fs-available': {
      const available = response.available ?? [];
      return available.length === 0
        ? ['No active feature servers found']
        : ['Available feature servers:', ...available.map((s) => `  🟢 ${s}`)];
    }
    case 'fs-list': {
      const servers = response.servers ?? [];
      if (servers.length === 0) return ['No servers configured'];
      return [
        'Feature servers:',
        ...servers.map((s) => `  ${s.status === 'active' ? '🟢' : '🔴'} ${s.server} (${s.status})`),
      ];
    }
    case 'set':
      return [`✓ ${response.key ?? request.key} = ${show(response.value)}`];
    case 'get':
      return [`${response.key ?? request.key} = ${show(response.value)}${fromEnvironment(response.source)}`];
    case 'unset':
      return [
        `✓ ${response.key ?? request.key} = ${show(response.value)}${fromEnvironment(response.source)}`,
      ];
    case 'add':
    case 'remove': {
      const key = response.key ?? request.key;
      const item = show(response.item ?? request.item);
      const now = `${key} = ${show(response.array ?? [])}`;
      if (request.action === 'add')
        return response.added ? [`✓ Added ${item} to ${key}`, now] : [`${item} is already in ${key}`, now];
      return response.removed ? [`✓ Removed ${item} from ${key}`, now] : [`${item} is not in ${key}`, now];
    }
    case 'ban-list': {
      const bans = response.bans ?? [];
      if (bans.length === 0) return ['No banned sources'];
      return [
        'Banned sources:',
        ...bans.map(
          (b) =>
            `  ⛔ ${b.ip} ${b.expiresAt === undefined ? 'until removed' : `until ${new Date(b.expiresAt).toISOString()}`}${b.reason ? ` (${b.reason})` : ''}`,
        ),
      ];
    }
    case 'ban-add':
      return response.added
        ? [
            `✓ Banned ${response.ip ?? request.ip} ${request.seconds === undefined ? 'until removed' : `for ${request.seconds} s`}`,
          ]
        : [`${response.ip ?? request.ip} was already banned (ban renewed)`];
    case 'ban-remove':
      return response.removed
        ? [`✓ Ban on ${response.ip ?? request.ip} lifted`]
        : [`${response.ip ?? request.ip} is not banned`];
    case 'list': {
      const entries = Object.entries(response.config ?? {});
      if (entries.length === 0) return ['Runtime Configuration:', '  (no configuration set)'];
      return [
        'Runtime Configuration:',
        ...entries.map(
          ([key, value]) => `  ${key} = ${show(value)}${fromEnvironment(response.sources?.[key])}`,
        ),
      ];
    }
  }
}
