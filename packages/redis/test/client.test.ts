import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freeTcpPort, startRedis, waitUntil, type RedisService } from '@sbc/testkit';
import {
  CallCounters,
  EphemeralGateways,
  GatewayBlacklist,
  LeaderLock,
  NonceStore,
  RedisAuthError,
  RedisConfigError,
  RedisUnavailableError,
  RegistrationStore,
  ServerSets,
  createRedisClient,
  pingRedis,
  toIoredisOptions,
  type RedisClientOptions,
} from '../src/index.js';
import { recordingLogger, type LogLine } from './helpers.js';
import { makeTestPki, startPrivateRedis, type PrivateRedis } from './private-redis.js';

/** Runs one operation of every store; each must reject with RedisUnavailableError when Redis is down. */
function everyStoreOperation(client: Redis): [string, () => Promise<unknown>][] {
  return [
    ['ping', () => pingRedis(client)],
    [
      'registration add',
      () =>
        new RegistrationStore(client).add(
          'a@b.example.com',
          { contact: 'sip:a@127.0.0.3', sbcAddress: '127.0.0.1:5060', proxy: 'sip:127.0.0.3:5060' },
          60,
        ),
    ],
    ['registration get', () => new RegistrationStore(client).get('a@b.example.com')],
    ['registration list', () => new RegistrationStore(client).listUsers('b.example.com')],
    ['registration count', () => new RegistrationStore(client).count()],
    ['server set touch', () => new ServerSets(client).touch('active-fs', '127.0.1.1:5070')],
    ['server set members', () => new ServerSets(client).members('active-fs')],
    ['server set sweep', () => new ServerSets(client).sweep('active-fs', 60_000)],
    ['leader acquire', () => new LeaderLock(client).acquire(70_000)],
    ['leader renew', () => new LeaderLock(client).renew(70_000)],
    ['ephemeral gateway query', () => new EphemeralGateways(client).query('127.0.0.2')],
    ['blacklist check', () => new GatewayBlacklist(client).isBlacklisted('gw')],
    ['call counter incr', () => new CallCounters(client).incr('account', 'acc')],
    ['call counter decr', () => new CallCounters(client).decr('account', 'acc')],
    ['nonce claim', () => new NonceStore(client).claim('nonce', 1, 60)],
  ];
}

async function expectAllUnavailable(client: Redis): Promise<void> {
  for (const [what, op] of everyStoreOperation(client)) {
    const error = await op().then(
      () => new Error(`${what} succeeded`),
      (e: unknown) => e,
    );
    expect(error, what).toBeInstanceOf(RedisUnavailableError);
  }
}

function everythingSaid(error: unknown, lines: LogLine[]): string {
  const e = error as Error;
  return [
    e.message,
    String(e),
    e.stack ?? '',
    JSON.stringify(e),
    inspect(e, { depth: 5, showHidden: true }),
    JSON.stringify(lines),
  ].join('\n');
}

describe('toIoredisOptions', () => {
  it('maps a single host with the fail-fast policy and jambonz defaults', () => {
    const options = toIoredisOptions({});
    expect(options).toMatchObject({
      host: 'localhost',
      port: 6379,
      db: 0,
      commandTimeout: 2000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
    });
    expect(options.sentinels).toBeUndefined();
    expect(toIoredisOptions({ autoPipelining: true }).enableAutoPipelining).toBe(true);
    // After a failover the old primary refuses writes with READONLY: reconnect and resend.
    const { reconnectOnError } = toIoredisOptions({});
    expect(reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnectOnError?.(new Error('ERR wrong number of arguments'))).toBe(false);
    expect(
      toIoredisOptions({
        host: '127.0.0.9',
        port: 6380,
        db: 4,
        username: 'u',
        password: 'p',
        commandTimeoutMs: 500,
      }),
    ).toMatchObject({
      host: '127.0.0.9',
      port: 6380,
      db: 4,
      username: 'u',
      password: 'p',
      commandTimeout: 500,
    });
  });

  it('maps sentinels, master name and sentinel credentials', () => {
    const options = toIoredisOptions({
      sentinels: [
        { host: '127.0.0.7', port: 26379 },
        { host: '127.0.0.8', port: 26380 },
      ],
      sentinelMasterName: 'mymaster',
      sentinelUsername: 'su',
      sentinelPassword: 'sp',
      password: 'mp',
    });
    expect(options).toMatchObject({
      sentinels: [
        { host: '127.0.0.7', port: 26379 },
        { host: '127.0.0.8', port: 26380 },
      ],
      name: 'mymaster',
      sentinelUsername: 'su',
      sentinelPassword: 'sp',
      password: 'mp',
      enableTLSForSentinelMode: false,
    });
  });

  it('refuses options that cannot work', () => {
    expect(() => toIoredisOptions({ sentinels: [{ host: '127.0.0.7', port: 26379 }] })).toThrow(
      RedisConfigError,
    );
    expect(() => toIoredisOptions({ port: 70000 })).toThrow(RedisConfigError);
    expect(() => toIoredisOptions({ commandTimeoutMs: 0 })).toThrow(RedisConfigError);
    expect(() => toIoredisOptions({ keyPrefix: 'x' } as unknown as RedisClientOptions)).toThrow(
      RedisConfigError,
    );
  });
});

