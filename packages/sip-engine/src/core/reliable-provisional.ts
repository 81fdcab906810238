/** Reliable provisional responses (RFC 3262) of the INVITEs the engine answers for apps. */
import type { SipHeadersContract, SipRequest, SipResponse } from '@sbc/sip';
import type { EngineContext, NetTxn } from './context.js';

/** The app asked for a reliable provisional: `Require: 100rel` on its 1xx (RFC 3262 §3). */
export function requires100rel(response: SipResponse): boolean {
  return response.headers.getAll('require').some((v) => v.trim().toLowerCase() === '100rel');
}

/** The INVITE allows one: `100rel` in its Supported or Require (RFC 3262 §3). */
export function supports100rel(request: { headers: SipHeadersContract }): boolean {
  return [...request.headers.getAll('supported'), ...request.headers.getAll('require')].some(
    (v) => v.trim().toLowerCase() === '100rel',
  );
}

/** The next RSeq of the transaction: a random start, then one up per reliable provisional (RFC 3262 §3). */
export function nextRseq(net: NetTxn): number {
  net.rseq = (net.rseq ?? Math.floor(Math.random() * 1_000_000) + 1) + 1;
  return net.rseq;
}

/** RFC 3262 §3: a reliable provisional is re-sent at T1, doubling, until its PRACK or 64·T1. */
export function retransmitReliable(
  ctx: EngineContext,
  net: NetTxn,
  rseq: number,
  response: SipResponse,
  connectionId?: string,
): void {
  if (net.st.request.source.protocol !== 'udp') return;
  const { T1 } = ctx.timers;
  let interval = T1;
  let elapsed = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (timer) clearTimeout(timer);
    net.reliable?.delete(rseq);
  };
  (net.reliable ??= new Map()).set(rseq, stop);
  const tick = (): void => {
    elapsed += interval;
    if (elapsed >= 64 * T1 || net.finalSent) {
      stop();
      return;
    }
    ctx.metrics.retransmissions.inc({ kind: 'response', method: 'INVITE' });
    ctx.transport.sendResponse(response, connectionId).catch(() => undefined);
    interval *= 2;
    timer = setTimeout(tick, interval);
    timer.unref();
  };
  timer = setTimeout(tick, interval);
  timer.unref();
}

/** A PRACK acknowledges the reliable provisional named by its RAck (RFC 3262 §7.2). */
export function stopReliableProvisional(ctx: EngineContext, prack: SipRequest): void {
  const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(prack.headers.get('rack') ?? '');
  if (!rack) return;
  const rseq = Number(rack[1]);
  const callId = prack.headers.get('call-id');
  for (const net of ctx.netTxns.values()) {
    const stop = net.reliable?.get(rseq);
    if (stop && net.st.request.message.headers.get('call-id') === callId) {
      stop();
      net.reliable?.delete(rseq);
      return;
    }
  }
}
