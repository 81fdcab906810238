import type { AppConnection } from '../control/app-connection.js';
import { stackTime } from '../control/wire.js';
import type { Dialog } from '../dialog/dialog.js';
import { tryParseCSeq, tagOf, tryParseNameAddr, responseTo, type SipResponse } from '@sbc/sip';
import { dropServerOwnedHeaders, ensureContentType, rewriteLocalhost } from './app-message.js';
import {
  advertisedHostport,
  clearPendingTimer,
  contactFor,
  echoFields,
  type EngineContext,
  type NetTxn,
} from './context.js';
import { setToTag } from './network-requests.js';
import type { AppRequests } from './app-requests.js';

const UNKNOWN_TRANSACTION = 'Response not sent due to unknown transaction';
/** Headers the server takes from the request, whatever the app wrote (RFC 3261 §8.2.6.2). */
const FROM_REQUEST = ['from', 'to', 'call-id', 'cseq', 'contact'];

/** The app answers a request it was given (spec §3.4a). */
export class AppResponses {
  constructor(
    private readonly ctx: EngineContext,
    private readonly requests: AppRequests,
  ) {}

  async respond(conn: AppConnection, msgId: string, txnId: string, appResponse: SipResponse): Promise<void> {
    const net = this.ctx.netTxns.get(txnId);
    if (!net || net.finalSent || net.canceled || net.st.state === 'terminated') {
      conn.reply(msgId, ['NOK', UNKNOWN_TRANSACTION]);
      return;
    }
    clearPendingTimer(net);
    const request = net.st.request.message;
    const status = appResponse.status;
    const response = responseTo(request, status, appResponse.reason);

    // An app-chosen tag on the first response of a dialog-creating request becomes ours (spec §7.3).
    const appTag = tagOf(appResponse.headers.get('to') ?? '');
    if (appTag && !net.provisionalSent && !tagOf(request.headers.get('to') ?? '')) net.localTag = appTag;
    if (status > 100) setToTag(response, net.localTag);

    const invite = request.method === 'INVITE' || request.method === 'SUBSCRIBE';
    if (invite && status > 100 && status < 300) {
      for (const rr of request.headers.getAll('record-route')) response.headers.append('Record-Route', rr);
    }
    const endpoint = net.st.request.local;
    const appContact = appResponse.headers.get('contact');
    if (appContact) response.headers.set('Contact', appContact);
    const reliable =
      status > 100 && status < 200 && request.method === 'INVITE' && requires100rel(appResponse);
    if (!appContact && invite && ((status >= 200 && status < 300) || reliable)) {
      response.headers.set('Contact', contactFor(endpoint));
    }
    dropServerOwnedHeaders(appResponse.headers);
    for (const field of appResponse.headers.fields()) {
      if (!FROM_REQUEST.includes(field.name.toLowerCase())) response.headers.append(field.name, field.value);
    }
    rewriteLocalhost(response.headers, advertisedHostport(endpoint));
    response.body = appResponse.body;
    ensureContentType(response);

    if (reliable) {
      if (!supports100rel(request)) {
        conn.reply(msgId, ['NOK', 'Remote endpoint does not support 100rel']);
        return;
      }
      net.rseq = (net.rseq ?? Math.floor(Math.random() * 1_000_000) + 1) + 1;
      response.headers.set('RSeq', String(net.rseq));
    }

    let sent;
    try {
      sent = await net.st.respond(response);
    } catch {
      conn.reply(msgId, ['NOK', UNKNOWN_TRANSACTION]);
      return;
    }
    if (status > 100 && status < 200) net.provisionalSent = true;
    if (status >= 200) net.finalSent = true;
    const dialogId = invite || net.dialogId ? net.dialogId : '';
    conn.reply(
      msgId,
      [...echoFields(sent.raw, sent.destination), stackTime(), txnId, dialogId, '', 'Msg sent:', ''],
      sent.raw.toString('utf8'),
    );
    if (reliable && net.rseq !== undefined)
      this.retransmitReliable(net, net.rseq, response, sent.connectionId);
    if (request.method === 'INVITE') this.afterInviteResponse(net, response, sent.connectionId);
    else if (status >= 200) this.ctx.netTxns.delete(net.id);
  }

  /** UAS dialog bookkeeping for an INVITE (initial or re-INVITE) after a response went out. */
  private afterInviteResponse(net: NetTxn, response: SipResponse, connectionId: string | undefined): void {
    const status = response.status;
    const request = net.st.request.message;
    const reInvite = Boolean(tagOf(request.headers.get('to') ?? ''));
    if (!reInvite && status > 100 && status < 300)
      this.ensureUasDialog(net, status >= 200 ? 'confirmed' : 'early');
    if (status >= 300) {
      const early = reInvite ? undefined : this.ctx.dialogs.get(net.dialogId);
      if (early?.state === 'early') this.ctx.dialogs.remove(early);
      this.ctx.netTxns.delete(net.id);
      return;
    }
    if (status < 200) return;
    const dialog = this.ctx.dialogs.get(net.dialogId);
    if (!dialog) {
      this.ctx.netTxns.delete(net.id);
      return;
    }
    dialog.awaitingAck = net.id;
    net.stopRetransmit = this.retransmit2xx(net, dialog, response, connectionId);
  }

