import type { RequestOptions, Srf, SrfResponse } from './types.js';

/** How a request sent with `sendRequest` ended. */
export type RequestOutcome =
  /** A final response (a 401/407 that srf answered with `auth` is not final: its retry's answer is). */
  | { kind: 'response'; res: SrfResponse }
  /** No final response within `timeoutMs`. */
  | { kind: 'timeout' }
  /** srf could not send it (engine gone, bad URI, …). */
  | { kind: 'error'; message: string }
  /** `signal` aborted before a final response. */
  | { kind: 'aborted' };

const messageOf = (err: unknown): string =>
  err instanceof Error ? err.message : typeof err === 'string' ? err : 'not sent';

/**
 * Sends an out-of-dialog request through srf and resolves with its final response, or a timeout,
 * send error or abort; never rejects. It uses srf's callback form on purpose: srf calls it with the
 * sent request before emitting a response read in the same chunk (loopback engines send both
 * together), so the `response` listener is on in time; with the promise form the response can come
 * before `await` resumes and be lost.
 */
export function sendRequest(
  srf: Srf,
  uri: string,
  options: RequestOptions,
  limits: { timeoutMs: number; signal?: AbortSignal },
): Promise<RequestOutcome> {
  return new Promise<RequestOutcome>((resolve) => {
    const { signal } = limits;
    let settled = false;
    const settle = (outcome: RequestOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => settle({ kind: 'aborted' });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), limits.timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      srf.request(uri, options, (err, req) => {
        if (err || !req) return settle({ kind: 'error', message: messageOf(err) });
        req.on('response', (res) => {
          if (res.status >= 200) settle({ kind: 'response', res });
        });
      });
    } catch (err) {
      settle({ kind: 'error', message: messageOf(err) });
    }
  });
}
