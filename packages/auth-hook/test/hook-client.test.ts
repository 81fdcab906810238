import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  digestResponse,
  freeTcpPort,
  startFakeAuthHook,
  verifyJambonzSignature,
  type FakeAuthHook,
} from '@sbc/testkit';
import {
  AuthOptionError,
  buildAuthHookPayload,
  callAuthHook,
  jambonzSignature,
  parseDigestCredentials,
  toQueryString,
  type AuthHookRequestInput,
  type AuthHookTarget,
} from '../src/index.js';

const basicAuth = { username: 'foo', password: 'bar' };
const webhookSecret = 'foobar';
const users = [
  {
    username: 'john',
    password: '1234',
    realm: 'jambonz.org',
    expires: 3600,
    call_hook: 'http://127.0.0.1:3000/call',
  },
  { username: 'jane', password: '5678', realm: 'jambonz.org' },
];

let hook: FakeAuthHook;
let target: AuthHookTarget;

beforeAll(async () => {
  hook = await startFakeAuthHook({ users, basicAuth, webhookSecret });
  target = { url: hook.url, method: 'POST', ...basicAuth };
});
afterAll(async () => {
  await hook?.stop();
});
beforeEach(() => {
  hook.behave({ kind: 'normal' });
  hook.requests.length = 0;
});

const sipHeaders = {
  via: 'SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK-1',
  from: '<sip:john@jambonz.org>;tag=1',
  to: '<sip:john@jambonz.org>',
  'call-id': 'c1@127.0.0.3',
  cseq: '2 REGISTER',
  contact: '<sip:john@127.0.0.3:5060>',
  expires: '3600',
};

/** A REGISTER from john as a phone would send it after our challenge. */
function registerFrom(
  username: string,
  password: string,
  extra: { algorithm?: string; qop?: boolean; opaque?: string } = {},
): AuthHookRequestInput {
  const nonce = 'n0nce';
  const uri = 'sip:jambonz.org';
  const qop = extra.qop === false ? undefined : 'auth';
  const response = digestResponse({
    username,
    realm: 'jambonz.org',
    password,
    method: 'REGISTER',
    uri,
    nonce,
    algorithm: extra.algorithm,
    ...(qop && { qop, nc: '00000001', cnonce: 'c0ffee' }),
  });
  const header =
    `Digest username="${username}", realm="jambonz.org", nonce="${nonce}", uri="${uri}", response="${response}"` +
    (extra.algorithm ? `, algorithm=${extra.algorithm}` : '') +
    (qop ? ', qop=auth, nc=00000001, cnonce="c0ffee"' : '') +
    (extra.opaque !== undefined ? `, opaque="${extra.opaque}"` : '');
  return {
    source_address: '127.0.0.3',
    source_port: 5060,
    method: 'REGISTER',
    headers: sipHeaders,
    expires: 3600,
    credentials: parseDigestCredentials(header),
  };
}

