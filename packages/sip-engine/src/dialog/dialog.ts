/**
 * One dialog (RFC 3261 §12) as the engine keeps it for the app that owns it: built from the INVITE and
 * its response for either role, it keeps its own CSeq numbers, route set and remote target, builds the
 * dialog part of the requests sent in it, retransmits a UAS 2xx until the ACK (§13.3.1.4) and ends.
 */
import {
  SipHeaders,
  stripTag,
  tagOf,
  tryParseCSeq,
  tryParseNameAddr,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import type { AppConnection } from '../control/app-connection.js';
import type { Inbound, LocalEndpoint, Peer } from '../transport/types.js';

export type DialogRole = 'uas' | 'uac';
export type DialogState = 'early' | 'confirmed' | 'terminated';

/** `<Call-ID>;from-tag=<tag>`: the dialog id srf relies on (PROTOCOL.md §5.2). */
export function dialogIdOf(callId: string, fromTag: string): string {
  return `${callId};from-tag=${fromTag}`;
}

/** What the 2xx retransmission of a UAS dialog needs from its owner. */
export interface AckWait {
  /** The txnId of the INVITE whose 2xx waits for its ACK. */
  readonly txnId: string;
  /** Unreliable transport: the 2xx is re-sent (RFC 3261 §13.3.1.4); reliable: only the timeout runs. */
  readonly unreliable: boolean;
  readonly T1: number;
  readonly T2: number;
  resend(): void;
  /** 64·T1 without an ACK: the dialog must be ended with a BYE. */
  onTimeout(): void;
  /** Called once when the wait ends, however it ends (ACK, timeout, dialog terminated). */
  onEnd(): void;
}

interface DialogInit {
  id: string;
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  localCseq: number;
  remoteCseq: number;
  localContact: string;
  state: 'early' | 'confirmed';
  owner: AppConnection | undefined;
  peer: Peer;
  local: LocalEndpoint;
}

/** A random initial local CSeq (RFC 3261 §8.1.1.5 allows any value below 2^31). */
function initialCseq(): number {
  return Math.floor(Math.random() * 10_000) + 1;
}

export class Dialog {
  readonly id: string;
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  /** Empty until the remote side's tag is known (a UAC dialog learns it from the response). */
  private remoteTagValue: string;
  /** Our From/To name-addr (without tag) and the remote one. */
  readonly localUri: string;
  readonly remoteUri: string;
  private target: string;
  /** Route header values for requests we send in the dialog, in order. */
  readonly routeSet: readonly string[];
  private localSeq: number;
  private remoteSeq: number;
  /** CSeq number of the INVITE the next ACK belongs to. */
  private inviteSeq: number;
  /** Our Contact header value. */
  readonly localContact: string;
  private current: DialogState;
  /** The app that owns the dialog; undefined once it has gone (requests then get 481). */
  owner: AppConnection | undefined;
  /** The peer we last heard from in this dialog (NAT: responses and requests go there). */
  peer: Peer;
  readonly local: LocalEndpoint;
  /** UAS: the 2xx waiting for its ACK. */
  private ackWait: { wait: AckWait; timer: NodeJS.Timeout | undefined } | undefined;
  /** UAC: the last ACK we sent for a 2xx, re-sent when the 2xx is retransmitted (RFC 3261 §13.2.2.4). */
  lastAck: { request: SipRequest; destination: Peer } | undefined;

  private constructor(init: DialogInit) {
    this.id = init.id;
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTagValue = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.target = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localCseq;
    this.remoteSeq = init.remoteCseq;
    this.inviteSeq = init.localCseq;
    this.localContact = init.localContact;
    this.current = init.state;
    this.owner = init.owner;
    this.peer = init.peer;
    this.local = init.local;
  }

  /**
   * RFC 3261 §12.1.1: the UAS side, from the INVITE and the To-tag of our response. The route set is the
   * request's Record-Route in order, the remote target its Contact, the remote CSeq its CSeq.
   */
  static asUas(init: {
    id: string;
    invite: Inbound<SipRequest>;
    localTag: string;
    localContact: string;
    state: 'early' | 'confirmed';
    owner: AppConnection | undefined;
  }): Dialog {
    const headers = init.invite.message.headers;
    const from = tryParseNameAddr(headers.get('from') ?? '');
    const contact = tryParseNameAddr(headers.get('contact') ?? '');
    return new Dialog({
      id: init.id,
      role: 'uas',
      callId: headers.get('call-id') ?? '',
      localTag: init.localTag,
      remoteTag: from?.params.get('tag') ?? '',
      localUri: stripTag(headers.get('to') ?? ''),
      remoteUri: stripTag(headers.get('from') ?? ''),
      remoteTarget: contact?.uri ?? from?.uri ?? '',
      routeSet: headers.getAll('record-route'),
      localCseq: initialCseq(),
      remoteCseq: tryParseCSeq(headers.get('cseq') ?? '')?.seq ?? 0,
      localContact: init.localContact,
      state: init.state,
      owner: init.owner,
      peer: init.invite.source,
      local: init.invite.local,
    });
  }

  /**
   * RFC 3261 §12.1.2: the UAC side, from our INVITE and a 2xx or reliable 1xx. The route set is the
   * response's Record-Route reversed, the remote target its Contact, the local CSeq the INVITE's.
   */
  static asUac(init: {
    id: string;
    invite: SipRequest;
    response: Inbound<SipResponse>;
    localContact: string;
    owner: AppConnection | undefined;
  }): Dialog {
    const request = init.invite;
    const response = init.response.message;
    const contact = tryParseNameAddr(response.headers.get('contact') ?? '');
    return new Dialog({
      id: init.id,
      role: 'uac',
      callId: request.headers.get('call-id') ?? '',
      localTag: tagOf(request.headers.get('from') ?? '') ?? '',
      remoteTag: tagOf(response.headers.get('to') ?? '') ?? '',
      localUri: stripTag(request.headers.get('from') ?? ''),
      remoteUri: stripTag(request.headers.get('to') ?? ''),
      remoteTarget: contact?.uri ?? request.uri,
      routeSet: response.headers.getAll('record-route').reverse(),
      localCseq: tryParseCSeq(request.headers.get('cseq') ?? '')?.seq ?? 1,
      remoteCseq: 0,
      localContact: init.localContact,
      state: response.status >= 200 ? 'confirmed' : 'early',
      owner: init.owner,
      peer: init.response.source,
      local: init.response.local,
    });
  }

  get state(): DialogState {
    return this.current;
  }

  get remoteTag(): string {
    return this.remoteTagValue;
  }

  /** The remote Contact URI, refreshed by target-refresh requests and their 2xx (RFC 3261 §12.2). */
  get remoteTarget(): string {
    return this.target;
  }

  get localCseq(): number {
    return this.localSeq;
  }

  get remoteCseq(): number {
    return this.remoteSeq;
  }

  /** An early dialog is confirmed by a 2xx (RFC 3261 §12.1); a terminated one stays terminated. */
  confirm(): void {
    if (this.current === 'early') this.current = 'confirmed';
  }

  /** A later response of our INVITE: the remote tag and target it carries (RFC 3261 §12.1.2, §12.2.1.2). */
  updateFromResponse(response: Inbound<SipResponse>): void {
    this.remoteTagValue = tagOf(response.message.headers.get('to') ?? '') ?? this.remoteTagValue;
    this.refreshTarget(response.message.headers.get('contact'));
    this.peer = response.source;
    if (response.message.status >= 200) this.confirm();
  }

  /** RFC 3261 §12.2: the Contact of a target-refresh request or its 2xx becomes the remote target. */
  refreshTarget(contact: string | undefined): void {
    const uri = contact ? tryParseNameAddr(contact)?.uri : undefined;
    if (uri) this.target = uri;
  }

  /**
   * RFC 3261 §12.2.2: a request whose CSeq is lower than the last one is out of order (500), except a
   * PRACK, which carries the INVITE's number space (RFC 3262). Records the number otherwise.
   */
  acceptRemoteCseq(request: SipRequest): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    const cseq = tryParseCSeq(request.headers.get('cseq') ?? '');
    if (!cseq) return true;
    if (this.remoteSeq && cseq.seq < this.remoteSeq && request.method !== 'PRACK') return false;
    this.remoteSeq = Math.max(this.remoteSeq, cseq.seq);
    return true;
  }

  /**
   * RFC 3261 §12.2.1.1: From, To, Call-ID, CSeq and Route of a request in this dialog. The CSeq goes up by
   * one per request; an ACK takes its INVITE's number (§13.2.2.4).
   */
  requestHeaders(method: string): SipHeaders {
    const headers = new SipHeaders();
    headers.set('From', `${this.localUri};tag=${this.localTag}`);
    headers.set('To', this.remoteTagValue ? `${this.remoteUri};tag=${this.remoteTagValue}` : this.remoteUri);
    headers.set('Call-ID', this.callId);
    const seq = method === 'ACK' ? this.inviteSeq : ++this.localSeq;
    if (method === 'INVITE') this.inviteSeq = seq;
    headers.set('CSeq', `${seq} ${method}`);
    for (const route of this.routeSet) headers.append('Route', route);
    return headers;
  }

  /**
   * RFC 3261 §13.3.1.4: our 2xx to an INVITE is re-sent at T1, doubling up to T2, until the ACK arrives;
   * after 64·T1 without one the owner is told to end the dialog. Over reliable transports only the
   * timeout runs.
   */
  awaitAck(wait: AckWait): void {
    this.endAckWait();
    const state: { wait: AckWait; timer: NodeJS.Timeout | undefined } = { wait, timer: undefined };
    this.ackWait = state;
    const giveUp = (): void => {
      if (this.ackWait !== state) return;
      this.endAckWait();
      wait.onTimeout();
    };
    const limit = 64 * wait.T1;
    if (!wait.unreliable) {
      state.timer = setTimeout(giveUp, limit).unref();
      return;
    }
    let interval = wait.T1;
    let elapsed = 0;
    const tick = (): void => {
      elapsed += interval;
      if (elapsed >= limit) {
        giveUp();
        return;
      }
      wait.resend();
      interval = Math.min(interval * 2, wait.T2);
      state.timer = setTimeout(tick, interval).unref();
    };
    state.timer = setTimeout(tick, interval).unref();
  }

  /** The ACK for our 2xx has come: the retransmission stops; the txnId of the INVITE it acknowledges. */
  ackReceived(): string | undefined {
    const txnId = this.ackWait?.wait.txnId;
    this.endAckWait();
    return txnId;
  }

  /** Ends the dialog: no more retransmissions; nothing is sent (the caller sends any BYE). */
  terminate(): void {
    this.endAckWait();
    this.current = 'terminated';
  }

  private endAckWait(): void {
    const ending = this.ackWait;
    if (!ending) return;
    this.ackWait = undefined;
    if (ending.timer) clearTimeout(ending.timer);
    ending.wait.onEnd();
  }
}
