/**
 * Which sbc-inbound instance holds a call, asked over Redis pub/sub when a Replaces INVITE names a
 * call this instance does not hold. Nothing is written per call: an instance only answers the
 * question on `<cluster>:inbound:who-has` for calls in its own table, so a normal call costs no
 * Redis work and a Replaces miss costs one PUBLISH and at most `timeoutMs` of waiting.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '@sbc/redis';
import type { Logger } from '@sbc/service';

export interface CallDirectoryOptions {
  clusterId: string;
  /** Whether this instance holds the call whose caller dialog has `callId`. */
  holds: (callId: string) => boolean;
  logger: Logger;
  /** Longest wait for another instance's answer (default 300 ms). */
  timeoutMs?: number;
}

interface Question {
  callId: string;
  replyTo: string;
}

export class CallDirectory {
  /** This instance's name in answers (random per process). */
  readonly instance = randomBytes(6).toString('hex');
  private readonly questions: string;
  private readonly replyPrefix: string;
  private readonly replies: string;
  private subscriber: Redis | undefined;
  private readonly waiting = new Map<string, (owner: string) => void>();

  constructor(
    private readonly redis: Redis,
    private readonly options: CallDirectoryOptions,
  ) {
    this.questions = `${options.clusterId}:inbound:who-has`;
    this.replyPrefix = `${options.clusterId}:inbound:has:`;
    this.replies = `${this.replyPrefix}${this.instance}`;
  }

  /**
   * Subscribes, on a connection of its own (a subscribed connection can do nothing else) that
   * queues the subscription until Redis is reachable and renews it after each reconnection.
   * Resolves once subscribed; the app does not wait for that.
   */
  async start(): Promise<void> {
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    this.subscriber = subscriber;
    subscriber.on('error', (err: Error) => this.options.logger.debug({ err: err.message }, 'call directory'));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.questions) void this.answer(message);
      else if (channel === this.replies)
        this.waiting.get(message.split('\n')[0] ?? '')?.(message.split('\n')[1] ?? '');
    });
    await subscriber.subscribe(this.questions, this.replies);
  }

  stop(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /**
   * The instance holding `callId`, or undefined when none answers within the timeout (or Redis
   * cannot be asked: then the caller gets the same answer as for an unknown call).
   */
  async ownerOf(callId: string): Promise<string | undefined> {
    const question: Question = { callId, replyTo: this.replies };
    return new Promise((resolve) => {
      const done = (owner: string | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(callId);
        resolve(owner);
      };
      const timer = setTimeout(() => done(undefined), this.options.timeoutMs ?? 300);
      this.waiting.set(callId, (owner) => done(owner));
      this.redis
        .publish(this.questions, JSON.stringify(question))
        // Only this instance listens: nobody else can hold the call.
        .then((listeners) => listeners <= 1 && done(undefined))
        .catch(() => done(undefined));
    });
  }

  private async answer(message: string): Promise<void> {
    let question: Question;
    try {
      question = JSON.parse(message) as Question;
    } catch {
      return;
    }
    if (typeof question.callId !== 'string' || typeof question.replyTo !== 'string') return;
    if (question.replyTo === this.replies || !question.replyTo.startsWith(this.replyPrefix)) return;
    if (!this.options.holds(question.callId)) return;
    await this.redis.publish(question.replyTo, `${question.callId}\n${this.instance}`).catch(() => undefined);
  }
}