describe('callAuthHook (POST)', () => {
  it('sends the jambonz body byte for byte, with Basic auth and a valid Jambonz-Signature', async () => {
    const request = registerFrom('john', '1234', { algorithm: 'MD5', opaque: 'op' });
    const result = await callAuthHook(target, request, { webhookSecret, userAgent: 'sbc-test/1' });

    expect(result).toMatchObject({
      kind: 'ok',
      grant: { expires: 3600, call_hook: 'http://127.0.0.1:3000/call' },
      answer: { status: 'ok', expires: 3600, call_hook: 'http://127.0.0.1:3000/call' },
      url: hook.url,
    });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(hook.requests).toHaveLength(1);
    const received = hook.requests[0]!;
    expect(received.method).toBe('POST');
    expect(received.basicAuthOk).toBe(true);
    expect(received.signatureOk).toBe(true);
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.headers['user-agent']).toBe('sbc-test/1');
    const c = request.credentials;
    expect(received.rawBody).toBe(
      '{"source_address":"127.0.0.3","source_port":5060,"method":"REGISTER",' +
        `"headers":${JSON.stringify(sipHeaders)},"expires":3600,"scheme":"digest","username":"john",` +
        `"realm":"jambonz.org","nonce":"n0nce","uri":"sip:jambonz.org","algorithm":"MD5","response":"${c.response}",` +
        '"qop":"auth","nc":"00000001","cnonce":"c0ffee","opaque":"op"}',
    );
  });

  it('puts a defaulted algorithm last and leaves out qop/nc/cnonce/opaque the client did not send', async () => {
    const request = { ...registerFrom('john', '1234', { qop: false }), method: 'INVITE', expires: null };
    request.credentials = parseDigestCredentials(
      `Digest username="john", realm="jambonz.org", nonce="n0nce", uri="sip:jambonz.org", response="${digestResponse(
        {
          username: 'john',
          realm: 'jambonz.org',
          password: '1234',
          method: 'INVITE',
          uri: 'sip:jambonz.org',
          nonce: 'n0nce',
        },
      )}"`,
    );
    const result = await callAuthHook(target, request, { webhookSecret });
    expect(result.kind).toBe('ok');
    const body = hook.requests[0]!.rawBody;
    expect(Object.keys(JSON.parse(body) as object)).toEqual([
      'source_address',
      'source_port',
      'method',
      'headers',
      'expires',
      'scheme',
      'username',
      'realm',
      'nonce',
      'uri',
      'response',
      'algorithm',
    ]);
    expect(body).toContain('"expires":null,');
    expect(body.endsWith('"algorithm":"MD5"}')).toBe(true);
  });

  it('verifies SHA-256 credentials at the hook', async () => {
    const result = await callAuthHook(target, registerFrom('jane', '5678', { algorithm: 'SHA-256' }), {
      webhookSecret,
    });
    expect(result).toMatchObject({ kind: 'ok', grant: { expires: 45 } });
  });

  it('returns fail with the hook message for a wrong password', async () => {
    const result = await callAuthHook(target, registerFrom('john', 'wrong'), { webhookSecret });
    expect(result).toMatchObject({ kind: 'fail', msg: 'invalid password', blacklist: false, headers: {} });
  });

  it('omits the signature without a secret and Basic auth without both credentials', async () => {
    const result = await callAuthHook(
      { url: hook.url, username: 'foo', password: null },
      registerFrom('john', '1234'),
    );
    expect(result).toEqual(expect.objectContaining({ kind: 'http-error', status: 401 }));
    const received = hook.requests[0]!;
    expect(received.headers.authorization).toBeUndefined();
    expect(received.headers['jambonz-signature']).toBeUndefined();
    expect(received.signatureOk).toBe(false);
  });

  it('takes Basic credentials from the URL when the webhook row has none, and never reports the password', async () => {
    const url = hook.url.replace('http://', 'http://foo:bar@');
    const result = await callAuthHook({ url }, registerFrom('john', '1234'), { webhookSecret });
    expect(result.kind).toBe('ok');
    expect(result.url).toBe(hook.url.replace('http://', 'http://foo:***@'));
    expect(hook.requests[0]!.basicAuthOk).toBe(true);
  });
});

describe('callAuthHook (GET)', () => {
  it('sends the data without headers as a query string, signed over "null"', async () => {
    const request = registerFrom('john', '1234', { algorithm: 'MD5' });
    const result = await callAuthHook({ ...target, method: 'get' }, request, { webhookSecret });
    expect(result.kind).toBe('ok');
    const received = hook.requests[0]!;
    expect(received.method).toBe('GET');
    expect(received.rawBody).toBe('');
    expect(received.basicAuthOk).toBe(true);
    expect(received.signatureOk).toBe(true);
    expect(received.body).toEqual({
      source_address: '127.0.0.3',
      source_port: '5060',
      method: 'REGISTER',
      expires: '3600',
      scheme: 'digest',
      username: 'john',
      realm: 'jambonz.org',
      nonce: 'n0nce',
      uri: 'sip:jambonz.org',
      algorithm: 'MD5',
      response: request.credentials.response,
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c0ffee',
    });
  });

  it('encodes like qs: RFC 3986, null as an empty value, appended to an existing query', () => {
    expect(toQueryString({ a: "x y!'()*é", b: null, c: 5, 'd e': 'sip:a@b;c=d' })).toBe(
      'a=x%20y%21%27%28%29%2A%C3%A9&b=&c=5&d%20e=sip%3Aa%40b%3Bc%3Dd',
    );
  });

  it('keeps a query the hook URL already has', async () => {
    const result = await callAuthHook(
      { ...target, method: 'GET', url: `${hook.url}?tenant=a` },
      registerFrom('john', '1234'),
    );
    expect(result.kind).toBe('ok');
    expect(hook.requests[0]!.body).toMatchObject({ tenant: 'a', username: 'john' });
  });
});

