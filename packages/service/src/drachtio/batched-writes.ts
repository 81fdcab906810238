import type { Socket } from 'node:net';

const corked = new WeakSet<Socket>();

/**
 * Holds writes to the engine's control socket until this event-loop turn's callbacks and promise
 * continuations have run, then sends them in one system call. Call it before `res.send()`: the
 * answers that complete in one turn (one read of Redis replies finishes many requests) then cost
 * one write instead of one each, here and in the engine's read. Nothing waits longer than the turn.
 */
export function batchWritesThisTurn(socket: Socket | undefined): void {
  if (!socket || socket.destroyed || corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