describe('createRedisClient against the test kit Redis', () => {
  let redis: RedisService;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('connects, logs it once, and uses the database index', async () => {
    const logger = recordingLogger();
    const db = redis.db === 3 ? 4 : 3;
    const client = createRedisClient({ host: redis.host, port: redis.port, db }, logger);
    const raw = new Redis({ host: redis.host, port: redis.port, db });
    try {
      await pingRedis(client);
      await new GatewayBlacklist(client).set('db-check', 60);
      expect(await raw.get('blacklist-sip-gateway:db-check')).toBe('1');
      await raw.del('blacklist-sip-gateway:db-check');
      expect(logger.lines).toEqual([
        { level: 'info', obj: { redis: `${redis.host}:${redis.port}` }, msg: 'redis connected' },
      ]);
    } finally {
      client.disconnect();
      raw.disconnect();
    }
  });
  it('batchWrites: the commands of one tick wait in the socket until it ends, then all get their answers', async () => {
    const client = createRedisClient({ host: redis.host, port: redis.port, batchWrites: true });
    try {
      await pingRedis(client);
      const counters = new CallCounters(client);
      const answers = [
        counters.incr('account', 'batched'),
        counters.incr('account', 'batched'),
        pingRedis(client),
      ];
      // Held (corked) until this tick's callbacks have run, then sent in one write.
      expect(client.stream.writableCorked).toBe(1);
      expect(client.stream.writableLength).toBeGreaterThan(0);
      expect(await Promise.all(answers)).toEqual([1, 2, undefined]);
      expect(client.stream.writableCorked).toBe(0);
      expect(await counters.incr('account', 'batched')).toBe(3);
    } finally {
      client.disconnect();
    }
  });
});

describe('Redis down', () => {
  it('every store rejects with RedisUnavailableError when nothing listens, and logs the cause once', async () => {
    const port = await freeTcpPort();
    const logger = recordingLogger();
    const client = createRedisClient({ host: '127.0.0.1', port }, logger);
    try {
      await expectAllUnavailable(client);
      const error = await pingRedis(client).catch((e: unknown) => e);
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(logger.lines[0]?.obj.error).toContain('ECONNREFUSED');
    } finally {
      client.disconnect();
    }
  });

  it('a server that accepts but never answers gives RedisUnavailableError after the command timeout', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const client = createRedisClient({ host: '127.0.0.1', port, commandTimeoutMs: 300 });
    try {
      const error = await new CallCounters(client).incr('account', 'hung').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect((error as Error).message).toMatch(/timed out/i);
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('a server that goes away and comes back', () => {
    let server: PrivateRedis;
    beforeAll(async () => {
      server = await startPrivateRedis();
    });
    afterAll(async () => {
      await server?.remove();
    });

    it('fails fast while it is down, then heals and logs the recovery', async () => {
      const logger = recordingLogger();
      const client = createRedisClient({ host: server.host, port: server.port }, logger);
      try {
        await new CallCounters(client).incr('account', 'before-outage');
        await server.stop();
        await expectAllUnavailable(client);
        await server.restart();
        await waitUntil(() => pingRedis(client).then(() => true), { what: 'the client to reconnect' });
        expect(await new CallCounters(client).incr('account', 'after-outage')).toBe(1);
        expect(logger.lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
          'info redis connected',
          'warn redis connection lost',
          'info redis connection restored',
        ]);
      } finally {
        client.disconnect();
      }
    });
  });
});

describe('passwords', () => {
  const right = 'Right-Pass-7f3a9c';
  const wrong = 'Wrong-Pass-c41d2e';
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis(() => ['--requirepass', right]);
    const admin = new Redis({ host: server.host, port: server.port, password: right });
    await admin.call('ACL', 'SETUSER', 'sbc', 'on', `>${right}`, '~*', '&*', '+@all');
    admin.disconnect();
  });
  afterAll(async () => {
    await server?.remove();
  });

  it.each([
    ['a wrong password', { password: wrong }],
    ['a wrong password for a named user', { username: 'sbc', password: wrong }],
    ['a wrong sentinel-style second secret too', { password: wrong, sentinelPassword: right }],
  ])('%s gives RedisAuthError without the password in the error or the log', async (_what, credentials) => {
    const logger = recordingLogger();
    const client = createRedisClient({ host: server.host, port: server.port, ...credentials }, logger);
    try {
      const error = await new RegistrationStore(client).get('x@y.example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisAuthError);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect((error as Error).message).toMatch(/WRONGPASS/);
      expect(logger.lines.some((l) => l.level === 'warn' && String(l.obj.error).includes('WRONGPASS'))).toBe(
        true,
      );
      const said = everythingSaid(error, logger.lines);
      expect(said).not.toContain(wrong);
      expect(said).not.toContain(right);
    } finally {
      client.disconnect();
    }
  });

  it('no password against a server that needs one gives RedisAuthError (NOAUTH)', async () => {
    const client = createRedisClient({ host: server.host, port: server.port });
    try {
      const error = await new ServerSets(client).members('active-fs').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisAuthError);
      expect((error as Error).message).toMatch(/NOAUTH/);
    } finally {
      client.disconnect();
    }
  });

  it('the right password, with and without a username, works', async () => {
    for (const credentials of [{ password: right }, { username: 'sbc', password: right }]) {
      const logger = recordingLogger();
      const client = createRedisClient({ host: server.host, port: server.port, ...credentials }, logger);
      try {
        expect(
          await new NonceStore(client).claim(
            `auth-${credentials.password}-${'username' in credentials}`,
            1,
            60,
          ),
        ).toBe(true);
        expect(JSON.stringify(logger.lines)).not.toContain(right);
      } finally {
        client.disconnect();
      }
    }
  });
});

