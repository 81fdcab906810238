/**
 * A raw SIP caller over UDP, for what sipp cannot say: any INVITE (bad SDP, odd or forged headers,
 * SHA-256 digest answers), the final answer ACKed as RFC 3261 §17.1.1.3 wants, a connected call
 * hung up with a BYE, and requests from the SBC (a BYE from the other side) answered 200.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { authorization, challengesOf, type SipResponseMessage } from '@sbc/testkit';

export type { SipResponseMessage };

export function parseMessage(raw: string): {
  startLine: string;
  headers: Map<string, string[]>;
  body: string;
} {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const [startLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers, body };
}

function parseResponse(raw: string): SipResponseMessage | undefined {
  const { startLine, headers } = parseMessage(raw);
  const match = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (!match) return undefined;
  return {
    status: Number(match[1]),
    reason: match[2] ?? '',
    headers,
    raw,
    header: (name) => headers.get(name.toLowerCase())?.[0],
  };
}

const token = () => randomBytes(6).toString('hex');

/** An SDP offer with one PCMA stream from `address`. */
export function sdpOffer(address: string, port = 40_000): string {
  return [
    'v=0',
    `o=caller 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 8 101`,
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface InviteOptions {
  /** Request-URI user (default the westco DID +16173333456). */
  did?: string;
  /** Request-URI host (default the engine's host:port). */
  host?: string;
  fromUser?: string;
  /** Extra header lines, as written. */
  headers?: readonly string[];
  /** The body; `null` sends none (late offer). Default: a PCMA offer. */
  body?: string | null;
  /** Default application/sdp (omitted when there is no body). */
  contentType?: string;
  callId?: string;
  cseq?: number;
  fromTag?: string;
  /** Give up (reject) when no final answer came in this many ms. */
  timeoutMs?: number;
}

export interface InviteResult {
  status: number;
  reason: string;
  response: SipResponseMessage;
  /** INVITE sent → final answer received. */
  elapsedMs: number;
  /** Provisional statuses received before the final one. */
  provisional: number[];
  callId: string;
  fromTag: string;
  /** A connected call: BYE, resolving with the BYE's final status. */
  hangUp(): Promise<number>;
  /** A connected call: a request without body (REFER, INFO…) with `headers` lines, resolving with its final answer. */
  request(method: string, headers: readonly string[]): Promise<SipResponseMessage>;
  /** A connected call: a re-INVITE with `body` (SDP), resolving with its final answer (ACKed). */
  reinvite(body: string): Promise<SipResponseMessage>;
}

/** A UDP caller on a loopback address, talking to the engine. ACKs every final answer it gets. */
export class RawCaller {
  private readonly pending = new Map<string, (res: SipResponseMessage) => void>();
  private readonly provisionals = new Map<string, (res: SipResponseMessage) => void>();
  /** ACKs to repeat when a final answer is retransmitted, by Call-ID + CSeq. */
  private readonly acks = new Map<string, string>();
  /** Requests the SBC sent us (BYE from the feature server side, …). */
  readonly requests: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    socket.on('message', (buffer, rinfo) => this.onMessage(buffer.toString('utf8'), rinfo));
  }

  static async open(address: string, target: string): Promise<RawCaller> {
    const [host = '', port = ''] = target.split(':');
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new RawCaller(socket, address, socket.address().port, { host, port: Number(port) });
  }

  get targetHostport(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  close(): void {
    this.socket.close();
  }

  private send(text: string): void {
    this.socket.send(text, this.target.port, this.target.host);
  }

  private onMessage(raw: string, rinfo: RemoteInfo): void {
    const res = parseResponse(raw);
    if (!res) {
      this.requests.push(raw);
      this.answerRequest(raw, rinfo);
      return;
    }
    const key = `${res.header('call-id') ?? ''}|${res.header('cseq') ?? ''}`;
    if (res.status < 200) {
      this.provisionals.get(key)?.(res);
      return;
    }
    const ack = this.acks.get(key);
    if (ack) {
      this.send(ack);
      return;
    }
    this.pending.get(key)?.(res);
  }

  /** 200 to any request from the SBC (a BYE from the other side, OPTIONS, INFO). */
  private answerRequest(raw: string, rinfo: RemoteInfo): void {
    const { startLine, headers } = parseMessage(raw);
    if (startLine.startsWith('ACK ')) return;
    const lines = [
      'SIP/2.0 200 OK',
      ...(headers.get('via') ?? []).map((v) => `Via: ${v}`),
      `From: ${headers.get('from')?.[0] ?? ''}`,
      `To: ${headers.get('to')?.[0] ?? ''}`,
      `Call-ID: ${headers.get('call-id')?.[0] ?? ''}`,
      `CSeq: ${headers.get('cseq')?.[0] ?? ''}`,
      'Content-Length: 0',
    ];
    this.socket.send(`${lines.join('\r\n')}\r\n\r\n`, rinfo.port, rinfo.address);
  }

  /** Sends `text` (retransmitted every 500 ms until a response) and resolves with the final answer. */
  private transact(
    text: string,
    key: string,
    timeoutMs: number,
    provisional: number[],
  ): Promise<SipResponseMessage> {
    return new Promise((resolve, reject) => {
      let retransmit: NodeJS.Timeout | undefined = setInterval(() => this.send(text), 500);
      const stopRetransmitting = () => {
        clearInterval(retransmit);
        retransmit = undefined;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no final answer within ${timeoutMs} ms to:\n${text}`));
      }, timeoutMs);
      const cleanup = () => {
        stopRetransmitting();
        clearTimeout(timer);
        this.pending.delete(key);
        this.provisionals.delete(key);
      };
      this.provisionals.set(key, (res) => {
        provisional.push(res.status);
        stopRetransmitting();
      });
      this.pending.set(key, (res) => {
        cleanup();
        resolve(res);
      });
      this.send(text);
    });
  }

  inviteText(options: InviteOptions & { callId: string; fromTag: string; branch: string }): string {
    const did = options.did ?? '+16173333456';
    const host = options.host ?? this.targetHostport;
    const body = options.body === undefined ? sdpOffer(this.address) : options.body;
    const lines = [
      `INVITE sip:${did}@${host} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=${options.branch};rport`,
      'Max-Forwards: 70',
      `From: "Test Caller" <sip:${options.fromUser ?? '15085551212'}@${this.address}>;tag=${options.fromTag}`,
      `To: <sip:${did}@${host}>`,
      `Call-ID: ${options.callId}`,
      `CSeq: ${options.cseq ?? 1} INVITE`,
      `Contact: <sip:caller@${this.address}:${this.port}>`,
      ...(options.headers ?? []),
    ];
    if (body !== null) lines.push(`Content-Type: ${options.contentType ?? 'application/sdp'}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body ?? '')}`);
    return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`;
  }

  /** One INVITE transaction: resolves with its final answer (already ACKed). */
  async invite(options: InviteOptions = {}): Promise<InviteResult> {
    const callId = options.callId ?? `${token()}@${this.address}`;
    const fromTag = options.fromTag ?? token();
    const cseq = options.cseq ?? 1;
    const branch = `z9hG4bK${token()}`;
    const text = this.inviteText({ ...options, callId, fromTag, branch, cseq });
    const key = `${callId}|${cseq} INVITE`;
    const provisional: number[] = [];
    const started = performance.now();
    const response = await this.transact(text, key, options.timeoutMs ?? 10_000, provisional);
    const elapsedMs = performance.now() - started;
    const firstLine = text.slice(0, text.indexOf('\r\n'));
    const from = /\r\nFrom: (.*)\r\n/.exec(text)?.[1] ?? '';
    const to = response.header('to') ?? '';
    const connected = response.status >= 200 && response.status < 300;
    // Non-2xx: ACK in the INVITE's transaction (same branch, same Request-URI). 2xx: a new
    // transaction to the Contact, routed through the engine.
    const contact = /<([^>]+)>/.exec(response.header('contact') ?? '')?.[1];
    const ackUri = connected && contact ? contact : firstLine.split(' ')[1];
    const dialogLines = (
      method: string,
      n: number,
      ownBranch: string,
      body = '',
      extra: readonly string[] = [],
    ) =>
      [
        `${method} ${ackUri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=${ownBranch};rport`,
        'Max-Forwards: 70',
        `From: ${from}`,
        `To: ${to}`,
        `Call-ID: ${callId}`,
        `CSeq: ${n} ${method}`,
        ...[...(response.headers.get('record-route') ?? [])].reverse().map((r) => `Route: ${r}`),
        ...(method === 'INVITE' || method === 'REFER'
          ? [`Contact: <sip:caller@${this.address}:${this.port}>`]
          : []),
        ...extra,
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
      ].join('\r\n') +
      '\r\n\r\n' +
      body;
    let nextCseq = cseq + 1;
    const ack = dialogLines('ACK', cseq, connected ? `z9hG4bK${token()}` : branch);
    this.acks.set(key, ack);
    this.send(ack);
    return {
      status: response.status,
      reason: response.reason,
      response,
      elapsedMs,
      provisional,
      callId,
      fromTag,
      hangUp: async () => {
        if (!connected) throw new Error(`no call to hang up (${response.status})`);
        const n = nextCseq++;
        const bye = await this.transact(
          dialogLines('BYE', n, `z9hG4bK${token()}`),
          `${callId}|${n} BYE`,
          8000,
          [],
        );
        return bye.status;
      },
      request: async (method: string, headers: readonly string[]) => {
        if (!connected) throw new Error(`no call to send ${method} in (${response.status})`);
        const n = nextCseq++;
        return this.transact(
          dialogLines(method, n, `z9hG4bK${token()}`, '', headers),
          `${callId}|${n} ${method}`,
          8000,
          [],
        );
      },
      reinvite: async (body: string) => {
        if (!connected) throw new Error(`no call to re-INVITE (${response.status})`);
        const n = nextCseq++;
        const reinviteKey = `${callId}|${n} INVITE`;
        const reBranch = `z9hG4bK${token()}`;
        const answer = await this.transact(dialogLines('INVITE', n, reBranch, body), reinviteKey, 8000, []);
        // 2xx: a new transaction; other finals: ACKed in the INVITE's own transaction.
        const ok = answer.status >= 200 && answer.status < 300;
        const reAck = dialogLines('ACK', n, ok ? `z9hG4bK${token()}` : reBranch);
        this.acks.set(reinviteKey, reAck);
        this.send(reAck);
        return answer;
      },
    };
  }

  /**
   * A device call: INVITE, the 401 challenge, INVITE with `authorization(challenge, uri)` (default:
   * a correct MD5 digest of `user` / `password`). Resolves with both answers.
   */
  async deviceInvite(
    options: InviteOptions & {
      user: string;
      password: string;
      /** The challenge answered (default MD5). */
      algorithm?: 'MD5' | 'SHA-256';
      authorization?: (challenge: ReturnType<typeof challengesOf>[number], uri: string) => string;
    },
  ): Promise<{ challenge: InviteResult; answer: InviteResult }> {
    const callId = options.callId ?? `${token()}@${this.address}`;
    const fromTag = options.fromTag ?? token();
    const first = await this.invite({ ...options, fromUser: options.user, callId, fromTag, cseq: 1 });
    if (first.status !== 401)
      throw new Error(`expected a 401 challenge, got ${first.status}:\n${first.response.raw}`);
    const algorithm = options.algorithm ?? 'MD5';
    const challenge = challengesOf(first.response).find((c) => c.algorithm.toUpperCase() === algorithm);
    if (!challenge) throw new Error(`no ${algorithm} challenge in:\n${first.response.raw}`);
    const uri = `sip:${options.did ?? '+16173333456'}@${options.host ?? this.targetHostport}`;
    const header = options.authorization
      ? options.authorization(challenge, uri)
      : authorization(challenge, {
          username: options.user,
          password: options.password,
          uri,
          method: 'INVITE',
        });
    const answer = await this.invite({
      ...options,
      fromUser: options.user,
      callId,
      fromTag,
      cseq: 2,
      headers: [...(options.headers ?? []), `Authorization: ${header}`],
    });
    return { challenge: first, answer };
  }
}
