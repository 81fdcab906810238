/**
 * An RTP endpoint for in-dialog tests: a UDP socket whose address goes into a sipp scenario's SDP
 * (sipp then only does the SIP), sending PCMA every 20 ms towards rtpengine and logging every packet
 * it receives with its arrival time, payload type and (telephone-event) event code.
 */
import { createSocket, type Socket } from 'node:dgram';
import { ngCommand, type RtpengineService } from '@sbc/testkit';

export interface ReceivedRtp {
  at: number;
  payloadType: number;
  /** RFC 4733 event code of a telephone-event packet (payload type 101). */
  event?: number;
}

export class RtpProbe {
  readonly received: ReceivedRtp[] = [];
  sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private digit: { event: number; samples: number; elapsed: number; start: number } | undefined;
  private nextTimestamp: () => number = () => 0;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (packet) => {
      if (packet.length < 12) return;
      const payloadType = packet[1]! & 0x7f;
      const entry: ReceivedRtp = { at: Date.now(), payloadType };
      if (payloadType === 101 && packet.length >= 16) entry.event = packet[12]!;
      this.received.push(entry);
    });
  }

  static async open(address: string): Promise<RtpProbe> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new RtpProbe(socket, address, socket.address().port);
  }

  /** Sends PCMA (silence) to `host:port` every 20 ms until `stop` (digits of `sendDtmf` in between). */
  startSending(host: string, port: number): void {
    const ssrc = Math.floor(Math.random() * 0xffffffff);
    let seq = Math.floor(Math.random() * 0xffff);
    let timestamp = Math.floor(Math.random() * 0xffffffff);
    const header = (payloadType: number, marker: boolean, ts: number) => {
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = payloadType | (marker ? 0x80 : 0);
      h.writeUInt16BE(seq, 2);
      h.writeUInt32BE(ts >>> 0, 4);
      h.writeUInt32BE(ssrc >>> 0, 8);
      seq = (seq + 1) & 0xffff;
      return h;
    };
    this.timer = setInterval(() => {
      const digit = this.digit;
      if (digit) {
        // RFC 4733 §2.5: one event, its timestamp fixed at the start, the duration growing; the
        // end bit set on the last packet, which is sent three times.
        digit.elapsed += 160;
        const ended = digit.elapsed >= digit.samples;
        const payload = Buffer.from([digit.event, (ended ? 0x80 : 0) | 10, 0, 0]);
        payload.writeUInt16BE(Math.min(digit.elapsed, 0xffff), 2);
        const copies = ended ? 3 : 1;
        for (let i = 0; i < copies; i++)
          this.socket.send(
            Buffer.concat([header(101, digit.elapsed === 160 && i === 0, digit.start), payload]),
            port,
            host,
          );
        timestamp = (timestamp + 160) >>> 0;
        if (ended) this.digit = undefined;
        return;
      }
      const packet = Buffer.concat([header(8, false, timestamp), Buffer.alloc(160, 0xd5)]);
      timestamp = (timestamp + 160) >>> 0;
      this.socket.send(packet, port, host);
      this.sent++;
    }, 20);
    this.nextTimestamp = () => timestamp;
  }

  /** While sending: the next packets carry the RFC 4733 event `event` (0–9, 10 `*`, 11 `#`) for `durationMs`. */
  sendDtmf(event: number, durationMs: number): void {
    this.digit = { event, samples: durationMs * 8, elapsed: 0, start: this.nextTimestamp() };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.socket.close();
  }

  /** Audio (non telephone-event) packets received in [from, to). */
  audioBetween(from: number, to: number): number {
    return this.received.filter((p) => p.payloadType !== 101 && p.at >= from && p.at < to).length;
  }

  /** The longest silence between two audio packets received, and when it started. */
  longestAudioGap(): { ms: number; from: number } {
    const audio = this.received.filter((p) => p.payloadType !== 101);
    let best = { ms: 0, from: 0 };
    for (let i = 1; i < audio.length; i++) {
      const ms = audio[i]!.at - audio[i - 1]!.at;
      if (ms > best.ms) best = { ms, from: audio[i - 1]!.at };
    }
    return best;
  }

  /** Distinct telephone-event codes received. */
  events(): number[] {
    return [...new Set(this.received.flatMap((p) => (p.event === undefined ? [] : [p.event])))];
  }
}

/** One stream of an rtpengine `query`: its tag, rtpengine's port for it, the peer's port and packet count. */
export interface QueriedStream {
  tag: string;
  localPort: number;
  endpointPort: number;
  packets: number;
}

/** rtpengine's view of the call's first RTP stream per tag. */
export async function queryStreams(rtpengine: RtpengineService, callId: string): Promise<QueriedStream[]> {
  const answer = await ngCommand(rtpengine.host, rtpengine.ngPort, { command: 'query', 'call-id': callId });
  type Stream = {
    'local port'?: number;
    endpoint?: { port?: number };
    'advertised endpoint'?: { port?: number };
    stats?: { packets?: number };
  };
  const tags = (answer.tags ?? {}) as Record<string, { medias?: { streams?: Stream[] }[] }>;
  return Object.entries(tags).flatMap(([tag, info]) => {
    const stream = info.medias?.[0]?.streams?.[0];
    if (!stream) return [];
    return [
      {
        tag,
        localPort: Number(stream['local port'] ?? 0),
        endpointPort: Number(stream['advertised endpoint']?.port ?? stream.endpoint?.port ?? 0),
        packets: Number(stream.stats?.packets ?? 0),
      },
    ];
  });
}
