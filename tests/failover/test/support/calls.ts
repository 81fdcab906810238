/**
 * Continuous call load through sbc-inbound: callers on a carrier gateway's address place calls one
 * after the other (INVITE with a PCMA offer, ACK, a short hold, BYE), and a feature server answers
 * them. Each connected call is checked while it is up: its media is an rtpengine session (the 200
 * carries rtpengine's address, `query` knows the Call-ID) and the account's call counter counts it;
 * a 200 without both is WRONG. Every outcome is recorded with its time.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { ngCommand, type SipPhone, type SipResponseMessage } from '@sbc/testkit';
import { PhoneLoad } from './phone-load.js';

const token = (): string => randomBytes(6).toString('hex');

function headersOf(raw: string): { startLine: string; headers: Map<string, string[]> } {
  const [head = ''] = raw.split('\r\n\r\n');
  const [startLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers };
}

/**
 * A feature server on UDP: answers every INVITE 200 with a PCMA answer (retransmitted until the
 * ACK), every BYE / CANCEL / other request 200. `up` holds the dialogs the SBC set up and has not
 * ended: after the load stops it must be empty (no call left half-up towards the feature server).
 */
export class FeatureServer {
  readonly up = new Set<string>();
  invites = 0;
  private readonly unacked = new Map<string, NodeJS.Timeout>();

  private constructor(
    private readonly socket: Socket,
    readonly hostport: string,
  ) {
    socket.on('message', (buffer, rinfo) => this.onMessage(buffer.toString('utf8'), rinfo));
  }

  static async open(address: string): Promise<FeatureServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new FeatureServer(socket, `${address}:${socket.address().port}`);
  }

  close(): void {
    for (const timer of this.unacked.values()) clearInterval(timer);
    this.socket.close();
  }

  private onMessage(raw: string, rinfo: RemoteInfo): void {
    const { startLine, headers } = headersOf(raw);
    if (startLine.startsWith('SIP/2.0')) return;
    const method = startLine.split(' ')[0] ?? '';
    const callId = headers.get('call-id')?.[0] ?? '';
    if (method === 'ACK') {
      clearInterval(this.unacked.get(callId));
      this.unacked.delete(callId);
      return;
    }
    const header = (name: string) => headers.get(name) ?? [];
    const to = header('to')[0] ?? '';
    const lines = [
      'SIP/2.0 200 OK',
      ...header('via').map((v) => `Via: ${v}`),
      ...(method === 'INVITE' ? header('record-route').map((r) => `Record-Route: ${r}`) : []),
      `From: ${header('from')[0] ?? ''}`,
      `To: ${/;tag=/.test(to) ? to : `${to};tag=fs${token()}`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${header('cseq')[0] ?? ''}`,
      `Contact: <sip:fs@${this.hostport}>`,
    ];
    let body = '';
    if (method === 'INVITE') {
      const [address] = this.hostport.split(':');
      body = [
        'v=0',
        `o=fs 1 1 IN IP4 ${address}`,
        's=-',
        `c=IN IP4 ${address}`,
        't=0 0',
        'm=audio 41000 RTP/AVP 8 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=sendrecv',
        '',
      ].join('\r\n');
      lines.push('Content-Type: application/sdp');
    }
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    const text = `${lines.join('\r\n')}\r\n\r\n${body}`;
    const send = () => this.socket.send(text, rinfo.port, rinfo.address);
    send();
    if (method === 'INVITE' && !/;tag=/.test(to)) {
      this.invites++;
      this.up.add(callId);
      clearInterval(this.unacked.get(callId));
      // No ACK within 2 s: the call never came up (RFC 3261 gives up later and sends a BYE).
      let left = 4;
      const timer = setInterval(() => {
        if (--left <= 0) {
          clearInterval(timer);
          this.unacked.delete(callId);
          this.up.delete(callId);
        } else send();
      }, 500);
      this.unacked.set(callId, timer);
    }
    if (method === 'BYE' || method === 'CANCEL') this.up.delete(callId);
  }
}

/**
 * `connected`: 200, checked, BYE 200. `unavailable`: 503 (with Retry-After from the app) or 480.
 * `dropped`: no final answer. `cut`: a connected call whose BYE found no dialog (the failure ended
 * it; what it left behind is checked afterwards). `wrong`: anything else, a 200 whose media or
 * counter was not set up among them.
 */
export type CallOutcome = 'connected' | 'unavailable' | 'dropped' | 'cut' | 'wrong';

export interface CallAttempt {
  at: number;
  outcome: CallOutcome;
  status: number | undefined;
  retryAfter: string | undefined;
  detail: string;
}

export interface CallLoadOptions {
  target: string;
  /** Caller addresses (a carrier gateway's address; one caller each). */
  addresses: string[];
  did: string;
  rtpengine: { host: string; ngPort: number };
  /** Calls this account has up (`incalls:account:<sid>`, a Redis read that may fail for a while). */
  accountCalls: () => Promise<number>;
  holdMs: number;
  timeoutMs: number;
}

