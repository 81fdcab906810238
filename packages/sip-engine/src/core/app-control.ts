/**
 * The app side of the control channel: a `sip` command is an answer to a request the app was given
 * (UAS), a request in one of its dialogs, a CANCEL or a new request (UAC); an app that goes away leaves
 * its dialogs without owner and its unanswered requests answered.
 */
import type { AppConnection } from '../control/app-connection.js';
import type { AppMessage } from '../control/wire.js';
import type { DialogTable } from '../dialog/dialog-table.js';
import { parseAppSip } from './app-message.js';
import type { EngineLogger } from './context.js';
import type { StatefulProxy } from './proxy.js';
import type { UserAgentClient } from './uac.js';
import type { UserAgentServer } from './uas.js';

export class AppControl {
  constructor(
    private readonly logger: EngineLogger,
    private readonly dialogs: DialogTable,
    private readonly uas: UserAgentServer,
    private readonly uac: UserAgentClient,
    private readonly proxy: StatefulProxy,
  ) {}

  /** The `proxy` command: the skeleton request carries only the headers to add (PROTOCOL.md §3.5). */
  onProxy(conn: AppConnection, msg: AppMessage): void {
    const skeleton = msg.sip ? parseAppSip(msg.sip) : undefined;
    this.proxy.start(conn, msg.id, msg.tokens, skeleton?.headers);
  }

  /** The `sip` command: response, in-dialog request, CANCEL or new request. */
  onSip(conn: AppConnection, msg: AppMessage): void {
    const [, , txnId = '', dialogId = '', routeUri] = msg.tokens;
    const message = parseAppSip(msg.sip);
    if (!message) {
      conn.reply(msg.id, ['NOK', 'invalid SIP message']);
      return;
    }
    const fail = (err: unknown): void => {
      this.logger.error({ err, txnId, dialogId }, 'app sip command failed');
      conn.reply(msg.id, ['NOK', `Server error: ${(err as Error).message}`]);
    };
    if (message.kind === 'response') {
      if (!txnId) {
        conn.refuse(msg.id, 'transaction id missing');
        return;
      }
      this.uas.respond(conn, msg.id, txnId, message).catch(fail);
    } else if (dialogId) {
      this.uac.sendInDialog(conn, msg.id, dialogId, message).catch(fail);
    } else if (txnId && message.method === 'CANCEL') {
      this.uac.cancel(conn, msg.id, txnId, message);
    } else if (!txnId) {
      this.uac.sendNew(conn, msg.id, routeUri, message).catch(fail);
    } else {
      conn.reply(msg.id, ['NOK', `Server error: ${message.method} with a transaction id and no dialog id`]);
    }
  }

  onDisconnect(conn: AppConnection): void {
    this.dialogs.orphan(conn);
    this.uas.appGone(conn);
  }
}
