import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisService } from '@sbc/testkit';
import {
  RedisArgumentError,
  RedisDataError,
  RegistrationStore,
  type RegistrationBinding,
} from '../src/index.js';
import { closeRedisClients, openRedisClients } from './helpers.js';

let redis: RedisService;
let client: Redis;
let other: Redis;
let raw: Redis;

beforeAll(async () => {
  ({ redis, client, other, raw } = await openRedisClients());
});

afterAll(() => closeRedisClients({ redis, client, other, raw }));

function binding(user: string, overrides: Partial<RegistrationBinding> = {}): RegistrationBinding {
  return {
    contact: `<sip:${user}@127.0.0.3:5062;transport=udp>;expires=3600`,
    sbcAddress: '127.0.0.1:5060',
    privateSbcAddress: '127.0.1.10:5060',
    protocol: 'udp',
    proxy: 'sip:127.0.0.3:5062',
    ...overrides,
  };
}

describe('RegistrationStore', () => {
  it('writes user:<aor> as jambonz JSON, byte for byte, with TTL = granted expires', async () => {
    const store = new RegistrationStore(client);
    const now = Date.now();
    const record = await store.add(
      'alice@sip.example.com',
      binding('alice', {
        callHook: 'http://127.0.0.1:3000/call',
        callStatusHook: 'http://127.0.0.1:3000/status',
        allow_direct_user_calling: true,
      }),
      3600,
      now,
    );
    const expected =
      `{"contact":"<sip:alice@127.0.0.3:5062;transport=udp>;expires=3600","sbcAddress":"127.0.0.1:5060",` +
      `"privateSbcAddress":"127.0.1.10:5060","protocol":"udp","proxy":"sip:127.0.0.3:5062",` +
      `"callHook":"http://127.0.0.1:3000/call","callStatusHook":"http://127.0.0.1:3000/status",` +
      `"allow_direct_app_calling":false,"allow_direct_queue_calling":false,"allow_direct_user_calling":true,` +
      `"expiryTime":${now + 3_600_000}}`;
    expect(await raw.get('user:alice@sip.example.com')).toBe(expected);
    expect(record.expiryTime).toBe(now + 3_600_000);
    const ttl = await raw.ttl('user:alice@sip.example.com');
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(await raw.zscore('active-user', 'user:alice@sip.example.com')).toBe(String(now + 3_600_000));
  });

  it('omits undefined optional fields, as JSON.stringify does in jambonz', async () => {
    const store = new RegistrationStore(client);
    const now = Date.now();
    await store.add(
      'tls-phone@sip.example.com',
      {
        contact: '<sip:tls-phone@127.0.0.3:5063>',
        sbcAddress: '127.0.0.1:5061',
        proxy: 'sip:127.0.0.3:5063',
      },
      60,
      now,
    );
    expect(JSON.parse((await raw.get('user:tls-phone@sip.example.com'))!)).toEqual({
      contact: '<sip:tls-phone@127.0.0.3:5063>',
      sbcAddress: '127.0.0.1:5061',
      proxy: 'sip:127.0.0.3:5063',
      allow_direct_app_calling: false,
      allow_direct_queue_calling: false,
      allow_direct_user_calling: false,
      expiryTime: now + 60_000,
    });
  });

  it('reads back what it wrote, and what jambonz wrote (0/1 flags, object hooks)', async () => {
    const store = new RegistrationStore(client);
    const written = await store.add('bob@sip.example.com', binding('bob'), 120);
    expect(await store.get('bob@sip.example.com')).toEqual(written);

    const jambonzJson = JSON.stringify({
      contact: 'sip:carol@127.0.0.3:5070',
      sbcAddress: '127.0.0.1:5060',
      privateSbcAddress: '127.0.1.11:5060',
      protocol: 'wss',
      proxy: 'sip:127.0.0.3:5070',
      callHook: { url: 'http://127.0.0.1:3000/call', method: 'POST' },
      allow_direct_app_calling: 1,
      allow_direct_queue_calling: 0,
      allow_direct_user_calling: false,
      expiryTime: Date.now() + 60_000,
    });
    await raw.set('user:carol@sip.example.com', jambonzJson, 'EX', 60);
    const carol = await store.get('carol@sip.example.com');
    expect(carol?.protocol).toBe('wss');
    expect(carol?.callHook).toEqual({ url: 'http://127.0.0.1:3000/call', method: 'POST' });
    expect(carol?.allow_direct_app_calling).toBe(true);
    expect(carol?.allow_direct_queue_calling).toBe(false);
  });

  it('returns null for an unknown AOR', async () => {
    expect(await new RegistrationStore(client).get('nobody@sip.example.com')).toBeNull();
  });

  it('the last REGISTER wins: re-adding replaces the record and the zset score', async () => {
    const store = new RegistrationStore(client);
    const now = Date.now();
    await store.add('dave@sip.example.com', binding('dave', { proxy: 'sip:127.0.0.3:6000' }), 60, now);
    await store.add('dave@sip.example.com', binding('dave', { proxy: 'sip:127.0.0.3:6001' }), 300, now);
    expect((await store.get('dave@sip.example.com'))?.proxy).toBe('sip:127.0.0.3:6001');
    expect(await raw.zscore('active-user', 'user:dave@sip.example.com')).toBe(String(now + 300_000));
  });

  it('remove deletes the record and the active-user entry', async () => {
    const store = new RegistrationStore(client);
    await store.add('erin@sip.example.com', binding('erin'), 60);
    expect(await store.remove('erin@sip.example.com')).toBe(true);
    expect(await raw.exists('user:erin@sip.example.com')).toBe(0);
    expect(await raw.zscore('active-user', 'user:erin@sip.example.com')).toBeNull();
    expect(await store.remove('erin@sip.example.com')).toBe(false);
  });

  it('lists and counts by exact realm, skipping expired entries', async () => {
    const store = new RegistrationStore(client);
    const now = Date.now();
    await store.add('u1@list.example.org', binding('u1'), 60, now);
    await store.add('u2@list.example.org', binding('u2'), 60, now);
    await store.add('u3@sub.list.example.org', binding('u3'), 60, now); // other realm, same suffix
    await store.add('u4@xlist.example.org', binding('u4'), 60, now); // other realm, same suffix
    await store.add('stale@list.example.org', binding('stale'), 60, now - 120_000); // expiryTime in the past

    expect((await store.listUsers('list.example.org', now)).sort()).toEqual(['u1', 'u2']);
    expect(await store.count('list.example.org', now)).toBe(2);
    const details = await store.listRegistrations('list.example.org', now);
    expect(details.map((d) => d.aor).sort()).toEqual(['u1@list.example.org', 'u2@list.example.org']);
    expect(details.find((d) => d.aor === 'u1@list.example.org')?.record.proxy).toBe('sip:127.0.0.3:5062');
    expect(await store.listUsers('nothing.example.org', now)).toEqual([]);
  });

  it('matches realms literally, even with glob characters', async () => {
    const store = new RegistrationStore(client);
    await store.add('g1@glob[1].example.net', binding('g1'), 60);
    await store.add('g2@globx.example.net', binding('g2'), 60);
    expect(await store.listUsers('glob[1].example.net')).toEqual(['g1']);
    expect(await store.listUsers('glob?.example.net')).toEqual([]);
  });

  it('lists realms with more entries than one ZSCAN page', async () => {
    const store = new RegistrationStore(client);
    const users = Array.from({ length: 250 }, (_, i) => `bulk${i}`);
    await Promise.all(users.map((u) => store.add(`${u}@bulk.example.com`, binding(u), 60)));
    expect((await store.listUsers('bulk.example.com')).sort()).toEqual([...users].sort());
    expect(await store.count('bulk.example.com')).toBe(250);
  });

  it('counts all realms and purges expired active-user members', async () => {
    const store = new RegistrationStore(client);
    const now = Date.now();
    await raw.del('active-user');
    await store.add('p1@purge.example.com', binding('p1'), 60, now);
    await store.add('p2@purge.example.com', binding('p2'), 60, now - 100_000);
    await store.add('p3@other.example.com', binding('p3'), 60, now - 100_000);
    expect(await store.count(undefined, now)).toBe(1);
    expect(await raw.zcard('active-user')).toBe(3);
    expect(await store.purgeExpired(now)).toBe(2);
    expect(await raw.zrange('active-user', 0, -1)).toEqual(['user:p1@purge.example.com']);
  });

  it('lets two SBC instances see each other’s registrations', async () => {
    const a = new RegistrationStore(client);
    const b = new RegistrationStore(other);
    await a.add('shared@multi.example.com', binding('shared'), 60);
    expect((await b.get('shared@multi.example.com'))?.contact).toContain('shared@');
    expect(await b.count('multi.example.com')).toBe(1);
    expect(await b.remove('shared@multi.example.com')).toBe(true);
    expect(await a.get('shared@multi.example.com')).toBeNull();
  });

  it('rejects a record that is not the jambonz JSON with RedisDataError', async () => {
    const store = new RegistrationStore(client);
    await raw.set('user:garbage@bad.example.com', 'not json', 'EX', 60);
    await raw.set('user:array@bad.example.com', '[1,2]', 'EX', 60);
    await raw.set('user:partial@bad.example.com', '{"contact":"sip:x@127.0.0.3"}', 'EX', 60);
    for (const aor of ['garbage@bad.example.com', 'array@bad.example.com', 'partial@bad.example.com']) {
      const error = await store.get(aor).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisDataError);
      expect((error as RedisDataError).key).toBe(`user:${aor}`);
    }
  });

  it('refuses an AOR without user@realm and a non-positive expires', async () => {
    const store = new RegistrationStore(client);
    await expect(store.add('no-realm', binding('x'), 60)).rejects.toBeInstanceOf(RedisArgumentError);
    await expect(store.add('@realm.example.com', binding('x'), 60)).rejects.toBeInstanceOf(
      RedisArgumentError,
    );
    await expect(store.add('x@realm.example.com', binding('x'), 0)).rejects.toBeInstanceOf(
      RedisArgumentError,
    );
    await expect(store.listUsers('')).rejects.toBeInstanceOf(RedisArgumentError);
  });
});
