/**
 * What the REGISTER load and the call load share: one UDP phone (testkit's SipPhone) per loopback
 * address, each running attempts back to back until stopped, every attempt recorded with its time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SipPhone } from '@sbc/testkit';

export abstract class PhoneLoad<A extends { at: number }> {
  readonly attempts: A[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private phones: SipPhone[] = [];

  constructor(
    private readonly phoneOptions: { target: string; addresses: readonly string[] },
    /** Pause between two attempts of one phone (ms). */
    private readonly pauseMs: number,
  ) {}

  /** One attempt of `phone`, recorded when it resolves. */
  protected abstract attempt(phone: SipPhone): Promise<A>;

  async start(): Promise<void> {
    this.running = true;
    const { target, addresses } = this.phoneOptions;
    this.phones = await Promise.all(addresses.map((a) => SipPhone.open(a, target)));
    this.workers = this.phones.map((phone) => this.work(phone));
  }

  /** Stops once the attempts in progress have ended. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    for (const phone of this.phones) phone.close();
    this.phones = [];
  }

  /** Attempts answered in [from, to). */
  between(from: number, to = Infinity): A[] {
    return this.attempts.filter((a) => a.at >= from && a.at < to);
  }

  /** Resolves once `count` more attempts satisfy `good`; rejects naming `what` after `timeoutMs`. */
  protected async waitFor(good: (a: A) => boolean, count: number, timeoutMs: number, what: string) {
    const done = () => this.attempts.filter(good).length;
    const target = done() + count;
    const deadline = Date.now() + timeoutMs;
    while (done() < target) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} ${what} in ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  private async work(phone: SipPhone): Promise<void> {
    while (this.running) {
      this.attempts.push(await this.attempt(phone));
      await sleep(this.pauseMs);
    }
  }
}