  private ensureUasDialog(net: NetTxn, state: 'early' | 'confirmed'): void {
    const existing = this.ctx.dialogs.get(net.dialogId);
    if (existing) {
      existing.state = state;
      existing.owner = net.conn;
      return;
    }
    const inbound = net.st.request;
    const headers = inbound.message.headers;
    const from = tryParseNameAddr(headers.get('from') ?? '');
    const to = tryParseNameAddr(headers.get('to') ?? '');
    const contact = tryParseNameAddr(headers.get('contact') ?? '');
    const cseq = tryParseCSeq(headers.get('cseq') ?? '');
    const dialog: Dialog = {
      id: net.dialogId,
      role: 'uas',
      callId: headers.get('call-id') ?? '',
      localTag: net.localTag,
      remoteTag: from?.params.get('tag') ?? '',
      localUri: stripTag(headers.get('to') ?? ''),
      remoteUri: stripTag(headers.get('from') ?? ''),
      remoteTarget: contact?.uri ?? from?.uri ?? '',
      routeSet: headers.getAll('record-route'),
      localCseq: Math.floor(Math.random() * 10_000) + 1,
      remoteCseq: cseq?.seq ?? 0,
      localContact: contactFor(inbound.local),
      inviteCseq: cseq?.seq ?? 0,
      state,
      owner: net.conn,
      peer: inbound.source,
      local: inbound.local,
    };
    void to;
    this.ctx.dialogs.add(dialog);
  }

  /**
   * RFC 3261 §13.3.1.4: over UDP the 2xx is re-sent at T1, doubling to T2, until the ACK; after 64·T1
   * without it the dialog is ended with a BYE and the app is told (spec §6, §9.6).
   */
  private retransmit2xx(
    net: NetTxn,
    dialog: Dialog,
    response: SipResponse,
    connectionId?: string,
  ): () => void {
    const { T1, T2 } = this.ctx.timers;
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => clearTimeout(timer);
    const giveUp = (): void => this.ackTimeout(net, dialog);
    if (net.st.request.source.protocol !== 'udp') {
      timer = setTimeout(giveUp, 64 * T1).unref();
      return stop;
    }
    let interval = T1;
    let elapsed = 0;
    const tick = (): void => {
      elapsed += interval;
      if (elapsed >= 64 * T1) {
        giveUp();
        return;
      }
      this.ctx.metrics.retransmissions.inc({ kind: 'response', method: 'INVITE' });
      this.ctx.transport.sendResponse(response, connectionId).catch(() => undefined);
      interval = Math.min(interval * 2, T2);
      timer = setTimeout(tick, interval).unref();
    };
    timer = setTimeout(tick, interval).unref();
    return stop;
  }

  private ackTimeout(net: NetTxn, dialog: Dialog): void {
    this.ctx.netTxns.delete(net.id);
    dialog.awaitingAck = undefined;
    this.ctx.logger.warn({ dialogId: dialog.id }, 'no ACK for the 2xx: ending the dialog');
    this.requests.serverGeneratedBye(dialog, 'ACK timeout');
  }

  /** RFC 3262 §3: a reliable provisional is re-sent at T1, doubling, until its PRACK or 64·T1. */
  private retransmitReliable(net: NetTxn, rseq: number, response: SipResponse, connectionId?: string): void {
    if (net.st.request.source.protocol !== 'udp') return;
    const { T1 } = this.ctx.timers;
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
      this.ctx.metrics.retransmissions.inc({ kind: 'response', method: 'INVITE' });
      this.ctx.transport.sendResponse(response, connectionId).catch(() => undefined);
      interval *= 2;
      timer = setTimeout(tick, interval);
      timer.unref();
    };
    timer = setTimeout(tick, interval);
    timer.unref();
  }
}

function requires100rel(response: SipResponse): boolean {
  return response.headers.getAll('require').some((v) => v.trim().toLowerCase() === '100rel');
}

function supports100rel(request: { headers: SipResponse['headers'] }): boolean {
  return [...request.headers.getAll('supported'), ...request.headers.getAll('require')].some(
    (v) => v.trim().toLowerCase() === '100rel',
  );
}

/** A From/To value without its tag parameter. */
export function stripTag(value: string): string {
  return value.replace(/;\s*tag=[^;>]*/i, '');
}
