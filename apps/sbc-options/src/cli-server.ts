import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { SourceBans } from '@sbc/redis';
import type { Logger } from '@sbc/service';
import { MAX_LINE_BYTES, validateRequest, type CliRequest, type CliResponse } from './cli-protocol.js';
import type { FeatureServerDrain } from './drain.js';
import { RuntimeConfigError, type RuntimeConfig } from './runtime-config.js';

/** SBC_SOCKET_PATH is held by a running instance. */
export class SocketInUseError extends Error {
  override readonly name = 'SocketInUseError';
  constructor(readonly path: string) {
    super(`SBC_SOCKET_PATH=${path} is in use by a running instance (give each instance its own socket)`);
  }
}

/** SBC_SOCKET_PATH names something that is not a socket: we never delete it. */
export class SocketPathError extends Error {
  override readonly name = 'SocketPathError';
}

export interface CliServer {
  readonly path: string;
  /** Stops accepting, ends open connections and removes the socket file. */
  close(): Promise<void>;
}

/** What the CLI changes: the drain store, the runtime configuration and the source bans. */
export interface CliTargets {
  drain: FeatureServerDrain;
  runtimeConfig: RuntimeConfig;
  bans: SourceBans;
}

/** Answers one request from the drain store, the runtime configuration or the source bans. */
export async function answer(request: CliRequest, targets: CliTargets): Promise<CliResponse> {
  const { drain, runtimeConfig, bans } = targets;
  switch (request.action) {
    case 'fs-drain':
      return {
        success: true,
        action: 'drain',
        server: request.server,
        drained: await drain.drain(request.server),
      };
    case 'fs-undrain':
      return {
        success: true,
        action: 'undrain',
        server: request.server,
        drained: await drain.undrain(request.server),
      };
    case 'fs-drained':
      return { success: true, drained: await drain.drained() };
    case 'fs-available':
      return { success: true, available: await drain.available() };
    case 'fs-list':
      return { success: true, ...(await drain.list()) };
    case 'set':
      return { success: true, ...(await runtimeConfig.set(request.key, request.value)) };
    case 'get':
      return { success: true, ...runtimeConfig.get(request.key) };
    case 'unset':
      return { success: true, ...(await runtimeConfig.unset(request.key)) };
    case 'add':
      return { success: true, ...(await runtimeConfig.add(request.key, request.item)) };
    case 'remove':
      return { success: true, ...(await runtimeConfig.remove(request.key, request.item)) };
    case 'list':
      return { success: true, ...runtimeConfig.list() };
    case 'ban-list':
      return { success: true, bans: await bans.list() };
    case 'ban-add':
      return {
        success: true,
        ip: request.ip,
        added: await bans.ban(
          request.ip,
          'manual',
          request.seconds === undefined ? undefined : request.seconds * 1000,
        ),
      };
    case 'ban-remove':
      return { success: true, ip: request.ip, removed: await bans.unban(request.ip) };
  }
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The drain CLI's server: a Unix socket at SBC_SOCKET_PATH, mode 0600 (only the service's user can
 * drain), newline-delimited JSON as in jambonz. A stale socket file left by a crash is replaced; one
 * a running instance still answers on is not (SocketInUseError).
 */
export async function startCliServer(
  options: CliTargets & {
    path: string;
    logger: Logger;
  },
): Promise<CliServer> {
  const { path } = options;
  const log = options.logger.child({ component: 'cli' });
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket())
      throw new SocketPathError(`SBC_SOCKET_PATH=${path} exists and is not a socket`);
    if (await isLive(path)) throw new SocketInUseError(path);
    unlinkSync(path);
  }

  const connections = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', (err) => log.debug({ err }, 'CLI connection error'));
    let buffer = '';
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.length > MAX_LINE_BYTES && !buffer.includes('\n')) {
        socket.end(`${JSON.stringify({ success: false, error: 'Command too long' })}\n`);
        return;
      }
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) {
        queue = queue.then(async () => {
          const response = await handleLine(line);
          if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
        });
      }
    });
  });

  const handleLine = async (line: string): Promise<CliResponse> => {
    let decoded: unknown;
    try {
      decoded = JSON.parse(line);
    } catch {
      return { success: false, error: 'Invalid command (not JSON)' };
    }
    const request = validateRequest(decoded);
    if ('error' in request) return { success: false, error: request.error };
    log.debug({ request }, `CLI: ${request.action}`);
    try {
      const response = await answer(request, options);
      if (request.action === 'fs-drain' || request.action === 'fs-undrain') {
        log.info(
          { action: request.action, server: request.server },
          `CLI: ${request.action} ${request.server}`,
        );
      }
      if (request.action === 'ban-add' || request.action === 'ban-remove') {
        log.info({ action: request.action, source: request.ip }, `CLI: ${request.action} ${request.ip}`);
      }
      return response;
    } catch (err) {
      if (err instanceof RuntimeConfigError) return { success: false, error: err.message };
      log.error({ err, action: request.action }, 'CLI command failed');
      return {
        success: false,
        error: `${request.action} failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Bind with a umask that leaves the socket 0600 from its first moment, then make sure of it.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(path, 0o600);
  server.on('error', (err) => log.error({ err }, 'CLI socket error'));
  const removeFile = (): void => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', removeFile);
  log.info({ path }, 'CLI socket listening');

  return {
    path,
    async close() {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      process.off('exit', removeFile);
      removeFile();
    },
  };
}
