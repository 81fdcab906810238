import type { SipMessage } from './types.js';

/**
 * Writes a message with CRLF line ends, header names as stored and a Content-Length recomputed from the
 * body (kept at the position and spelling of an existing Content-Length field, else added last).
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const startLine =
    msg.kind === 'request'
      ? `${msg.method} ${msg.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  const parts: string[] = [startLine];
  let lengthWritten = false;
  for (const field of msg.headers.fields()) {
    const n = field.name;
    if (
      (n.length === 1 && (n === 'l' || n === 'L')) ||
      (n.length === 14 && n.toLowerCase() === 'content-length')
    ) {
      if (lengthWritten) continue;
      parts.push(`${n}: ${msg.body.length}\r\n`);
      lengthWritten = true;
      continue;
    }
    parts.push(`${n}: ${field.value}\r\n`);
  }
  if (!lengthWritten) parts.push(`Content-Length: ${msg.body.length}\r\n`);
  parts.push('\r\n');
  const head = parts.join('');
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headBytes = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headBytes + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headBytes);
  return out;
}
