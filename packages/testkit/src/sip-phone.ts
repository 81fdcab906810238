/**
 * A tiny SIP phone over UDP for what sipp cannot do: SHA-256 digests (sipp's [authentication] is
 * MD5 only), hand-made nonces (stale, forged) and replaying an Authorization header byte for byte.
 * Digests come from @sbc/testkit's digestResponse, written apart from the code under test.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { digestResponse } from './digest.js';

export interface SipResponseMessage {
  status: number;
  reason: string;
  /** Lower-cased header name → every value, in order. */
  headers: Map<string, string[]>;
  raw: string;
  header(name: string): string | undefined;
}

function parseResponse(raw: string): SipResponseMessage | undefined {
  const [head = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) return undefined;
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return {
    status: Number(match[1]),
    reason: match[2] ?? '',
    headers,
    raw,
    header: (name) => headers.get(name.toLowerCase())?.[0],
  };
}

export interface Challenge {
  realm: string;
  nonce: string;
  algorithm: string;
  qop: string | undefined;
  stale: boolean;
}

/** The challenges of a 401, in order. */
export function challengesOf(res: SipResponseMessage): Challenge[] {
  return (res.headers.get('www-authenticate') ?? []).map((value) => {
    const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`, 'i').exec(value)?.[1];
    return {
      realm: param('realm') ?? '',
      nonce: param('nonce') ?? '',
      algorithm: param('algorithm') ?? 'MD5',
      qop: param('qop'),
      stale: /stale=true/i.test(value),
    };
  });
}

/** An Authorization header answering `challenge`. */
export function authorization(
  challenge: Pick<Challenge, 'realm' | 'nonce' | 'algorithm' | 'qop'>,
  credentials: { username: string; password: string; uri: string; nc?: number; method?: string },
): string {
  const nc = (credentials.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = randomBytes(6).toString('hex');
  const qop = challenge.qop ? 'auth' : undefined;
  const response = digestResponse({
    username: credentials.username,
    realm: challenge.realm,
    password: credentials.password,
    method: credentials.method ?? 'REGISTER',
    uri: credentials.uri,
    nonce: challenge.nonce,
    algorithm: challenge.algorithm,
    ...(qop && { qop, nc, cnonce }),
  });
  const parts = [
    `username="${credentials.username}"`,
    `realm="${challenge.realm}"`,
    `nonce="${challenge.nonce}"`,
    `uri="${credentials.uri}"`,
    `response="${response}"`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${parts.join(', ')}`;
}

export interface RegisterOptions {
  user: string;
  realm: string;
  expires?: number | undefined;
  /** Default `<sip:user@ip:port>`; `null` leaves Contact out. */
  contact?: string | null;
  authorization?: string;
  /** Default `<sip:user@realm>`. */
  to?: string;
  callId?: string;
  cseq?: number;
}

/** A UDP phone bound to a loopback address; one request at a time. */
export class SipPhone {
  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async open(address: string, target: string): Promise<SipPhone> {
    const [host = '', port = ''] = target.split(':');
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new SipPhone(socket, address, socket.address().port, { host, port: Number(port) });
  }

  /** Sends `text` once, expecting no answer (an ACK). */
  transmit(text: string): void {
    this.socket.send(text, this.target.port, this.target.host);
  }

  /** Sends `text` and resolves with the first final response (retransmitting every 500 ms). */
  send(text: string, timeoutMs = 8000): Promise<SipResponseMessage> {
    const callId = /\r\nCall-ID: (.*)\r\n/.exec(text)?.[1];
    const cseq = /\r\nCSeq: (.*)\r\n/.exec(text)?.[1];
    return new Promise((resolve, reject) => {
      const transmit = () => this.socket.send(text, this.target.port, this.target.host);
      const retransmit = setInterval(transmit, 500);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no final answer within ${timeoutMs} ms to:\n${text}`));
      }, timeoutMs);
      const onMessage = (buffer: Buffer) => {
        const res = parseResponse(buffer.toString('utf8'));
        if (!res || res.status < 200) return;
        if (res.header('call-id') !== callId || res.header('cseq') !== cseq) return;
        cleanup();
        resolve(res);
      };
      const cleanup = () => {
        clearInterval(retransmit);
        clearTimeout(timer);
        this.socket.off('message', onMessage);
      };
      this.socket.on('message', onMessage);
      transmit();
    });
  }

  registerText(options: RegisterOptions): string {
    const callId = options.callId ?? `${randomBytes(8).toString('hex')}@${this.address}`;
    const lines = [
      `REGISTER sip:${options.realm} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:${options.user}@${options.realm}>;tag=${randomBytes(4).toString('hex')}`,
      `To: ${options.to ?? `<sip:${options.user}@${options.realm}>`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${options.cseq ?? 1} REGISTER`,
    ];
    if (options.contact !== null) {
      lines.push(`Contact: ${options.contact ?? `<sip:${options.user}@${this.address}:${this.port}>`}`);
    }
    if (options.expires !== undefined) lines.push(`Expires: ${options.expires}`);
    if (options.authorization) lines.push(`Authorization: ${options.authorization}`);
    lines.push('User-Agent: registrar-test-phone', 'Content-Length: 0');
    return `${lines.join('\r\n')}\r\n\r\n`;
  }

  register(options: RegisterOptions): Promise<SipResponseMessage> {
    return this.send(this.registerText(options));
  }

  /**
   * REGISTER, 401, REGISTER answering the challenge of `algorithm`: resolves with the final answer
   * and the Authorization header it sent.
   */
  async registerWithAuth(
    options: RegisterOptions & { password: string; algorithm?: string },
  ): Promise<{ res: SipResponseMessage; authorization: string; challenge: Challenge }> {
    const callId = options.callId ?? `${randomBytes(8).toString('hex')}@${this.address}`;
    const first = await this.register({ ...options, callId, cseq: 1 });
    if (first.status !== 401) throw new Error(`expected 401, got ${first.status}:\n${first.raw}`);
    const wanted = options.algorithm ?? 'MD5';
    const challenge = challengesOf(first).find((c) => c.algorithm.toUpperCase() === wanted.toUpperCase());
    if (!challenge) throw new Error(`no ${wanted} challenge in:\n${first.raw}`);
    const header = authorization(challenge, {
      username: options.user,
      password: options.password,
      uri: `sip:${options.realm}`,
    });
    const res = await this.register({ ...options, callId, cseq: 2, authorization: header });
    return { res, authorization: header, challenge };
  }

  close(): void {
    this.socket.close();
  }
}
