/**
 * The engine as user agent server for its apps: a request from the network goes to the app routed for
 * its method (or to the owner of its dialog), and the app's answers go back out through the server
 * transaction. UAS dialogs are created here from the INVITE and our response (RFC 3261 §12.1.1).
 */
import { randomUUID } from 'node:crypto';
import {
  newTag,
  responseTo,
  serializeMessage,
  setToTag,
  tagOf,
  tryParseCSeq,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import type { AppConnection } from '../control/app-connection.js';
import { stackTime } from '../control/wire.js';
import { Dialog, dialogIdOf } from '../dialog/dialog.js';
import type { ServerTransaction } from '../transaction/types.js';
import type { Inbound } from '../transport/types.js';
import { dropServerOwnedHeaders, ensureContentType, rewriteLocalhost } from './app-message.js';
import {
  advertisedHostport,
  clearPendingTimer,
  contactFor,
  echoFields,
  isDialogCreating,
  networkNotice,
  type EngineContext,
  type NetTxn,
} from './context.js';
import {
  nextRseq,
  requires100rel,
  retransmitReliable,
  stopReliableProvisional,
  supports100rel,
} from './reliable-provisional.js';
import type { StatefulProxy } from './proxy.js';

const DEFAULT_PENDING_TIMEOUT_MS = 64_000;
const UNKNOWN_TRANSACTION = 'Response not sent due to unknown transaction';
/** Headers the server takes from the request, whatever the app wrote (RFC 3261 §8.2.6.2). */
const FROM_REQUEST = ['from', 'to', 'call-id', 'cseq', 'contact'];

export interface UasDependencies {
  /** Ends a dialog the engine gives up on (no ACK for its 2xx) with a BYE, telling its app. */
  endDialog(dialog: Dialog, reasonText: string): void;
  /** The dialogs the engine proxied with Record-Route: their requests come back with our Route on top. */
  proxy: Pick<StatefulProxy, 'routesThroughUs' | 'relay' | 'relayAck'>;
}

export class UserAgentServer {
  /** The NetTxn of each INVITE server transaction, to find the INVITE a CANCEL refers to. */
  private readonly byTransaction = new WeakMap<ServerTransaction, NetTxn>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly deps: UasDependencies,
  ) {}

  /** A new request from the network (RFC 3261 §8.2): to its dialog's app, the routed app, or 503. */
  onRequest(st: ServerTransaction): void {
    const request = st.request.message;
    const toTag = tagOf(request.headers.get('to') ?? '');
    if (request.method === 'INVITE') void this.reply(st, 100);
    if (toTag && this.deps.proxy.routesThroughUs(request)) {
      void this.deps.proxy.relay(st);
      return;
    }
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
    if (this.deps.proxy.routesThroughUs(ack.message)) {
      void this.deps.proxy.relayAck(ack);
      return;
    }
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
    const inviteTxnId = dialog.ackReceived();
    dialog.peer = ack.source;
    if (dialog.owner?.isOpen) {
      dialog.owner.notify(
        networkNotice(ack, inviteTxnId ?? randomUUID(), dialog.id, false),
        serializeMessage(ack.message).toString('utf8'),
      );
    }
  }

  /** RFC 3261 §9.2: 200 to the CANCEL, 487 to the INVITE, then the app is told. */
  onCancel(cancel: ServerTransaction, invite: ServerTransaction | undefined): void {
    const net = invite ? this.byTransaction.get(invite) : undefined;
    if (!invite || !net) {
      void this.reply(cancel, 481);
      return;
    }
    void this.reply(cancel, 200);
    if (net.proxy) {
      // RFC 3261 §16.10: the proxy cancels its branches; their 487 is the caller's answer
      net.proxy.cancel();
      return;
    }
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

  /** The app answers a request it was given (drachtio protocol: `sip` command with a txnId). */
  async respond(conn: AppConnection, msgId: string, txnId: string, appResponse: SipResponse): Promise<void> {
    const invite = this.ctx.netTxns.get(txnId);
    // An UPDATE in an early dialog was handed over with the INVITE's txnId: the answer whose CSeq says UPDATE is its.
    const earlyUpdate =
      invite?.earlyUpdate && tryParseCSeq(appResponse.headers.get('cseq') ?? '')?.method === 'UPDATE'
        ? invite.earlyUpdate
        : undefined;
    const net = earlyUpdate ?? invite;
    const state = net?.st.state;
    if (!net || net.finalSent || net.canceled || (state !== 'trying' && state !== 'proceeding')) {
      conn.reply(msgId, ['NOK', UNKNOWN_TRANSACTION]);
      return;
    }
    clearPendingTimer(net);
    const request = net.st.request.message;
    const status = appResponse.status;
    const response = responseTo(request, status, appResponse.reason);

    // An app-chosen tag on the first response of a dialog-creating request becomes ours.
    const appTag = tagOf(appResponse.headers.get('to') ?? '');
    if (appTag && !net.provisionalSent && !tagOf(request.headers.get('to') ?? '')) net.localTag = appTag;
    if (status > 100) setToTag(response, net.localTag);

    const creating = isDialogCreating(request);
    if (creating && status > 100 && status < 300) {
      for (const rr of request.headers.getAll('record-route')) response.headers.append('Record-Route', rr);
    }
    const endpoint = net.st.request.local;
    const appContact = appResponse.headers.get('contact');
    if (appContact) response.headers.set('Contact', appContact);
    const reliable =
      status > 100 && status < 200 && request.method === 'INVITE' && requires100rel(appResponse);
    if (!appContact && creating && ((status >= 200 && status < 300) || reliable)) {
      response.headers.set('Contact', contactFor(endpoint));
    }
    dropServerOwnedHeaders(appResponse.headers);
    for (const field of appResponse.headers.fields()) {
      if (!FROM_REQUEST.includes(field.name.toLowerCase())) response.headers.append(field.name, field.value);
    }
    rewriteLocalhost(response.headers, advertisedHostport(endpoint));
    response.body = appResponse.body;
    ensureContentType(response);

    let rseq: number | undefined;
    if (reliable) {
      if (!supports100rel(request)) {
        conn.reply(msgId, ['NOK', 'Remote endpoint does not support 100rel']);
        return;
      }
      rseq = nextRseq(net);
      response.headers.set('RSeq', String(rseq));
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
    const dialogId = creating || net.dialogId ? net.dialogId : '';
    conn.reply(
      msgId,
      [...echoFields(sent.raw, sent.destination), stackTime(), txnId, dialogId, '', 'Msg sent:', ''],
      sent.raw.toString('utf8'),
    );
    if (rseq !== undefined) retransmitReliable(this.ctx, net, rseq, response, sent.connectionId);
    if (request.method === 'INVITE') this.afterInviteResponse(net, response, sent.connectionId);
    else if (status >= 200) this.ctx.netTxns.delete(net.id);
    if (earlyUpdate && status >= 200 && invite?.earlyUpdate === earlyUpdate) invite.earlyUpdate = undefined;
  }

  /** UAS dialog bookkeeping for an INVITE (initial or re-INVITE) after a response went out. */
  private afterInviteResponse(net: NetTxn, response: SipResponse, connectionId: string | undefined): void {
    const status = response.status;
    const request = net.st.request.message;
    const reInvite = Boolean(tagOf(request.headers.get('to') ?? ''));
    if (!reInvite && status > 100 && status < 300) this.ensureDialog(net, status >= 200);
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
    net.awaitingAck = true;
    const { T1, T2 } = this.ctx.timers;
    dialog.awaitAck({
      txnId: net.id,
      unreliable: net.st.request.source.protocol === 'udp',
      T1,
      T2,
      resend: () => {
        this.ctx.metrics.retransmissions.inc({ kind: 'response', method: 'INVITE' });
        this.ctx.transport.sendResponse(response, connectionId).catch(() => undefined);
      },
      onEnd: () => this.ctx.netTxns.delete(net.id),
      onTimeout: () => {
        this.ctx.logger.warn({ dialogId: dialog.id }, 'no ACK for the 2xx: ending the dialog');
        this.deps.endDialog(dialog, 'ACK timeout');
      },
    });
  }

  /** RFC 3261 §12.1.1: a 2xx or a 101–199 with a To-tag creates (or confirms) the UAS dialog. */
  private ensureDialog(net: NetTxn, confirmed: boolean): void {
    const existing = this.ctx.dialogs.get(net.dialogId);
    if (existing) {
      if (confirmed) existing.confirm();
      existing.owner = net.conn;
      return;
    }
    const invite = net.st.request;
    this.ctx.dialogs.add(
      Dialog.asUas({
        id: net.dialogId,
        invite,
        localTag: net.localTag,
        localContact: contactFor(invite.local),
        state: confirmed ? 'confirmed' : 'early',
        owner: net.conn,
      }),
    );
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
      awaitingAck: false,
    };
    this.ctx.netTxns.set(net.id, net);
    if (st.method === 'INVITE') this.byTransaction.set(st, net); // only CANCEL looks this up
    st.onTerminated(() => {
      clearPendingTimer(net);
      // An INVITE answered 2xx stays until its ACK (or the ACK timeout) clears it.
      if (!net.awaitingAck) this.ctx.netTxns.delete(net.id);
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
    if (!dialog.acceptRemoteCseq(request)) {
      void this.reply(st, 500, 'CSeq out of order');
      return;
    }
    if (request.method === 'PRACK') stopReliableProvisional(this.ctx, request);
    if (request.method === 'INVITE' || request.method === 'UPDATE') {
      dialog.refreshTarget(request.headers.get('contact'));
    }
    dialog.peer = st.request.source;
    const net = this.track(st, dialog.owner, dialog.localTag, dialog.id);
    if (request.method === 'BYE') this.ctx.dialogs.remove(dialog);
    // drachtio hands an UPDATE in an early UAS dialog over in the INVITE's transaction (its txnId).
    const invite = request.method === 'UPDATE' ? this.unansweredInvite(dialog) : undefined;
    if (invite) invite.earlyUpdate = net;
    dialog.owner.notify(
      networkNotice(st.request, invite?.id ?? net.id, dialog.id, false),
      serializeMessage(request).toString('utf8'),
    );
  }

  /** The INVITE of an early UAS dialog that has no final response yet. */
  private unansweredInvite(dialog: Dialog): NetTxn | undefined {
    if (dialog.role !== 'uas' || dialog.state !== 'early') return undefined;
    for (const net of this.ctx.netTxns.values()) {
      if (net.dialogId === dialog.id && net.st.method === 'INVITE' && !net.finalSent) return net;
    }
    return undefined;
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

  /** Outbound mode: dial the app that listens, one connection per new request. */
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