describe('TLS', () => {
  let server: PrivateRedis;
  let pki: ReturnType<typeof makeTestPki>;
  let tlsPort: number;
  beforeAll(async () => {
    tlsPort = await freeTcpPort();
    server = await startPrivateRedis((dir) => {
      pki = makeTestPki(dir);
      return [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        pki.files.serverCert,
        '--tls-key-file',
        pki.files.serverKey,
        '--tls-ca-cert-file',
        pki.files.ca,
        '--tls-auth-clients',
        'optional',
      ];
    });
  });
  afterAll(async () => {
    await server?.remove();
  });

  it('connects with the CA, with a client certificate, and without verification when asked', async () => {
    const variants: RedisClientOptions['tls'][] = [
      { ca: pki.ca },
      { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
      { rejectUnauthorized: false },
    ];
    for (const tls of variants) {
      const client = createRedisClient({ host: '127.0.0.1', port: tlsPort, tls });
      try {
        expect(await new CallCounters(client).incr('account', 'tls')).toBeGreaterThan(0);
      } finally {
        client.disconnect();
      }
    }
  });

  it('refuses a server certificate it cannot verify, as RedisUnavailableError', async () => {
    const logger = recordingLogger();
    const client = createRedisClient({ host: '127.0.0.1', port: tlsPort, tls: {} }, logger);
    try {
      const error = await pingRedis(client).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(logger.lines[0]?.obj.error).toMatch(/certificate/i);
    } finally {
      client.disconnect();
    }
  });
});

describe('sentinel', () => {
  let master: PrivateRedis;
  let sentinel: PrivateRedis;
  beforeAll(async () => {
    master = await startPrivateRedis();
    sentinel = await startPrivateRedis(() => [], {
      sentinel: true,
      configFile: () => `sentinel monitor sbcmaster ${master.host} ${master.port} 1\n`,
    });
  });
  afterAll(async () => {
    await sentinel?.remove();
    await master?.remove();
  });

  it('finds the master through the sentinel and stores there', async () => {
    const client = createRedisClient({
      sentinels: [{ host: sentinel.host, port: sentinel.port }],
      sentinelMasterName: 'sbcmaster',
    });
    const raw = new Redis({ host: master.host, port: master.port });
    try {
      await new GatewayBlacklist(client).set('via-sentinel', 60);
      expect(await raw.get('blacklist-sip-gateway:via-sentinel')).toBe('1');
    } finally {
      client.disconnect();
      raw.disconnect();
    }
  });

  it('an unknown master name gives RedisUnavailableError', async () => {
    const client = createRedisClient({
      sentinels: [{ host: sentinel.host, port: sentinel.port }],
      sentinelMasterName: 'no-such-master',
    });
    try {
      await expect(pingRedis(client)).rejects.toBeInstanceOf(RedisUnavailableError);
    } finally {
      client.disconnect();
    }
  });
});
