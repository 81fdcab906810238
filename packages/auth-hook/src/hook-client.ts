import { performance } from 'node:perf_hooks';
import { AuthOptionError } from './errors.js';
import { parseAuthHookAnswer, type AuthGrant } from './hook-answer.js';
import {
  buildAuthHookPayload,
  jambonzSignature,
  toQueryString,
  type AuthHookRequestInput,
} from './hook-request.js';

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

class AnswerTooLarge extends Error {}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new AnswerTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorCode(err: unknown): { error: string; message: string } {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.name : 'Error';
  const message =
    typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return { error: code, message };
}

/**
 * Splits credentials embedded in the URL (`http://user:pass@host/…`, which fetch refuses) from
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

  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
  } catch (err) {
    if (signal.aborted) return { kind: 'slow', timeoutMs, ...measured() };
    return { kind: 'unreachable', ...errorCode(err), ...measured() };
  }

  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    return { kind: 'http-error', status: response.status, ...measured() };
  }

  let text: string;
  try {
    text = await readLimited(response, maxAnswerBytes);
  } catch (err) {
    if (err instanceof AnswerTooLarge) {
      return {
        kind: 'garbage',
        problem: `the answer is larger than ${maxAnswerBytes} bytes`,
        excerpt: '',
        ...measured(),
      };
    }
    if (signal.aborted) return { kind: 'slow', timeoutMs, ...measured() };
    return { kind: 'unreachable', ...errorCode(err), ...measured() };
  }

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
