import { performance } from 'node:perf_hooks';
import { AuthOptionError } from './errors.js';
import { parseAuthHookAnswer, type AuthGrant } from './hook-answer.js';
import {
  buildAuthHookPayload,
  jambonzSignature,
  toQueryString,
  type AuthHookRequestInput,
} from './hook-request.js';
import { exchange } from './hook-http.js';

/** A `webhooks` row (the account's registration_hook): where and how to call the customer. */
export interface AuthHookTarget {
  url: string;
  /** `GET` or `POST` (default), case-insensitive. */
  method?: string | null;
  /** HTTP Basic credentials; sent only when both are set (as jambonz does). */
  username?: string | null;
  password?: string | null;
}

export interface CallAuthHookOptions {
  /** The account's webhook_secret: signs the request with `Jambonz-Signature`. */
  webhookSecret?: string | null;
  /** Give up after this many ms (connect, answer and body included). Default 5000. */
  timeoutMs?: number;
  /** Sent as `User-Agent` (jambonz: JAMBONES_HTTP_USER_AGENT_HEADER). */
  userAgent?: string;
  /** Largest answer body read, in bytes; a longer one is garbage. Default 65536. */
  maxAnswerBytes?: number;
  /** Clock for the signature's `t` (ms since the epoch). Default Date.now. */
  now?: () => number;
}

interface Measured {
  /** Time from sending the request to the outcome, in ms. */
  latencyMs: number;
  /** The hook URL without any password in it (safe to log). */
  url: string;
}

/** Every way a hook call can end. Never thrown: each outcome is a value. */
export type AuthHookResult =
  | (Measured & { kind: 'ok'; grant: AuthGrant; answer: Readonly<Record<string, unknown>> })
  | (Measured & {
      kind: 'fail';
      msg?: string;
      blacklist: boolean;
      headers: Readonly<Record<string, string>>;
      answer: Readonly<Record<string, unknown>>;
    })
  /** No HTTP answer: connection refused, DNS failure, connection closed before an answer, bad URL. */
  | (Measured & { kind: 'unreachable'; error: string; message: string })
  /** No complete answer within timeoutMs. */
  | (Measured & { kind: 'slow'; timeoutMs: number })
  /** HTTP 200 whose body is not the documented JSON. */
  | (Measured & { kind: 'garbage'; problem: string; excerpt: string })
  /** An HTTP status other than 200. */
  | (Measured & { kind: 'http-error'; status: number });

export type AuthHookOutcome = AuthHookResult['kind'];

function errorCode(err: unknown): { error: string; message: string } {
  const own = err as { code?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const code =
    typeof own?.code === 'string'
      ? own.code
      : typeof own?.cause?.code === 'string'
        ? own.cause.code
        : err instanceof Error
          ? err.name
          : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  // undici's "the connection closed before the answer" is node's ECONNRESET (socket hang up).
  return { error: code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : code, message };
}

/**
 * Splits credentials embedded in the URL (`http://user:pass@host/…`) from
 * it; they stand in for the Basic credentials when the webhook row has none.
 */
function splitUrl(raw: string): { url: URL; userinfo?: { username: string; password: string } } {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url };
  const userinfo = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  url.username = '';
  url.password = '';
  return { url, userinfo };
}

function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw;
  }
}

/**
 * Calls the customer's auth hook with the jambonz contract (reference §2.4) and classifies the
 * outcome. POST sends the JSON body (with the SIP headers); GET sends the same data, without the
 * headers, as a query string. Resolves within timeoutMs (plus scheduling); whatever the hook does,
 * it never rejects (only unusable options throw AuthOptionError).
 */
export async function callAuthHook(
  target: AuthHookTarget,
  request: AuthHookRequestInput,
  options: CallAuthHookOptions = {},
): Promise<AuthHookResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxAnswerBytes = options.maxAnswerBytes ?? 65_536;
  if (!(timeoutMs > 0)) throw new AuthOptionError('timeoutMs', 'timeoutMs must be positive');
  if (!(maxAnswerBytes > 0)) throw new AuthOptionError('maxAnswerBytes', 'maxAnswerBytes must be positive');
  const now = options.now ?? Date.now;
  const method = (target.method ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
  const shownUrl = safeUrl(target.url);
  const started = performance.now();
  const measured = (): Measured => ({ latencyMs: performance.now() - started, url: shownUrl });

  let url: URL;
  let userinfo: { username: string; password: string } | undefined;
  try {
    ({ url, userinfo } = splitUrl(target.url));
  } catch (err) {
    return { kind: 'unreachable', error: 'ERR_INVALID_URL', message: errorCode(err).message, ...measured() };
  }

  const payload = buildAuthHookPayload(request, { includeHeaders: method === 'POST' });
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (method === 'POST') {
    body = JSON.stringify(payload);
    headers['content-type'] = 'application/json';
  } else {
    const query = toQueryString(payload);
    url.search = url.search ? `${url.search}&${query}` : `?${query}`;
  }
  const username = target.username || userinfo?.username;
  const password = target.password || userinfo?.password;
  if (username && password) {
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  if (options.webhookSecret) {
    headers['jambonz-signature'] = jambonzSignature(options.webhookSecret, body ?? 'null', now() / 1000);
  }
  if (options.userAgent) headers['user-agent'] = options.userAgent;

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      kind: 'unreachable',
      error: 'ERR_INVALID_URL',
      message: `unsupported protocol ${url.protocol}`,
      ...measured(),
    };
  }
  const result = await exchange({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method,
    headers,
    body,
    timeoutMs,
    maxBytes: maxAnswerBytes,
  });
  switch (result.kind) {
    case 'timeout':
      return { kind: 'slow', timeoutMs, ...measured() };
    case 'error':
      return { kind: 'unreachable', ...errorCode(result.err), ...measured() };
    case 'too-large':
      return {
        kind: 'garbage',
        problem: `the answer is larger than ${maxAnswerBytes} bytes`,
        excerpt: '',
        ...measured(),
      };
    case 'answer':
      break;
  }
  if (result.status !== 200) return { kind: 'http-error', status: result.status, ...measured() };
  const text = result.text;

  const answer = parseAuthHookAnswer(text);
  switch (answer.kind) {
    case 'ok':
      return { kind: 'ok', grant: answer.grant, answer: answer.answer, ...measured() };
    case 'fail':
      return { ...answer, ...measured() };
    case 'garbage':
      return { kind: 'garbage', problem: answer.problem, excerpt: text.slice(0, 200), ...measured() };
  }
}
