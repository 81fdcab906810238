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
  | { action: 'fs-list' };

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
}

/** Longest request line the server reads; longer ones close the connection. */
export const MAX_LINE_BYTES = 4096;

/** Checks a decoded line from a client; returns the request or why it is refused. */
export function validateRequest(value: unknown): CliRequest | { error: string } {
  if (typeof value !== 'object' || value === null) return { error: 'Invalid command' };
  const { action, server } = value as { action?: unknown; server?: unknown };
  switch (action) {
    case 'fs-drain':
    case 'fs-undrain': {
      if (typeof server !== 'string' || server.trim() === '') {
        return { error: `${action === 'fs-drain' ? 'drain' : 'undrain'} requires a server IP address` };
      }
      const name = parseServerName(server);
      if (!name) return { error: `Invalid IP address: ${server}` };
      return { action, server: name.canonical };
    }
    case 'fs-drained':
    case 'fs-available':
    case 'fs-list':
      return { action };
    default:
      return { error: `Unknown action: ${typeof action === 'string' ? action : JSON.stringify(action)}` };
  }
}

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'request'; request: CliRequest; json: boolean }
  | { kind: 'error'; message: string };

export const USAGE = `SBC Runtime CLI (sbc-options)
Usage:
  fs drain <ip|ip:port>     keep a feature server out of <cluster>:active-fs
  fs undrain <ip|ip:port>   let it back in
  fs drained                list drained entries
  fs active                 feature servers available for calls (active minus drained)
  fs list                   every feature server with its status
Options:
  --json                    print the service's JSON answer
Environment:
  SBC_SOCKET_PATH           the service's socket (default ${DEFAULT_SOCKET_PATH})
Examples:
  npm run cli fs drain 127.0.1.5
  npm run cli fs undrain 127.0.1.5:5060`;

/** Turns `argv` (without node and the script) into a request, help, or a one-line error. */
export function parseCommand(argv: readonly string[]): ParsedCommand {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [group, command, server, ...extra] = args;
  if (group === undefined || group === 'help' || group === '--help' || group === '-h')
    return { kind: 'help' };
  if (group !== 'fs') return { kind: 'error', message: `Unknown command: ${group}` };
  if (command === undefined)
    return { kind: 'error', message: 'fs needs one of: drain, undrain, drained, active, list' };
  const request = (r: CliRequest): ParsedCommand => ({ kind: 'request', request: r, json });
  switch (command) {
    case 'drain':
    case 'undrain': {
      if (server === undefined) return { kind: 'error', message: `${command} requires a server IP address` };
      if (extra.length > 0)
        return { kind: 'error', message: `${command} takes one server, got ${args.length - 2}` };
      const name = parseServerName(server);
      if (!name) return { kind: 'error', message: `Invalid IP address: ${server}` };
      return request({ action: command === 'drain' ? 'fs-drain' : 'fs-undrain', server: name.canonical });
    }
    case 'drained':
    case 'active':
    case 'list':
      if (server !== undefined) return { kind: 'error', message: `fs ${command} takes no argument` };
      return request(
        command === 'drained'
          ? { action: 'fs-drained' }
          : command === 'active'
            ? { action: 'fs-available' }
            : { action: 'fs-list' },
      );
    default:
      return { kind: 'error', message: `Unknown command: fs ${command}` };
  }
}

/** The lines printed for a successful answer. */
export function formatResponse(request: CliRequest, response: CliResponse): string[] {
  const drainedLine = (drained: readonly string[]): string => `Drained: [${drained.join(', ')}]`;
  switch (request.action) {
    case 'fs-drain':
      return [`✓ Drained ${request.server}`, drainedLine(response.drained ?? [])];
    case 'fs-undrain':
      return [`✓ Undrained ${request.server}`, drainedLine(response.drained ?? [])];
    case 'fs-drained': {
      const drained = response.drained ?? [];
      return drained.length === 0
        ? ['No servers drained']
        : ['Drained servers:', ...drained.map((s) => `  - ${s}`)];
    }
    case 'fs-available': {
      const available = response.available ?? [];
      return available.length === 0
        ? ['No available feature servers']
        : ['Available feature servers:', ...available.map((s) => `  - ${s}`)];
    }
    case 'fs-list': {
      const servers = response.servers ?? [];
      if (servers.length === 0) return ['No feature servers'];
      const width = Math.max(...servers.map((s) => s.server.length));
      return ['Feature servers:', ...servers.map((s) => `  ${s.server.padEnd(width)}  ${s.status}`)];
    }
  }
}
