import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchWritesThisTurn } from '../src/index.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('batchWritesThisTurn', () => {
  let server: Server | undefined;
  let client: Socket | undefined;
  afterEach(async () => {
    client?.destroy();
    if (server) await new Promise((resolve) => server!.close(resolve));
  });

  /** A loopback TCP connection; resolves with the client socket and what the server received so far. */
  async function connection(): Promise<{ socket: Socket; received: () => string }> {
    let data = '';
    server = createServer((peer) => peer.setEncoding('utf8').on('data', (chunk: string) => (data += chunk)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    client = socket;
    return { socket, received: () => data };
  }

  it('holds the writes of this turn and sends them, in order, once the turn is over', async () => {
    const { socket, received } = await connection();
    batchWritesThisTurn(socket);
    batchWritesThisTurn(socket);
    socket.write('one|');
    socket.write('two|');
    batchWritesThisTurn(socket);
    socket.write('three|');
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBe('one|two|three|'.length);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(socket.writableCorked).toBe(0);
    await vi.waitFor(() => expect(received()).toBe('one|two|three|'));
  });

  it('corks again in a later turn, and leaves a missing or destroyed socket alone', async () => {
    const { socket, received } = await connection();
    batchWritesThisTurn(socket);
    socket.write('a');
    await nextTurn();
    batchWritesThisTurn(socket);
    expect(socket.writableCorked).toBe(1);
    socket.write('b');
    await nextTurn();
    expect(socket.writableCorked).toBe(0);
    await vi.waitFor(() => expect(received()).toBe('ab'));
    expect(() => batchWritesThisTurn(undefined)).not.toThrow();
    socket.destroy();
    batchWritesThisTurn(socket);
    expect(socket.writableCorked).toBe(0);
  });
});
