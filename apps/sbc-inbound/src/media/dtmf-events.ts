/**
 * RFC 4733 (RFC 2833) events rtpengine saw in a call's RTP. rtpengine run with
 * `--dtmf-log-dest=<sbc>:<DTMF_LISTEN_PORT>` sends one UDP datagram of JSON per digit, when the
 * event ends:
 *
 *   {"callid":"…","source_tag":"<sender's tag>","tags":[…],"type":"DTMF","source_ip":"…",
 *    "event":9,"duration":200,"volume":10}
 *
 * (`duration` in ms). jambonz has these relayed by its rtpengine sidecar after a `subscribeDTMF`;
 * here rtpengine sends straight to the SBC, which keeps the subscriptions itself: one fewer process,
 * same events. Datagrams from any address that is not one of the SBC's rtpengines are dropped: the
 * port must not let anyone on the network type digits into a call.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '@sbc/service';

export interface DtmfEvent {
  callId: string;
  /** The tag of the party that sent the digit (its From or To tag in the rtpengine session). */
  sourceTag: string;
  /** `0`–`9`, `*`, `#`, `A`–`D`. */
  code: string;
  durationMs: number;
}

/** RFC 4733 §3.2: events 0–9 are the digits, 10 `*`, 11 `#`, 12–15 `A`–`D` (16, flash, is not a digit). */
const EVENT_CODES = '0123456789*#ABCD';

/** The event of one datagram from rtpengine; undefined when it is not a DTMF event it could send. */
export function parseDtmfEvent(datagram: Buffer | string): DtmfEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(datagram.toString());
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { callid, source_tag, event, duration, type } = value as Record<string, unknown>;
  if (type !== undefined && type !== 'DTMF') return undefined;
  if (typeof callid !== 'string' || !callid || typeof source_tag !== 'string' || !source_tag)
    return undefined;
  if (typeof event !== 'number' || !Number.isInteger(event) || event < 0 || event >= EVENT_CODES.length)
    return undefined;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) return undefined;
  return {
    callId: callid,
    sourceTag: source_tag,
    code: EVENT_CODES[event]!,
    durationMs: Math.round(duration),
  };
}

export type DtmfEventHandler = (event: DtmfEvent) => void;

export interface DtmfEventCounts {
  /** Events delivered to a call of this SBC. */
  delivered: number;
  /** Well-formed events for no call (or no party) subscribed here. */
  unsubscribed: number;
  /** Datagrams that were not a DTMF event, or came from an address that is no rtpengine of ours. */
  dropped: number;
}

export interface DtmfEventsOptions {
  host: string;
  port: number;
  /** Whether `address` is one of the rtpengines: only they may send events. */
  isRtpengine: (address: string) => boolean;
  logger: Logger;
  /** Called once per datagram with what became of it (metrics). */
  observe?: (outcome: keyof DtmfEventCounts) => void;
}

/** The UDP listener of DTMF_LISTEN_PORT and the calls subscribed to their callers' digits. */
export class DtmfEvents {
  readonly counts: DtmfEventCounts = { delivered: 0, unsubscribed: 0, dropped: 0 };
  private readonly handlers = new Map<string, DtmfEventHandler>();

  private constructor(
    private readonly socket: Socket,
    private readonly options: DtmfEventsOptions,
  ) {
    socket.on('message', (datagram, from) => this.receive(datagram, from.address));
    socket.on('error', (err) => options.logger.warn({ err: String(err) }, 'DTMF event listener error'));
  }

  /** Binds `host:port`; rejects with an error naming the port when it cannot. */
  static async open(options: DtmfEventsOptions): Promise<DtmfEvents> {
    const socket = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) =>
        reject(
          new Error(
            `cannot listen for rtpengine DTMF events on ${options.host}:${options.port}: ${err.message}`,
          ),
        ),
      );
      socket.bind(options.port, options.host, () => resolve());
    });
    socket.removeAllListeners('error');
    return new DtmfEvents(socket, options);
  }

  /** The bound port (DTMF_LISTEN_PORT, or the one the system chose for 0). */
  get port(): number {
    return this.socket.address().port;
  }

  /** Delivers the digits `tag` sends in `callId` to `handler` until the returned function is called. */
  subscribe(callId: string, tag: string, handler: DtmfEventHandler): () => void {
    const key = `${callId}\n${tag}`;
    this.handlers.set(key, handler);
    return () => {
      if (this.handlers.get(key) === handler) this.handlers.delete(key);
    };
  }

  close(): void {
    this.handlers.clear();
    this.socket.close();
  }

  private receive(datagram: Buffer, address: string): void {
    const event = this.options.isRtpengine(address) ? parseDtmfEvent(datagram) : undefined;
    if (!event) {
      this.options.logger.debug({ from: address, bytes: datagram.length }, 'DTMF event datagram dropped');
      return this.count('dropped');
    }
    const handler = this.handlers.get(`${event.callId}\n${event.sourceTag}`);
    if (!handler) return this.count('unsubscribed');
    this.count('delivered');
    handler(event);
  }

  private count(outcome: keyof DtmfEventCounts): void {
    this.counts[outcome]++;
    this.options.observe?.(outcome);
  }
}
