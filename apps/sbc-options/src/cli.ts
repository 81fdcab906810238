#!/usr/bin/env node
/**
 * The runtime CLI: `node dist/cli.js fs drain 127.0.1.5` (or `npm run cli fs drain 127.0.1.5` from the
 * repository root), `set <key> <value>`, `get <key>`, `list`, … Talks to a running sbc-options over its
 * Unix socket (SBC_SOCKET_PATH). Prints the answer on stdout and exits 0; any problem is one line on
 * stderr (`Error: …`, jambonz's texts) and exit status 1.
 */
import { connect } from 'node:net';
import {
  DEFAULT_SOCKET_PATH,
  USAGE,
  formatResponse,
  parseCommand,
  type CliRequest,
  type CliResponse,
} from './cli-protocol.js';

const TIMEOUT_MS = 5000;

class CliError extends Error {}

function send(socketPath: string, request: CliRequest): Promise<CliResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffer = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      fn();
    };
    socket.setTimeout(TIMEOUT_MS, () =>
      finish(() =>
        reject(
          new CliError(
            `Command timed out: no answer from sbc-options at ${socketPath} within ${TIMEOUT_MS / 1000} s`,
          ),
        ),
      ),
    );
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      finish(() => {
        try {
          resolve(JSON.parse(line) as CliResponse);
        } catch {
          reject(new CliError(`Invalid response from server: sbc-options at ${socketPath} sent no JSON`));
        }
      });
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(() => {
        const down = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
        reject(
          new CliError(
            down
              ? `Connection failed: no sbc-options at ${socketPath} (${err.code}): is it running? (set SBC_SOCKET_PATH if it uses another socket)`
              : `Connection failed: ${socketPath}: ${err.message}`,
          ),
        );
      }),
    );
    socket.on('close', () =>
      finish(() =>
        reject(
          new CliError(`Invalid response from server: sbc-options at ${socketPath} closed the connection`),
        ),
      ),
    );
  });
}

async function main(): Promise<number> {
  const command = parseCommand(process.argv.slice(2));
  if (command.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command.kind === 'error') throw new CliError(command.message);
  const socketPath = process.env.SBC_SOCKET_PATH || DEFAULT_SOCKET_PATH;
  const response = await send(socketPath, command.request);
  if (!response.success) throw new CliError(response.error ?? 'the service refused the command');
  if (command.json) console.log(JSON.stringify(response));
  else for (const line of formatResponse(command.request, response)) console.log(line);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`Error: ${message.split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