describe('callAuthHook outcomes when the hook misbehaves', () => {
  it('slow: gives up at the timeout', async () => {
    hook.behave({ kind: 'slow', delayMs: 2000 });
    const result = await callAuthHook(target, registerFrom('john', '1234'), { timeoutMs: 150 });
    expect(result).toMatchObject({ kind: 'slow', timeoutMs: 150 });
    expect(hook.requests).toHaveLength(1);
  });

  it.each([500, 404])('http-error: HTTP %i', async (status) => {
    hook.behave({ kind: 'http-error', status });
    const result = await callAuthHook(target, registerFrom('john', '1234'));
    expect(result).toMatchObject({ kind: 'http-error', status });
  });

  it('garbage: 200 with HTML', async () => {
    hook.behave({ kind: 'garbage' });
    const result = await callAuthHook(target, registerFrom('john', '1234'));
    expect(result).toMatchObject({
      kind: 'garbage',
      problem: 'the body is not JSON',
      excerpt: '<html>502 upstream gone</html>',
    });
  });

  it.each([
    ['[]', 'the body is not a JSON object'],
    ['{"msg":"hi"}', 'status is missing or not a string'],
    ['{"status":"failed"}', 'status "failed" is neither ok nor fail'],
    ['{"status":"ok","expires":"soon"}', 'expires is not a whole number of seconds'],
    ['{"status":"ok","expires":-1}', 'expires is not a whole number of seconds'],
    ['{"status":"ok","call_hook":42}', 'call_hook is neither a URL nor a webhook object'],
    ['{"status":"ok","allow_direct_app_calling":"yes"}', 'allow_direct_app_calling is not a boolean'],
    ['{"status":"ok","application_sid":7}', 'application_sid is not a string'],
    ['{"status":"fail","blacklist":"true"}', 'blacklist is not a boolean'],
    [
      '{"status":"fail","headers":{"X-Reason":"a\\r\\nVia: evil"}}',
      'header X-Reason is not a single-line string',
    ],
    ['{"status":"fail","headers":["X-A"]}', 'headers is not an object'],
  ])('garbage: 200 with JSON %s', async (body, problem) => {
    hook.behave({ kind: 'garbage', body, contentType: 'application/json' });
    const result = await callAuthHook(target, registerFrom('john', '1234'));
    expect(result).toMatchObject({ kind: 'garbage', problem });
  });

  it('accepts the documented answer fields in their jambonz shapes', async () => {
    hook.behave({
      kind: 'garbage',
      contentType: 'application/json',
      body: JSON.stringify({
        status: 'OK',
        expires: '120',
        call_hook: { url: 'http://127.0.0.1:3000/call', method: 'POST' },
        call_status_hook: 'http://127.0.0.1:3000/status',
        allow_direct_app_calling: 1,
        allow_direct_queue_calling: false,
        allow_direct_user_calling: true,
        application_sid: 'app-1',
        custom: { kept: true },
      }),
    });
    const result = await callAuthHook(target, registerFrom('john', '1234'));
    expect(result).toMatchObject({
      kind: 'ok',
      grant: {
        expires: 120,
        call_hook: { url: 'http://127.0.0.1:3000/call', method: 'POST' },
        call_status_hook: 'http://127.0.0.1:3000/status',
        allow_direct_app_calling: true,
        allow_direct_queue_calling: false,
        allow_direct_user_calling: true,
        application_sid: 'app-1',
      },
      answer: { custom: { kept: true } },
    });
  });

  it('fail carries blacklist and the extra 403 headers', async () => {
    hook.behave({
      kind: 'garbage',
      contentType: 'application/json',
      body: '{"status":"Fail","msg":"go away","blacklist":true,"headers":{"X-Reason":"spam","Retry-After":60}}',
    });
    const result = await callAuthHook(target, registerFrom('john', '1234'));
    expect(result).toMatchObject({
      kind: 'fail',
      msg: 'go away',
      blacklist: true,
      headers: { 'X-Reason': 'spam', 'Retry-After': '60' },
    });
  });

  it('hang-up: the connection closes without an answer', async () => {
    hook.behave({ kind: 'hang-up' });
    const result = await callAuthHook(target, registerFrom('john', '1234'));
    expect(result).toMatchObject({ kind: 'unreachable' });
    // Once on the kept-alive connection, once more on a fresh one (a hook closing an idle
    // connection just as it is reused looks the same from here).
    expect(hook.requests).toHaveLength(2);
  });

  it('unreachable: nothing listens on the port', async () => {
    const port = await freeTcpPort('127.0.0.1');
    const result = await callAuthHook({ url: `http://127.0.0.1:${port}/auth` }, registerFrom('john', '1234'));
    expect(result).toMatchObject({ kind: 'unreachable', error: 'ECONNREFUSED' });
  });

  it('refuses unusable options with a typed error', async () => {
    await expect(callAuthHook(target, registerFrom('john', '1234'), { timeoutMs: 0 })).rejects.toBeInstanceOf(
      AuthOptionError,
    );
    expect(hook.requests).toHaveLength(0);
  });

  it('unreachable: a URL that cannot be called', async () => {
    const result = await callAuthHook({ url: 'not a url' }, registerFrom('john', '1234'));
    expect(result).toMatchObject({ kind: 'unreachable', error: 'ERR_INVALID_URL' });
  });
});

