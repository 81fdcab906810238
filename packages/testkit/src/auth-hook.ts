import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestResponseWithSecret, hashNameOf, userSecretHash } from './digest.js';

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
  | { kind: 'hang-up' }
  /** Refuses every request: `{"status":"fail","msg":"denied","blacklist":…}` (a customer asking for a ban). */
  | { kind: 'deny'; blacklist: boolean };

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
  /** How many of the newest requests `requests` keeps (default 1000; Infinity keeps all). */
  maxRecorded?: number;
}

export interface FakeAuthHook {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The requests received, oldest first: the newest `maxRecorded` (default 1000). May be emptied. */
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

/** Base for parsing request targets; only their path and query are used. */
const URL_BASE = 'http://hook.invalid';
const DEFAULT_MAX_RECORDED = 1000;

function checkBasic(header: string | undefined, creds: { username: string; password: string }): boolean {
  if (!header?.startsWith('Basic ')) return false;
  return Buffer.from(header.slice(6), 'base64').toString() === `${creds.username}:${creds.password}`;
}

/** A user and the cached H(username:realm:password) per hash, redone if the password changes. */
interface UserEntry {
  user: HookUser;
  secrets: { password: string; md5?: string; sha256?: string };
}

/** Users by realm, then by name (the first of duplicates wins), so a hook with 10,000 users stays cheap. */
type UserIndex = Map<string, Map<string, UserEntry>>;

function indexUsers(users: readonly HookUser[]): UserIndex {
  const index: UserIndex = new Map();
  for (const user of users) {
    let byName = index.get(user.realm);
    if (!byName) index.set(user.realm, (byName = new Map<string, UserEntry>()));
    if (!byName.has(user.username)) byName.set(user.username, { user, secrets: { password: user.password } });
  }
  return index;
}

function secretOf(entry: UserEntry, hashName: 'md5' | 'sha256'): string {
  if (entry.secrets.password !== entry.user.password) entry.secrets = { password: entry.user.password };
  return (entry.secrets[hashName] ??= userSecretHash(entry.user, hashName));
}

/** The customer's decision, exactly as jambonz's reference customer-auth-server makes it. */
function decide(users: UserIndex, body: Record<string, unknown>, defaultExpires: number) {
  const str = (k: string): string | undefined => (typeof body[k] === 'string' ? body[k] : undefined);
  const realm = str('realm');
  const username = str('username');
  const byName = realm === undefined ? undefined : users.get(realm);
  if (!byName) return { status: 'fail', msg: 'unknown realm' };
  const entry = username === undefined ? undefined : byName.get(username);
  if (!entry) return { status: 'fail', msg: 'unknown user' };
  const { user } = entry;
  const algorithm = str('algorithm');
  const expected = digestResponseWithSecret(
    {
      username: user.username,
      realm: user.realm,
      method: str('method') ?? '',
      uri: str('uri') ?? '',
      nonce: str('nonce') ?? '',
      algorithm,
      qop: str('qop'),
      nc: str('nc'),
      cnonce: str('cnonce'),
    },
    secretOf(entry, hashNameOf(algorithm ?? 'MD5')),
  );
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(method: string | undefined, rawUrl: string, rawBody: string): Record<string, unknown> {
  if (method === 'GET') return Object.fromEntries(new URL(rawUrl, URL_BASE).searchParams);
  if (!rawBody) return {};
  try {
    return JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Keeps the newest `max` records: one cheap array, bounded so a long benchmark does not grow the heap. */
function keep(requests: RecordedHookRequest[], record: RecordedHookRequest, max: number): void {
  requests.push(record);
  // shift() is O(1) in V8 (it moves the array's start); splice(0, n) copies the whole array.
  while (requests.length > max) requests.shift();
}

/**
 * A real HTTP server playing the customer's side of the auth-hook contract: it checks Basic auth
 * and the signature, verifies MD5 / SHA-256 digests for its users, records the newest requests, and
 * can be told to be slow, to fail, or to answer garbage. Lean per request (it shares the CPU with what
 * benchmarks measure): users in Maps, each user's H(username:realm:password) cached.
 */
export async function startFakeAuthHook(options: FakeAuthHookOptions): Promise<FakeAuthHook> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/auth';
  let users = indexUsers(options.users);
  let behaviour: HookBehaviour = { kind: 'normal' };
  const requests: RecordedHookRequest[] = [];

  const maxRecorded = options.maxRecorded ?? DEFAULT_MAX_RECORDED;
  const pathIsCanonical = new URL(path, URL_BASE).pathname === path;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawUrl = req.url ?? '/';
    // The registrar posts to exactly `path`: skip URL parsing then.
    const pathname = pathIsCanonical && rawUrl === path ? path : new URL(rawUrl, URL_BASE).pathname;
    const rawBody = await readBody(req);
    const body = parseBody(req.method, rawUrl, rawBody);
    const record: RecordedHookRequest = {
      method: req.method ?? '',
      path: pathname,
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
    keep(requests, record, maxRecorded);

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
    if (pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    if (record.basicAuthOk === false) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="hook"' }).end();
      return;
    }
    const answer =
      current.kind === 'deny'
        ? { status: 'fail', msg: 'denied', blacklist: current.blacklist }
        : decide(users, body, options.defaultExpires ?? 45);
    record.answer = answer;
    const text = JSON.stringify(answer);
    // With a Content-Length the answer goes out in one write instead of chunked pieces.
    res
      .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      .end(text);
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
