/**
 * The rtpengines media goes through: a fixed list (JAMBONES_RTPENGINES, several engines really
 * work here) or the `<cluster>:active-rtp` set kept by sbc-options, re-read every 30 s. Each engine
 * is pinged; offers go round robin to the engines that answer, and an offer an engine does not
 * answer is retried on the next one. A call stays on the engine that took its offer.
 */
import { Client, type NgAnswer, type NgMessage } from 'rtpengine-client';
import type { Logger } from '@sbc/service';

export interface RtpengineAddress {
  host: string;
  port: number;
}

/** One engine as the pool sees it. */
export interface Rtpengine extends RtpengineAddress {
  /** `host:port`. */
  readonly id: string;
  /** False after a command went unanswered, until a ping is answered again. */
  active: boolean;
}

/** No engine answered (all down, or none known): jambonz answers 480. */
export class RtpengineUnavailableError extends Error {
  override readonly name = 'RtpengineUnavailableError';
}

/** An engine answered `result: error` (e.g. an SDP it cannot use): the caller gets 488. */
export class RtpengineRejectedError extends Error {
  override readonly name = 'RtpengineRejectedError';
  constructor(
    readonly command: string,
    readonly errorReason: string,
    readonly engine: string,
  ) {
    super(`rtpengine ${engine} refused ${command}: ${errorReason}`);
  }
}

export type RtpengineCommand =
  | 'offer'
  | 'answer'
  | 'delete'
  | 'ping'
  | 'query'
  | 'blockMedia'
  | 'unblockMedia'
  | 'blockDTMF'
  | 'unblockDTMF'
  | 'playDTMF'
  | 'subscribeRequest'
  | 'subscribeAnswer'
  | 'unsubscribe';

export interface RtpenginePoolOptions {
  /** Fixed engines; undefined: `members()` is asked every `refreshIntervalMs`. */
  engines?: readonly RtpengineAddress[];
  /** The IPs of `<cluster>:active-rtp`. */
  /** The engines now: `<cluster>:active-rtp`, or a K8S service name resolved in DNS. */
  members?: () => Promise<RtpengineAddress[]>;
  refreshIntervalMs: number;
  pingIntervalMs: number;
  timeoutMs: number;
  localPort: number;
  logger: Logger;
  /** Latency of each answered command (seconds), for the metrics. */
  observe?: (command: RtpengineCommand, engine: string, seconds: number, ok: boolean) => void;
}

/**
 * NG over UDP loses datagrams when answers pile up in a small socket buffer (the kernel default
 * holds ~50 answers) while the event loop is busy: ask for a large one (capped by net.core.rmem_max).
 */
const NG_RECEIVE_BUFFER = 4 * 1024 * 1024;
/** A command is sent up to this many times (each with its share of the timeout) before an engine counts as down. */
const NG_ATTEMPTS = 3;
/** Answers that mean "this engine cannot take it now", not "this SDP is wrong": try another engine. */
const ENGINE_BUSY = /ports|resources|overload|shutting down/i;

const idOf = (a: RtpengineAddress) =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