describe('answers the fake hook cannot give', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Headers at once, then a body that never ends / one far too large.
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/trickle') res.write('{"status":');
      else res.end(`{"status":"ok","pad":"${'x'.repeat(100_000)}"}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('slow: a body that stops half way is cut at the timeout', async () => {
    const result = await callAuthHook({ url: `${url}/trickle` }, registerFrom('john', '1234'), {
      timeoutMs: 150,
    });
    expect(result).toMatchObject({ kind: 'slow', timeoutMs: 150 });
  });

  it('keeps the connection to a hook open between calls', async () => {
    const answers = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    let connections = 0;
    answers.on('connection', () => connections++);
    await new Promise<void>((resolve) => answers.listen(0, '127.0.0.1', resolve));
    try {
      const hookUrl = `http://127.0.0.1:${(answers.address() as AddressInfo).port}/auth`;
      for (let i = 0; i < 5; i++) {
        expect(await callAuthHook({ url: hookUrl }, registerFrom('john', '1234'))).toMatchObject({
          kind: 'ok',
        });
      }
      expect(connections).toBe(1);
    } finally {
      answers.closeAllConnections();
      await new Promise((resolve) => answers.close(resolve));
    }
  });

  it('garbage: an answer larger than maxAnswerBytes', async () => {
    const result = await callAuthHook({ url: `${url}/big` }, registerFrom('john', '1234'), {
      maxAnswerBytes: 1024,
    });
    expect(result).toMatchObject({ kind: 'garbage', problem: 'the answer is larger than 1024 bytes' });
  });
});

describe('request building', () => {
  it('signs exactly what the testkit verifies', () => {
    const body = JSON.stringify(buildAuthHookPayload(registerFrom('john', '1234'), { includeHeaders: true }));
    const header = jambonzSignature('s3cret', body, 1_700_000_000.9);
    expect(header.startsWith('t=1700000000,v1=')).toBe(true);
    expect(verifyJambonzSignature(header, 's3cret', body)).toBe(true);
    expect(verifyJambonzSignature(header, 'other', body)).toBe(false);
  });
});

describe('connections to hooks', () => {
  /** A plain HTTP server on loopback that counts its connections. */
  async function countingServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
    const server = createServer(handle);
    const counted = { connections: 0 };
    server.on('connection', () => counted.connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
    const stop = async (): Promise<void> => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    return { url, counted, stop };
  }

  it('opens at most 64 connections per hook; more calls wait for one', async () => {
    const hookServer = await countingServer((_req, res) => {
      setImmediate(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 150 }, () =>
          callAuthHook({ url: hookServer.url }, registerFrom('john', '1234')),
        ),
      );
      expect(results.every((r) => r.kind === 'ok')).toBe(true);
      expect(hookServer.counted.connections).toBeLessThanOrEqual(64);
    } finally {
      await hookServer.stop();
    }
  });

  it('a call still waiting for a connection gives up at its deadline and is never sent', async () => {
    hook.behave({ kind: 'slow', delayMs: 3000 });
    const call = (timeoutMs: number) => callAuthHook(target, registerFrom('john', '1234'), { timeoutMs });
    const held = Array.from({ length: 64 }, () => call(1000));
    const waiting = await Promise.all(Array.from({ length: 6 }, () => call(200)));
    expect(waiting.map((r) => r.kind)).toEqual(Array.from({ length: 6 }, () => 'slow'));
    expect((await Promise.all(held)).every((r) => r.kind === 'slow')).toBe(true);
    expect(hook.requests.length).toBeLessThanOrEqual(64);
    hook.behave({ kind: 'normal' });
    expect(await call(5000)).toMatchObject({ kind: 'ok' });
  });

  it('opens a new connection after a hook answered "connection: close"', async () => {
    const hookServer = await countingServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{"status":"ok"}');
    });
    try {
      for (let i = 0; i < 3; i++) {
        expect(await callAuthHook({ url: hookServer.url }, registerFrom('john', '1234'))).toMatchObject({
          kind: 'ok',
        });
      }
      expect(hookServer.counted.connections).toBe(3);
    } finally {
      await hookServer.stop();
    }
  });

  it('reads a chunked answer whole', async () => {
    const hookServer = await countingServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"ok",');
      setImmediate(() => res.end('"expires":60}'));
    });
    try {
      const result = await callAuthHook({ url: hookServer.url }, registerFrom('john', '1234'));
      expect(result).toMatchObject({ kind: 'ok', grant: { expires: 60 } });
    } finally {
      await hookServer.stop();
    }
  });

  it('checks the certificate of an https hook: a self-signed one is unreachable', async () => {
    const fixture = (name: string): Promise<Buffer> => readFile(new URL(`fixtures/${name}`, import.meta.url));
    const server = createHttpsServer(
      { key: await fixture('self-signed.key'), cert: await fixture('self-signed.crt') },
      (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
      const result = await callAuthHook({ url }, registerFrom('john', '1234'));
      expect(result).toMatchObject({ kind: 'unreachable', error: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
