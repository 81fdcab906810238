/**
 * A SIP-over-TLS softphone (Debian's sipp is built without TLS): one TLS connection to the engine's
 * TLS listener, an INVITE with a PCMA offer, the 401 answered with testkit's digest, the 200 ACKed
 * along its Record-Route, RTP sent every 20 ms from a UDP socket and RTP received counted, BYE sent
 * or a BYE from the far end answered 200.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as connectTcp } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { authorization, challengesOf, type SipResponseMessage } from '@sbc/testkit';

interface SipMessage {
  startLine: string;
  headers: Map<string, string[]>;
  body: string;
  raw: string;
}

const token = () => randomBytes(6).toString('hex');

function parse(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  const [startLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers, body: raw.slice(split + 4), raw };
}

function asResponse(m: SipMessage): SipResponseMessage {
  const match = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(m.startLine)!;
  return {
    status: Number(match[1]),
    reason: match[2] ?? '',
    headers: m.headers,
    raw: m.raw,
    header: (name) => m.headers.get(name.toLowerCase())?.[0],
  };
}

export class TlsPhone {
  /** RTP packets received from the far end (through rtpengine). */
  rtpReceived = 0;
  rtpSent = 0;
  /** Requests the far end sent in the dialog (e.g. BYE). */
  readonly requests: string[] = [];
  private buffer = '';
  private waiting: ((m: SipMessage) => void)[] = [];
  private queue: SipMessage[] = [];
  private rtpTimer: NodeJS.Timeout | undefined;
  private dialog:
    | { callId: string; fromTag: string; toTag: string; target: string; route: string[]; cseq: number }
    | undefined;

  private constructor(
    private readonly tls: TLSSocket,
    private readonly rtp: UdpSocket,
    readonly address: string,
  ) {
    tls.setEncoding('utf8');
    tls.on('data', (chunk: string) => this.receive(chunk));
    rtp.on('message', () => this.rtpReceived++);
  }

  static async open(address: string, target: string): Promise<TlsPhone> {
    const [host, port] = target.split(':') as [string, string];
    const tcp = connectTcp({ host, port: Number(port), localAddress: address });
    const tls = connect({ socket: tcp, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, address, resolve));
    return new TlsPhone(tls, rtp, address);
  }

  private get via(): string {
    return `SIP/2.0/TLS ${this.address}:${this.tls.localPort};rport;branch=z9hG4bK${token()}`;
  }

  private get contact(): string {
    return `<sip:phone@${this.address}:${this.tls.localPort};transport=tls>`;
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(this.buffer.slice(0, end))?.[1] ?? 0);
      if (this.buffer.length < end + 4 + length) return;
      const message = parse(this.buffer.slice(0, end + 4 + length));
      this.buffer = this.buffer.slice(end + 4 + length);
      if (message.startLine.startsWith('SIP/2.0')) {
        const waiter = this.waiting.shift();
        if (waiter) waiter(message);
        else this.queue.push(message);
      } else this.answerRequest(message);
    }
  }

  private answerRequest(request: SipMessage): void {
    this.requests.push(request.startLine.split(' ')[0]!);
    const h = (name: string) => request.headers.get(name) ?? [];
    if (request.startLine.startsWith('ACK')) return;
    if (request.startLine.startsWith('BYE')) this.stopRtp();
    this.tls.write(
      [
        'SIP/2.0 200 OK',
        ...h('via').map((v) => `Via: ${v}`),
        `From: ${h('from')[0]}`,
        `To: ${h('to')[0]}`,
        `Call-ID: ${h('call-id')[0]}`,
        `CSeq: ${h('cseq')[0]}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  }

  /** The next response with a final status (provisional ones are skipped). */
  private async finalResponse(timeoutMs = 10_000): Promise<SipResponseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message =
        this.queue.shift() ??
        (await new Promise<SipMessage>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error('no SIP response over TLS')),
            deadline - Date.now(),
          );
          this.waiting.push((m) => {
            clearTimeout(timer);
            resolve(m);
          });
        }));
      const response = asResponse(message);
      if (response.status >= 200) return response;
    }
  }

  /** Calls `uri` as `user` (401 answered with `password`); resolves with the final status. */
  async call(uri: string, user: string, realm: string, password: string): Promise<SipResponseMessage> {
    const callId = `${token()}@${this.address}`;
    const fromTag = token();
    const sdp = [
      'v=0',
      `o=phone 1 1 IN IP4 ${this.address}`,
      's=-',
      `c=IN IP4 ${this.address}`,
      't=0 0',
      `m=audio ${this.rtp.address().port} RTP/AVP 8`,
      'a=rtpmap:8 PCMA/8000',
      'a=sendrecv',
      '',
    ].join('\r\n');
    const invite = (cseq: number, extra: string[]) => {
      const via = this.via;
      this.tls.write(
        [
          `INVITE ${uri} SIP/2.0`,
          `Via: ${via}`,
          'Max-Forwards: 70',
          `From: <sip:${user}@${realm}>;tag=${fromTag}`,
          `To: <${uri}>`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} INVITE`,
          `Contact: ${this.contact}`,
          ...extra,
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(sdp)}`,
          '',
          sdp,
        ].join('\r\n'),
      );
      return via;
    };
    const ackFailure = (via: string, cseq: number, res: SipResponseMessage) =>
      this.tls.write(
        [
          `ACK ${uri} SIP/2.0`,
          `Via: ${via}`,
          'Max-Forwards: 70',
          `From: <sip:${user}@${realm}>;tag=${fromTag}`,
          `To: ${res.header('to')}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} ACK`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    let via = invite(1, []);
    let res = await this.finalResponse();
    if (res.status === 401) {
      ackFailure(via, 1, res);
      const [challenge] = challengesOf(res);
      const auth = authorization(challenge!, { username: user, password, uri, method: 'INVITE' });
      via = invite(2, [`Authorization: ${auth}`]);
      res = await this.finalResponse();
    }
    if (res.status !== 200) {
      ackFailure(via, 2, res);
      return res;
    }
    const toTag = /tag=([^;>\s]+)/.exec(res.header('to') ?? '')?.[1] ?? '';
    const target = /<([^>]+)>/.exec(res.header('contact') ?? '')?.[1] ?? uri;
    const route = (res.headers.get('record-route') ?? []).flatMap((v) => v.split(/,(?=\s*<)/)).reverse();
    this.dialog = { callId, fromTag, toTag, target, route, cseq: 2 };
    this.inDialog('ACK', 2);
    const media = parse(res.raw).body;
    const host = /c=IN IP4 (\S+)/.exec(media)?.[1];
    const port = Number(/m=audio (\d+)/.exec(media)?.[1]);
    this.startRtp(host!, port);
    return res;
  }

  private inDialog(method: 'ACK' | 'BYE', cseq: number): void {
    const d = this.dialog!;
    this.tls.write(
      [
        `${method} ${d.target} SIP/2.0`,
        `Via: ${this.via}`,
        'Max-Forwards: 70',
        ...d.route.map((r) => `Route: ${r.trim()}`),
        `From: <sip:phone@${this.address}>;tag=${d.fromTag}`,
        `To: <sip:callee>;tag=${d.toTag}`,
        `Call-ID: ${d.callId}`,
        `CSeq: ${cseq} ${method}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  }

  /** PCMA silence every 20 ms towards `host:port` (rtpengine). */
  private startRtp(host: string, port: number): void {
    const ssrc = randomBytes(4);
    let seq = 0;
    this.rtpTimer = setInterval(() => {
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = 8;
      header.writeUInt16BE(seq++ & 0xffff, 2);
      header.writeUInt32BE((seq * 160) >>> 0, 4);
      ssrc.copy(header, 8);
      this.rtp.send(Buffer.concat([header, Buffer.alloc(160, 0xd5)]), port, host);
      this.rtpSent++;
    }, 20);
  }

  private stopRtp(): void {
    clearInterval(this.rtpTimer);
  }

  /** Sends BYE; resolves with its final status. */
  async hangUp(): Promise<number> {
    this.stopRtp();
    this.inDialog('BYE', ++this.dialog!.cseq);
    return (await this.finalResponse()).status;
  }

  close(): void {
    this.stopRtp();
    this.tls.destroy();
    this.rtp.close();
  }
}