export class RtpenginePool {
  private readonly client: Client;
  private list: Rtpengine[] = [];
  private next = 0;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly options: RtpenginePoolOptions) {
    this.client = new Client({
      localPort: options.localPort,
      timeout: Math.max(50, Math.ceil(options.timeoutMs / NG_ATTEMPTS)),
    });
    this.client.on('listening', () => {
      try {
        this.client.socket.setRecvBufferSize(NG_RECEIVE_BUFFER);
      } catch (err) {
        options.logger.warn({ err }, 'cannot enlarge the rtpengine NG socket buffer');
      }
    });
    // Late answers to timed-out commands arrive as errors on the client: nothing waits for them.
    this.client.on('error', (err) => options.logger.debug({ err: err.message }, 'rtpengine client'));
    if (options.engines) this.list = options.engines.map((a) => ({ ...a, id: idOf(a), active: true }));
  }

  engines(): readonly Rtpengine[] {
    return this.list;
  }

  /** Reads the engine set (when dynamic), pings every engine, then keeps doing both. */
  async start(): Promise<void> {
    await this.refresh();
    await this.pingAll();
    const ping = setInterval(() => void this.pingAll(), this.options.pingIntervalMs);
    this.timers.push(ping);
    if (!this.options.engines) {
      this.timers.push(setInterval(() => void this.refresh(), this.options.refreshIntervalMs));
    }
    for (const timer of this.timers) timer.unref();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    try {
      this.client.close();
    } catch {
      // already closed
    }
  }

  /**
   * Sends one command to one engine, again when it goes unanswered (NG commands are idempotent for
   * a call: a repeated offer gets the same ports). Rejects with RtpengineUnavailableError when the
   * engine never answered or answered that it is out of ports, RtpengineRejectedError on any other
   * `result: error`.
   */
  async command(engine: Rtpengine, command: RtpengineCommand, message: NgMessage = {}): Promise<NgAnswer> {
    const started = performance.now();
    let answer: NgAnswer | undefined;
    try {
      for (let attempt = 1; answer === undefined; attempt++) {
        try {
          answer = await this.client[command](engine.port, engine.host, message);
        } catch (err) {
          if (attempt >= NG_ATTEMPTS) throw err;
        }
      }
    } catch (err) {
      this.options.observe?.(command, engine.id, (performance.now() - started) / 1000, false);
      // rtpengine-client's timeout text names the last engine it sent to, not this one: not logged.
      if (engine.active) this.options.logger.warn({ engine: engine.id, command }, 'rtpengine did not answer');
      engine.active = false;
      throw new RtpengineUnavailableError(
        `rtpengine ${engine.id} did not answer ${command}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    this.options.observe?.(command, engine.id, (performance.now() - started) / 1000, true);
    engine.active = true;
    if (answer.result === 'error') {
      const reason = answer['error-reason'] ?? 'unknown error';
      if (ENGINE_BUSY.test(reason)) {
        this.options.logger.warn({ engine: engine.id, command, reason }, 'rtpengine cannot take the call');
        throw new RtpengineUnavailableError(`rtpengine ${engine.id} refused ${command}: ${reason}`);
      }
      throw new RtpengineRejectedError(command, reason, engine.id);
    }
    return answer;
  }

  /**
   * An offer on the next active engine; an engine that does not answer is marked down and the
   * offer goes to the next. Rejects with RtpengineUnavailableError when none answered.
   */
  async offer(message: NgMessage): Promise<{ engine: Rtpengine; answer: NgAnswer }> {
    const candidates = this.rotation();
    if (candidates.length === 0) throw new RtpengineUnavailableError('no rtpengine is available');
    let last: unknown;
    for (const engine of candidates) {
      try {
        return { engine, answer: await this.command(engine, 'offer', message) };
      } catch (err) {
        if (!(err instanceof RtpengineUnavailableError)) throw err;
        last = err;
      }
    }
    throw new RtpengineUnavailableError(`no rtpengine answered the offer (${candidates.length} tried)`, {
      cause: last,
    });
  }

  /** Active engines starting at the round-robin position; inactive ones last, as a last resort. */
  private rotation(): Rtpengine[] {
    const n = this.list.length;
    if (n === 0) return [];
    const start = this.next++ % n;
    const ordered = [...this.list.slice(start), ...this.list.slice(0, start)];
    return [...ordered.filter((e) => e.active), ...ordered.filter((e) => !e.active)];
  }

  private async pingAll(): Promise<void> {
    await Promise.all(
      this.list.map(async (engine) => {
        const was = engine.active;
        try {
          await this.command(engine, 'ping');
          if (!was) this.options.logger.info({ engine: engine.id }, 'rtpengine answers again');
        } catch {
          // command() marked it inactive and logged it
        }
      }),
    );
  }

  private async refresh(): Promise<void> {
    if (this.options.engines || !this.options.members || this.closed) return;
    let members: RtpengineAddress[];
    try {
      members = await this.options.members();
    } catch (err) {
      this.options.logger.warn({ err }, 'cannot read the rtpengine set; keeping the engines known');
      return;
    }
    const known = new Map(this.list.map((e) => [e.id, e]));
    const fresh: Rtpengine[] = members.map(
      (address) => known.get(idOf(address)) ?? { ...address, id: idOf(address), active: true },
    );
    const before = this.list.map((e) => e.id).join(',');
    this.list = fresh;
    const after = fresh.map((e) => e.id).join(',');
    if (before !== after) this.options.logger.info({ engines: after }, 'rtpengines');
  }
}
