import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port that was free on `host` a moment ago. */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

/** A UDP port that was free on `host` a moment ago. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** A port free for both UDP and TCP on `host` (SIP listens on both). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freeUdpPort(host);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host}`);
}

/**
 * A block of `size` consecutive UDP ports for media (rtpengine). Random start, so test files
 * running side by side rarely collide; rtpengine skips a port it cannot bind anyway.
 */
export function randomPortRange(size: number): { min: number; max: number } {
  const blocks = Math.floor(20_000 / size);
  const min = 30_000 + Math.floor(Math.random() * blocks) * size;
  return { min, max: min + size - 1 };
}
