import type { AppConnection } from '../control/app-connection.js';
import type { Dialog } from './dialog.js';

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

  /** Terminates the dialog and forgets it. */
  remove(dialog: Dialog): void {
    dialog.terminate();
    if (this.byId.get(dialog.id) === dialog) this.byId.delete(dialog.id);
    const key = localKey(dialog.callId, dialog.localTag);
    if (this.byLocal.get(key) === dialog) this.byLocal.delete(key);
  }

  /** The app has gone: its dialogs stay, but have no owner (their requests get 481). */
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
