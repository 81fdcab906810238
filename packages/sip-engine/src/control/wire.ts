/**
 * The pipe-delimited meta lines of the drachtio control protocol (PROTOCOL.md §3, §4). Token 0 is always
 * the sender's message id, token 1 the command or message type; a SIP message may follow after CRLF.
 */
import { randomUUID } from 'node:crypto';

export interface AppMessage {
  id: string;
  command: string;
  /** Every token, the id and command included. */
  tokens: string[];
  /** The SIP text after the first CRLF ('' when none). */
  sip: string;
}

/** Splits a payload into its meta tokens and SIP part (the server splits at the first CRLF, PROTOCOL.md §1.6). */
export function parseAppMessage(payload: string): AppMessage {
  const crlf = payload.indexOf('\r\n');
  const meta = crlf < 0 ? payload : payload.slice(0, crlf);
  const sip = crlf < 0 ? '' : payload.slice(crlf + 2);
  const tokens = meta.split('|');
  return { id: tokens[0] ?? '', command: tokens[1] ?? '', tokens, sip };
}

export function newMessageId(): string {
  return randomUUID();
}

/** `HH:MM:SS.ffffff`, UTC time of day with microseconds (PROTOCOL.md §3.4 field notes). */
let lastStamp = { ms: -1, text: '' };

export function stackTime(date = new Date()): string {
  const ms = date.getTime();
  if (ms === lastStamp.ms) return lastStamp.text;
  lastStamp = { ms, text: formatStackTime(date) };
  return lastStamp.text;
}

function formatStackTime(date: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds() * 1000, 6)}`;
}

/** `⟨sid⟩|response|⟨appMsgId⟩|⟨status⟩[|…]` with an optional SIP part. */
export function responsePayload(appMsgId: string, fields: readonly string[], sip?: string): string {
  const meta = `${newMessageId()}|response|${appMsgId}|${fields.join('|')}`;
  return sip === undefined ? meta : `${meta}\r\n${sip}`;
}

export interface SipNotice {
  source: 'network' | 'application';
  bytes: number;
  protocol: string;
  address: string;
  port: number;
  txnId: string;
  dialogId: string;
  /** host:port of the listener that received a new request (PROTOCOL.md §4.2 recv fields). */
  receivedOn?: { host: string; port: number };
}

/** `⟨sid⟩|sip|⟨source⟩|⟨bytes⟩|⟨proto⟩|⟨addr⟩|⟨port⟩|⟨time⟩|⟨txnId⟩|⟨dialogId⟩|[⟨recvHost⟩|⟨recvPort⟩|]` CRLF SIP */
export function sipPayload(notice: SipNotice, sip: string): string {
  const recv = notice.receivedOn ? `${notice.receivedOn.host}|${notice.receivedOn.port}|` : '';
  return (
    `${newMessageId()}|sip|${notice.source}|${notice.bytes}|${notice.protocol}|${notice.address}|${notice.port}|` +
    `${stackTime()}|${notice.txnId}|${notice.dialogId}|${recv}\r\n${sip}`
  );
}
