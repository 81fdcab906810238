import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestResponse, startFakeAuthHook, type FakeAuthHook } from '../src/index.js';

const basic = 'Basic ' + Buffer.from('foo:bar').toString('base64');
const secret = 'foobar';

function sign(body: string): string {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** What sbc-registrar posts for a REGISTER (reference §2.4). */
function hookBody(password: string, algorithm = 'MD5', username = 'john') {
  const challenge = {
    username,
    realm: 'jambonz.org',
    method: 'REGISTER',
    uri: 'sip:jambonz.org',
    nonce: '1575904829380',
    algorithm,
    qop: 'auth',
    nc: '00000001',
    cnonce: '6b8b4567',
  };
  return {
    source_address: '127.0.0.3',
    source_port: 5060,
    expires: 3600,
    scheme: 'digest',
    ...challenge,
    response: digestResponse({ ...challenge, password }),
  };
}

async function post(hook: FakeAuthHook, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  const res = await fetch(hook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: basic,
      'jambonz-signature': sign(text),
      ...headers,
    },
    body: text,
  });
  return { status: res.status, text: await res.text() };
}

describe('startFakeAuthHook', () => {
  let hook: FakeAuthHook;
  beforeAll(async () => {
    hook = await startFakeAuthHook({
      users: [
        {
          username: 'john',
          password: '1234',
          realm: 'jambonz.org',
          expires: 600,
          call_hook: 'http://127.0.0.5/call',
        },
        { username: 'jane', password: '5678', realm: 'jambonz.org' },
      ],
      basicAuth: { username: 'foo', password: 'bar' },
      webhookSecret: secret,
    });
  });
  afterAll(async () => {
    await hook?.stop();
  });

  it('verifies a known MD5 digest (the RFC 2617 §3.5 example)', () => {
    expect(
      digestResponse({
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('verifies a known SHA-256 digest (the RFC 7616 §3.9.1 example)', () => {
    expect(
      digestResponse({
        username: 'Mufasa',
        realm: 'http-auth@example.org',
        password: 'Circle of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        algorithm: 'SHA-256',
        qop: 'auth',
        nc: '00000001',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      }),
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('answers ok with min(requested, configured) expires and the call hooks', async () => {
    const answer = await post(hook, hookBody('1234'));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      status: 'ok',
      expires: 600,
      call_hook: 'http://127.0.0.5/call',
    });
    const recorded = hook.requests.at(-1)!;
    expect(recorded.basicAuthOk).toBe(true);
    expect(recorded.signatureOk).toBe(true);
    expect(recorded.body.username).toBe('john');
  });

  it('accepts SHA-256 and defaults expires to 45', async () => {
    const answer = await post(hook, hookBody('5678', 'SHA-256', 'jane'));
    expect(JSON.parse(answer.text)).toEqual({ status: 'ok', expires: 45 });
    expect(hook.requests.at(-1)!.body.algorithm).toBe('SHA-256');
  });

  it('fails a wrong password, an unknown user and an unknown realm the documented way', async () => {
    expect(JSON.parse((await post(hook, hookBody('9999'))).text)).toEqual({
      status: 'fail',
      msg: 'invalid password',
    });
    expect(JSON.parse((await post(hook, { ...hookBody('1234'), username: 'jay' })).text)).toEqual({
      status: 'fail',
      msg: 'unknown user',
    });
    expect(JSON.parse((await post(hook, { ...hookBody('1234'), realm: 'baddomain.org' })).text)).toEqual({
      status: 'fail',
      msg: 'unknown realm',
    });
  });

  it('finds one user among 10,000 (benchmarks) and the first of duplicate entries', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      username: `u${i}`,
      password: `p${i}`,
      realm: 'jambonz.org',
    }));
    hook.setUsers([...many, { username: 'u9999', password: 'shadowed', realm: 'jambonz.org' }]);
    try {
      const answer = await post(hook, hookBody('p9999', 'MD5', 'u9999'));
      expect(JSON.parse(answer.text)).toEqual({ status: 'ok', expires: 45 });
      const shadowed = await post(hook, hookBody('shadowed', 'MD5', 'u9999'));
      expect(JSON.parse(shadowed.text)).toEqual({ status: 'fail', msg: 'invalid password' });
    } finally {
      hook.setUsers([
        {
          username: 'john',
          password: '1234',
          realm: 'jambonz.org',
          expires: 600,
          call_hook: 'http://127.0.0.5/call',
        },
        { username: 'jane', password: '5678', realm: 'jambonz.org' },
      ]);
    }
  });

  it('refuses wrong basic credentials and records a bad signature', async () => {
    const wrong = await post(hook, hookBody('1234'), { authorization: 'Basic ' + btoa('foo:nope') });
    expect(wrong.status).toBe(401);
    await post(hook, hookBody('1234'), { 'jambonz-signature': 't=1,v1=00' });
    expect(hook.requests.at(-1)!.signatureOk).toBe(false);
  });

  it('takes GET with the data in the query string', async () => {
    const query = new URLSearchParams(
      Object.entries(hookBody('1234')).map(([k, v]): [string, string] => [k, String(v)]),
    );
    const res = await fetch(`${hook.url}?${query.toString()}`, { headers: { authorization: basic } });
    expect(await res.json()).toEqual({ status: 'ok', expires: 600, call_hook: 'http://127.0.0.5/call' });
    expect(hook.requests.at(-1)!.method).toBe('GET');
  });

  it('can be slow, fail with an HTTP status, answer garbage or hang up', async () => {
    try {
      hook.behave({ kind: 'slow', delayMs: 300 });
      const started = Date.now();
      expect((await post(hook, hookBody('1234'))).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);

      hook.behave({ kind: 'http-error', status: 500 });
      expect((await post(hook, hookBody('1234'))).status).toBe(500);

      hook.behave({ kind: 'garbage' });
      const garbage = await post(hook, hookBody('1234'));
      expect(garbage.status).toBe(200);
      expect(() => JSON.parse(garbage.text) as unknown).toThrow();

      hook.behave({ kind: 'hang-up' });
      await expect(post(hook, hookBody('1234'))).rejects.toThrow();
    } finally {
      hook.behave({ kind: 'normal' });
    }
  });
});

describe('startFakeAuthHook bookkeeping', () => {
  it('keeps only the newest maxRecorded requests', async () => {
    const hook = await startFakeAuthHook({
      users: [{ username: 'john', password: '1234', realm: 'jambonz.org' }],
      maxRecorded: 2,
    });
    try {
      for (const username of ['a', 'b', 'john']) await post(hook, hookBody('1234', 'MD5', username));
      expect(hook.requests.map((r) => r.body.username)).toEqual(['b', 'john']);
      expect(hook.requests.at(-1)!.answer).toEqual({ status: 'ok', expires: 45 });
    } finally {
      await hook.stop();
    }
  });

  it('checks -sess digests and a password changed after it was first used', async () => {
    const john = { username: 'john', password: '1234', realm: 'jambonz.org' };
    const hook = await startFakeAuthHook({ users: [john] });
    try {
      for (const algorithm of ['MD5-sess', 'SHA-256-sess']) {
        const answer = await post(hook, hookBody('1234', algorithm));
        expect(JSON.parse(answer.text)).toEqual({ status: 'ok', expires: 45 });
      }
      john.password = '4321';
      const stale = await post(hook, hookBody('1234'));
      expect(JSON.parse(stale.text)).toEqual({ status: 'fail', msg: 'invalid password' });
      const fresh = await post(hook, hookBody('4321'));
      expect(JSON.parse(fresh.text)).toEqual({ status: 'ok', expires: 45 });
    } finally {
      await hook.stop();
    }
  });

  it('listens on ::1', async () => {
    const hook = await startFakeAuthHook({
      users: [{ username: 'john', password: '1234', realm: 'jambonz.org' }],
      host: '::1',
    });
    try {
      expect(hook.url).toBe(`http://[::1]:${hook.port}/auth`);
      const answer = await post(hook, hookBody('1234'));
      expect(JSON.parse(answer.text)).toEqual({ status: 'ok', expires: 45 });
      expect(hook.requests.at(-1)!.path).toBe('/auth');
    } finally {
      await hook.stop();
    }
  });
});
