import type { AppConnection } from '../control/app-connection.js';
import type { SipRequest } from '@sbc/sip';
import type { LocalEndpoint, Peer } from '../transport/types.js';

export type DialogRole = 'uas' | 'uac';

/** Dialog state (RFC 3261 §12) as the engine keeps it for the app that owns the dialog. */
export interface Dialog {
  /** `<Call-ID>;from-tag=<From tag of the dialog-creating request>` (spec §5.2). */
  readonly id: string;
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  /** Our From/To name-addr (without tag) and the remote one. */
  readonly localUri: string;
  readonly remoteUri: string;
  /** The remote Contact URI (RFC 3261 §12.1.1 / §12.1.2); refreshed by target-refresh requests. */
  remoteTarget: string;
  /** Route header values for requests we send in the dialog, in order. */
  routeSet: string[];
  localCseq: number;
  remoteCseq: number;
  /** Our Contact header value. */
  localContact: string;
  /** CSeq number of the INVITE the next ACK belongs to. */
  inviteCseq: number;
  state: 'early' | 'confirmed';
  /** The app that owns the dialog; undefined once it has gone (requests then get 481, spec §2.5). */
  owner: AppConnection | undefined;
  /** The peer we last heard from in this dialog (NAT: UDP responses and requests go there). */
  peer: Peer;
  local: LocalEndpoint;
  /** UAS: the txnId of the INVITE whose 2xx waits for its ACK. */
  awaitingAck?: string;
  /** UAC: the last ACK we sent for a 2xx, re-sent when the 2xx is retransmitted (RFC 3261 §13.2.2.4). */
  lastAck?: { request: SipRequest; destination: Peer };
}

/** `<Call-ID>;from-tag=<tag>`: the format srf relies on (spec §5.2). */
export function dialogIdOf(callId: string, fromTag: string): string {
  return `${callId};from-tag=${fromTag}`;
}

/** Every dialog, found by id (app side) and by Call-ID + local tag (network side). */
export class DialogTable {
  private readonly byId = new Map<string, Dialog>();
  private readonly byLocal = new Map<string, Dialog>();

  get size(): number {
    return this.byId.size;
  }

  add(dialog: Dialog): void {
    this.byId.set(dialog.id, dialog);
    this.byLocal.set(localKey(dialog.callId, dialog.localTag), dialog);
  }

  get(id: string): Dialog | undefined {
    return this.byId.get(id);
  }

  /** The dialog an incoming in-dialog request belongs to: To-tag = our tag, From-tag = theirs. */
  match(callId: string, localTag: string, remoteTag: string | undefined): Dialog | undefined {
    const dialog = this.byLocal.get(localKey(callId, localTag));
    if (!dialog) return undefined;
    return !remoteTag || !dialog.remoteTag || dialog.remoteTag === remoteTag ? dialog : undefined;
  }

  remove(dialog: Dialog): void {
    this.byId.delete(dialog.id);
    this.byLocal.delete(localKey(dialog.callId, dialog.localTag));
  }

  /** The app has gone: its dialogs stay, but have no owner (spec §2.5). */
  orphan(owner: AppConnection): void {
    for (const dialog of this.byId.values()) if (dialog.owner === owner) dialog.owner = undefined;
  }

  all(): IterableIterator<Dialog> {
    return this.byId.values();
  }
}

function localKey(callId: string, localTag: string): string {
  return `${callId}\n${localTag}`;
}