export class CallLoad extends PhoneLoad<CallAttempt> {
  constructor(private readonly options: CallLoadOptions) {
    super(options, 10);
  }

  waitForConnected(count: number, timeoutMs = 20_000): Promise<void> {
    return this.waitFor((a) => a.outcome === 'connected', count, timeoutMs, 'calls connected');
  }

  protected attempt(phone: SipPhone): Promise<CallAttempt> {
    return this.call(phone);
  }

  private async call(phone: SipPhone): Promise<CallAttempt> {
    const { did, target, timeoutMs } = this.options;
    const callId = `${token()}@${phone.address}`;
    const fromTag = token();
    const record = (outcome: CallOutcome, res: SipResponseMessage | undefined, detail = ''): CallAttempt => ({
      at: Date.now(),
      outcome,
      status: res?.status,
      retryAfter: res?.header('Retry-After'),
      detail: detail || (res?.header('X-Reason') ?? res?.raw.split('\r\n')[0] ?? ''),
    });
    const offer = [
      'v=0',
      `o=caller 1 1 IN IP4 ${phone.address}`,
      's=-',
      `c=IN IP4 ${phone.address}`,
      't=0 0',
      'm=audio 40000 RTP/AVP 8 101',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=sendrecv',
      '',
    ].join('\r\n');
    const from = `<sip:15085551212@${phone.address}>;tag=${fromTag}`;
    const branch = `z9hG4bK${token()}`;
    const invite = [
      `INVITE sip:${did}@${target} SIP/2.0`,
      `Via: SIP/2.0/UDP ${phone.address}:${phone.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: <sip:${did}@${target}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:caller@${phone.address}:${phone.port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(offer)}`,
      '',
      offer,
    ].join('\r\n');
    let res: SipResponseMessage;
    try {
      res = await phone.send(invite, timeoutMs);
    } catch {
      return record('dropped', undefined, 'no final answer to the INVITE');
    }
    const connected = res.status === 200;
    const contact = /<([^>]+)>/.exec(res.header('contact') ?? '')?.[1];
    const routes = [...(res.headers.get('record-route') ?? [])].reverse().map((r) => `Route: ${r}`);
    const inDialog = (method: string, cseq: number, ownBranch: string) =>
      [
        `${method} ${connected && contact ? contact : `sip:${did}@${target}`} SIP/2.0`,
        `Via: SIP/2.0/UDP ${phone.address}:${phone.port};branch=${ownBranch};rport`,
        'Max-Forwards: 70',
        `From: ${from}`,
        `To: ${res.header('to') ?? ''}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        ...(connected ? routes : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    phone.transmit(inDialog('ACK', 1, connected ? `z9hG4bK${token()}` : branch));
    if (!connected) {
      if (res.status === 503 || res.status === 480) return record('unavailable', res);
      return record('wrong', res);
    }
    // Up: media through rtpengine and the call counted, else the 200 was wrong.
    const problems = await this.checkUp(callId, res);
    await sleep(this.options.holdMs);
    let bye: SipResponseMessage | undefined;
    try {
      bye = await phone.send(inDialog('BYE', 2, `z9hG4bK${token()}`), timeoutMs);
    } catch {
      bye = undefined;
    }
    if (problems.length > 0) return record('wrong', res, problems.join('; '));
    if (bye?.status === 200) return record('connected', res);
    // The dialog is gone (481) or nobody answered: the failure cut the call.
    return record('cut', res, `BYE answered ${bye?.status ?? 'nothing'}`);
  }

  private async checkUp(callId: string, res: SipResponseMessage): Promise<string[]> {
    const problems: string[] = [];
    const { rtpengine } = this.options;
    const media = /\r\nc=IN IP4 ([^\r\n]+)/.exec(res.raw)?.[1];
    if (media !== rtpengine.host) problems.push(`the 200's media address is ${media}, not rtpengine's`);
    const query = await ngCommand(rtpengine.host, rtpengine.ngPort, {
      command: 'query',
      'call-id': callId,
    }).catch((err: unknown) => ({ result: 'error', 'error-reason': String(err) }));
    if (query.result !== 'ok')
      problems.push(`rtpengine has no session: ${JSON.stringify(query['error-reason'])}`);
    // The counter may be unreadable for a while (Redis failing over): retry, the call stays up.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const calls = await this.options.accountCalls();
        if (calls < 1) problems.push(`incalls:account is ${calls} while the call is up`);
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          problems.push(`cannot read the call counter: ${String(err)}`);
          break;
        }
        await sleep(100);
      }
    }
    return problems;
  }
}

/** The longest stretch without a connected call that overlaps [from, to] (seconds). */
export function longestCallOutage(attempts: readonly CallAttempt[], from: number, to: number): number {
  const oks = attempts
    .filter((a) => a.outcome === 'connected')
    .map((a) => a.at)
    .sort((x, y) => x - y);
  let worst = 0;
  let previous = oks.filter((t) => t <= from).pop() ?? from;
  for (const t of oks.filter((t) => t > from)) {
    if (previous <= to) worst = Math.max(worst, t - previous);
    previous = t;
  }
  return worst / 1000;
}
