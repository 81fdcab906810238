import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, type FramingError } from './framing.js';
import { parseAppMessage, responsePayload, sipPayload, type AppMessage, type SipNotice } from './wire.js';

export interface ConnectionLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * One drachtio-srf application on the control channel: dialled by the app (inbound mode) or by
 * us (outbound mode). Owns the framing; hands whole messages to `onMessage`.
 */
export class AppConnection {
  readonly id = randomUUID();
  authenticated = false;
  tags: string[] = [];
  /** Lower-cased SIP methods (and cdr:* verbs) this connection takes new requests for. */
  readonly verbs = new Set<string>();
  private readonly decoder = new FrameDecoder();
  private closed = false;
  private corked = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    readonly socket: Socket,
    /** True when we dialled the app (outbound mode): it sends no routes. */
    readonly outbound: boolean,
    private readonly onMessage: (conn: AppConnection, msg: AppMessage) => void,
    private readonly logger: ConnectionLogger,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.logger.debug({ err, conn: this.id }, 'control connection error'));
    socket.on('close', () => this.handleClose());
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Answers an app command (PROTOCOL.md §4.1). */
  reply(appMsgId: string, fields: readonly string[], sip?: string): void {
    this.write(responsePayload(appMsgId, fields, sip));
  }

  /** Delivers SIP traffic to the app (PROTOCOL.md §4.2). */
  notify(notice: SipNotice, sip: string): void {
    this.write(sipPayload(notice, sip));
  }

  /** `NO|reason` then close: the answer to protocol violations (PROTOCOL.md §3). */
  refuse(appMsgId: string, reason: string): void {
    this.reply(appMsgId, ['NO', reason]);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.socket.end();
    this.socket.destroySoon();
  }

  /**
   * Frames written in one event-loop turn go out together (cork until the next turn): one system call
   * and one read on the app's side instead of one per message.
   */
  private write(payload: string): void {
    if (this.closed || this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(encodeFrame(payload));
  }

  private receive(chunk: Buffer): void {
    let payloads: string[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      this.logger.warn(
        { conn: this.id, remote: this.remote, reason: (err as FramingError).message },
        'bad framing, closing',
      );
      this.socket.destroy();
      return;
    }
    for (const payload of payloads) {
      try {
        this.onMessage(this, parseAppMessage(payload));
      } catch (err) {
        this.logger.warn({ err, conn: this.id }, 'failed to handle an app message');
      }
    }
  }

  private handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
