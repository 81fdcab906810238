import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestResponse } from './digest.js';

/** One user of the fake customer, as jambonz's customer-auth-server configures them. */
export interface HookUser {
  username: string;
  password: string;
  realm: string;
  /** Most seconds to grant; the hook answers min(requested, this, default 45 as the reference does). */
  expires?: number;
  call_hook?: string;
  call_status_hook?: string;
}

/** What the fake hook does with the next requests. */
export type HookBehaviour =
  | { kind: 'normal' }
  /** Waits before answering normally (longer than the client's timeout = "hook slow"). */
  | { kind: 'slow'; delayMs: number }
  /** Answers this HTTP status with an empty body. */
  | { kind: 'http-error'; status: number }
  /** Answers 200 with this body, which is not the documented JSON. */
  | { kind: 'garbage'; body?: string; contentType?: string }
  /** Closes the connection without answering. */
  | { kind: 'hang-up' };

export interface RecordedHookRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The JSON body (POST) or the query parameters (GET). */
  body: Record<string, unknown>;
  rawBody: string;
  /** Whether the Basic credentials matched (undefined when none are required). */
  basicAuthOk: boolean | undefined;
  /** Whether `Jambonz-Signature` verified with the configured secret (undefined when no secret). */
  signatureOk: boolean | undefined;
  /** The JSON we answered, when we answered JSON. */
  answer?: Record<string, unknown>;
  receivedAt: number;
}

export interface FakeAuthHookOptions {
  users: readonly HookUser[];
  host?: string;
  port?: number;
  path?: string;
  /** Require HTTP Basic auth with these credentials (the webhooks row's username/password). */
  basicAuth?: { username: string; password: string };
  /** The account's webhook_secret: each request's Jambonz-Signature is checked against it. */
  webhookSecret?: string;
  /** Expires granted when a user has none (the reference server's 45). */
  defaultExpires?: number;
}

export interface FakeAuthHook {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every request received, oldest first. */
  readonly requests: RecordedHookRequest[];
  behave(behaviour: HookBehaviour): void;
  setUsers(users: readonly HookUser[]): void;
  stop(): Promise<void>;
}

/** Verifies `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (reference §2.4). */
export function verifyJambonzSignature(header: string | undefined, secret: string, body: string): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  return expected.length === parts.v1.length && timingSafeEqual(Buffer.from(expected), Buffer.from(parts.v1));
}

function checkBasic(header: string | undefined, creds: { username: string; password: string }): boolean {
  if (!header?.startsWith('Basic ')) return false;
  return Buffer.from(header.slice(6), 'base64').toString() === `${creds.username}:${creds.password}`;
}

/** The customer's decision, exactly as jambonz's reference customer-auth-server makes it. */
/** Users by realm and name (the first of duplicates wins), so a hook with 10,000 users stays cheap. */
interface UserIndex {
  realms: Set<string>;
  byName: Map<string, HookUser>;
}

function indexUsers(users: readonly HookUser[]): UserIndex {
  const byName = new Map<string, HookUser>();
  for (const user of users) {
    const key = `${user.realm}\n${user.username}`;
    if (!byName.has(key)) byName.set(key, user);
  }
  return { realms: new Set(users.map((u) => u.realm)), byName };
}

function decide(users: UserIndex, body: Record<string, unknown>, defaultExpires: number) {
  const str = (k: string): string | undefined => (typeof body[k] === 'string' ? body[k] : undefined);
  const realm = str('realm');
  const username = str('username');
  if (realm === undefined || !users.realms.has(realm)) return { status: 'fail', msg: 'unknown realm' };
  const user = users.byName.get(`${realm}\n${username}`);
  if (!user) return { status: 'fail', msg: 'unknown user' };
  const expected = digestResponse({
    username: user.username,
    realm: user.realm,
    password: user.password,
    method: str('method') ?? '',
    uri: str('uri') ?? '',
    nonce: str('nonce') ?? '',
    algorithm: str('algorithm'),
    qop: str('qop'),
    nc: str('nc'),
    cnonce: str('cnonce'),
  });
  if (expected !== str('response')) return { status: 'fail', msg: 'invalid password' };
  const requested = Number(body.expires);
  const limit = user.expires ?? defaultExpires;
  const answer: Record<string, unknown> = {
    status: 'ok',
    expires: Number.isFinite(requested) && body.expires !== null ? Math.min(requested, limit) : limit,
  };
  if (user.call_hook) answer.call_hook = user.call_hook;
  if (user.call_status_hook) answer.call_status_hook = user.call_status_hook;
  return answer;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A real HTTP server playing the customer's side of the auth-hook contract: it checks Basic auth
 * and the signature, verifies MD5 / SHA-256 digests for its users, records every request, and can
 * be told to be slow, to fail, or to answer garbage.
 */
export async function startFakeAuthHook(options: FakeAuthHookOptions): Promise<FakeAuthHook> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/auth';
  let users = indexUsers(options.users);
  let behaviour: HookBehaviour = { kind: 'normal' };
  const requests: RecordedHookRequest[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const rawBody = await readBody(req);
    let body: Record<string, unknown> = {};
    if (req.method === 'GET') body = Object.fromEntries(url.searchParams);
    else if (rawBody) {
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        body = {};
      }
    }
    const record: RecordedHookRequest = {
      method: req.method ?? '',
      path: url.pathname,
      headers: req.headers,
      body,
      rawBody,
      basicAuthOk: options.basicAuth ? checkBasic(req.headers.authorization, options.basicAuth) : undefined,
      signatureOk: options.webhookSecret
        ? verifyJambonzSignature(
            req.headers['jambonz-signature'] as string | undefined,
            options.webhookSecret,
            req.method === 'GET' ? 'null' : rawBody,
          )
        : undefined,
      receivedAt: Date.now(),
    };
    requests.push(record);

    const current = behaviour;
    if (current.kind === 'hang-up') {
      req.socket.destroy();
      return;
    }
    if (current.kind === 'slow') await sleep(current.delayMs);
    if (current.kind === 'http-error') {
      res.writeHead(current.status).end();
      return;
    }
    if (current.kind === 'garbage') {
      res.writeHead(200, { 'content-type': current.contentType ?? 'text/html' });
      res.end(current.body ?? '<html>502 upstream gone</html>');
      return;
    }
    if (url.pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    if (record.basicAuthOk === false) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="hook"' }).end();
      return;
    }
    const answer = decide(users, body, options.defaultExpires ?? 45);
    record.answer = answer;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}${path}`,
    host,
    port,
    requests,
    behave: (b) => {
      behaviour = b;
    },
    setUsers: (u) => {
      users = indexUsers(u);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
