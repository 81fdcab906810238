import { randomUUID } from 'node:crypto';
import type { AppConnection } from '../control/app-connection.js';
import { dialogIdOf } from '../dialog/dialog.js';
import {
  tryParseCSeq,
  tagOf,
  tryParseNameAddr,
  responseTo,
  serializeMessage,
  newTag,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import type { ServerTransaction } from '../transaction/types.js';
import type { Inbound } from '../transport/types.js';
import {
  clearPendingTimer,
  isDialogCreating,
  networkNotice,
  type EngineContext,
  type NetTxn,
} from './context.js';

const DEFAULT_PENDING_TIMEOUT_MS = 64_000;

/** Requests that arrive from the network, on their way to an app (spec §4.2, §6). */
export class NetworkRequests {
  /** The NetTxn of each server transaction, to find the INVITE a CANCEL refers to. */
  private readonly byTransaction = new WeakMap<ServerTransaction, NetTxn>();

  constructor(private readonly ctx: EngineContext) {}

  onRequest(st: ServerTransaction): void {
    const request = st.request.message;
    const toTag = tagOf(request.headers.get('to') ?? '');
    if (request.method === 'INVITE') void this.reply(st, 100);
    if (toTag) {
      this.inDialog(st, toTag);
      return;
    }
    if (this.ctx.config.outboundHandler) {
      void this.dispatchOutbound(st, this.ctx.config.outboundHandler);
      return;
    }
    const conn = this.ctx.control.apps.select(request.method);
    if (!conn) {
      this.noApp(st);
      return;
    }
    this.deliverNew(st, conn);
  }

  /** An ACK for a 2xx (RFC 3261 §13.2.2.4): ends the 2xx retransmission and goes to the dialog's app. */
  onAck(ack: Inbound<SipRequest>): void {
    const headers = ack.message.headers;
    const callId = headers.get('call-id') ?? '';
    const dialog = this.ctx.dialogs.match(
      callId,
      tagOf(headers.get('to') ?? '') ?? '',
      tagOf(headers.get('from') ?? ''),
    );
    if (!dialog) {
      this.ctx.logger.debug({ callId }, 'stray ACK discarded');
      return;
    }
    let txnId: string = randomUUID();
    if (dialog.awaitingAck) {
      const net = this.ctx.netTxns.get(dialog.awaitingAck);
      net?.stopRetransmit?.();
      this.ctx.netTxns.delete(dialog.awaitingAck);
      txnId = dialog.awaitingAck;
      dialog.awaitingAck = undefined;
    }
    dialog.peer = ack.source;
    if (dialog.owner?.isOpen) {
      dialog.owner.notify(
        networkNotice(ack, txnId, dialog.id, false),
        serializeMessage(ack.message).toString('utf8'),
      );
    }
  }

  /** RFC 3261 §9.2: 200 to the CANCEL, 487 to the INVITE, then the app is told (spec §4.2). */
  onCancel(cancel: ServerTransaction, invite: ServerTransaction | undefined): void {
    const net = invite ? this.byTransaction.get(invite) : undefined;
    if (!invite || !net) {
      void this.reply(cancel, 481);
      return;
    }
    void this.reply(cancel, 200);
    if (net.finalSent) return;
    net.finalSent = true;
    net.canceled = true;
    clearPendingTimer(net);
    const terminated = responseTo(invite.request.message, 487);
    setToTag(terminated, net.localTag);
    invite.respond(terminated).catch(() => undefined);
    this.ctx.netTxns.delete(net.id);
    const early = this.ctx.dialogs.get(net.dialogId);
    if (early && early.state === 'early') this.ctx.dialogs.remove(early);
    if (net.conn?.isOpen) {
      const dialogId = net.provisionalSent ? net.dialogId : '';
      net.conn.notify(
        networkNotice(cancel.request, net.id, dialogId, false),
        serializeMessage(cancel.request.message).toString('utf8'),
      );
    }
  }

  /** The app has gone: what it still had to answer gets 480 rather than waiting 64 s. */
  appGone(conn: AppConnection): void {
    for (const net of this.ctx.netTxns.values()) {
      if (net.conn !== conn || net.finalSent) continue;
      net.finalSent = true;
      clearPendingTimer(net);
      const response = responseTo(net.st.request.message, 480);
      setToTag(response, net.localTag);
      net.st.respond(response).catch(() => undefined);
      this.ctx.netTxns.delete(net.id);
    }
  }

  private deliverNew(st: ServerTransaction, conn: AppConnection): void {
    const request = st.request.message;
    const dialogId = isDialogCreating(request)
      ? dialogIdOf(request.headers.get('call-id') ?? '', tagOf(request.headers.get('from') ?? '') ?? '')
      : '';
    const net = this.track(st, conn, newTag(), dialogId);
    net.pendingTimer = setTimeout(
      () => this.dropPending(net),
      this.ctx.config.pendingRequestTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS,
    );
    net.pendingTimer.unref();
    conn.notify(networkNotice(st.request, net.id, '', true), serializeMessage(request).toString('utf8'));
  }

  private track(st: ServerTransaction, conn: AppConnection, localTag: string, dialogId: string): NetTxn {
    const net: NetTxn = {
      id: randomUUID(),
      st,
      conn,
      localTag,
      dialogId,
      provisionalSent: false,
      finalSent: false,
      canceled: false,
    };
    this.ctx.netTxns.set(net.id, net);
    if (st.method === 'INVITE') this.byTransaction.set(st, net); // only CANCEL looks this up
    st.onTerminated(() => {
      clearPendingTimer(net);
      // An INVITE answered 2xx stays until its ACK (or the ACK timeout) clears it.
      if (!net.stopRetransmit) this.ctx.netTxns.delete(net.id);
    });
    return net;
  }

  /** In-dialog request (RFC 3261 §12.2.2): to the owning app, or 481. */
  private inDialog(st: ServerTransaction, toTag: string): void {
    const request = st.request.message;
    const callId = request.headers.get('call-id') ?? '';
    const dialog = this.ctx.dialogs.match(callId, toTag, tagOf(request.headers.get('from') ?? ''));
    if (!dialog) {
      void this.reply(st, 481);
      return;
    }
    if (!dialog.owner?.isOpen) {
      void this.reply(st, 481);
      if (request.method === 'BYE') this.ctx.dialogs.remove(dialog);
      return;
    }
    const cseq = tryParseCSeq(request.headers.get('cseq') ?? '');
    if (cseq && request.method !== 'ACK' && request.method !== 'CANCEL') {
      if (dialog.remoteCseq && cseq.seq < dialog.remoteCseq && request.method !== 'PRACK') {
        void this.reply(st, 500, 'CSeq out of order');
        return;
      }
      dialog.remoteCseq = Math.max(dialog.remoteCseq, cseq.seq);
    }
    if (request.method === 'PRACK') this.stopReliableProvisional(request);
    if (request.method === 'INVITE' || request.method === 'UPDATE') {
      const contact = request.headers.get('contact');
      const target = contact ? tryParseNameAddr(contact)?.uri : undefined;
      if (target) dialog.remoteTarget = target;
    }
    dialog.peer = st.request.source;
    const net = this.track(st, dialog.owner, dialog.localTag, dialog.id);
    if (request.method === 'BYE') this.ctx.dialogs.remove(dialog);
    dialog.owner.notify(
      networkNotice(st.request, net.id, dialog.id, false),
      serializeMessage(request).toString('utf8'),
    );
  }

  /** A PRACK acknowledges the reliable provisional named by its RAck (RFC 3262 §7.2). */
  private stopReliableProvisional(prack: SipRequest): void {
    const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(prack.headers.get('rack') ?? '');
    if (!rack) return;
    const rseq = Number(rack[1]);
    const callId = prack.headers.get('call-id');
    for (const net of this.ctx.netTxns.values()) {
      const stop = net.reliable?.get(rseq);
      if (stop && net.st.request.message.headers.get('call-id') === callId) {
        stop();
        net.reliable?.delete(rseq);
        return;
      }
    }
  }

  private noApp(st: ServerTransaction): void {
    const request = st.request.message;
    const ua = this.ctx.config.optionsAutoRespondUserAgent;
    const status = request.method === 'OPTIONS' && ua && request.headers.get('user-agent') === ua ? 200 : 503;
    this.ctx.metrics.rejectedNoApp.inc({ method: request.method, status: String(status) });
    void this.reply(st, status);
  }

  private dropPending(net: NetTxn): void {
    if (net.finalSent) return;
    this.ctx.logger.warn(
      { txnId: net.id, method: net.st.method },
      'app did not answer within the pending-request timeout',
    );
    net.finalSent = true;
    this.ctx.netTxns.delete(net.id);
    const response = responseTo(net.st.request.message, 500, 'Application Did Not Respond');
    setToTag(response, net.localTag);
    net.st.respond(response).catch(() => undefined);
  }

  /** Outbound mode (spec §2.4): dial the app that listens, one connection per new request. */
  private async dispatchOutbound(st: ServerTransaction, handler: string): Promise<void> {
    const match = /^(tcp|tls):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(handler);
    const conn = match
      ? await this.ctx.control.dial(match[2]!, Number(match[3]), match[1] === 'tls')
      : undefined;
    if (!conn) {
      this.ctx.logger.warn({ handler }, 'could not reach the outbound request handler');
      void this.reply(st, 480);
      return;
    }
    this.deliverNew(st, conn);
  }

  private async reply(st: ServerTransaction, status: number, reason?: string): Promise<void> {
    const response = responseTo(st.request.message, status, reason);
    if (status > 100 && !tagOf(response.headers.get('to') ?? '')) setToTag(response, newTag());
    await st
      .respond(response)
      .catch((err: Error) => this.ctx.logger.debug({ err, status }, 'could not send a response'));
  }
}

/** Adds `;tag=` to the To header of a response unless it has one (RFC 3261 §8.2.6.2). */
export function setToTag(response: SipResponse, tag: string): void {
  const to = response.headers.get('to') ?? '';
  if (!tagOf(to)) response.headers.set('To', `${to};tag=${tag}`);
}
