import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientTransaction } from '../../src/transaction/types.js';
import {
  inbound,
  makeRequest,
  makeResponse,
  PHONE,
  PHONE_TCP,
  RecordingHandlers,
  TransportSendError,
} from './helpers.js';
import { advanceTo, endReason, harness, type Harness } from './setup.js';

let h: Harness;
afterEach(() => {
  h.layer.stop();
  vi.useRealTimers();
});

async function start(destination = PHONE): Promise<{
  txn: ClientTransaction;
  handlers: RecordingHandlers;
  t0: number;
  reason: ReturnType<typeof endReason>;
}> {
  const handlers = new RecordingHandlers();
  const t0 = Date.now();
  const txn = await h.layer.sendRequest(makeRequest('OPTIONS'), destination, handlers);
  return { txn, handlers, t0, reason: endReason(txn) };
}

function answer(txn: ClientTransaction, status: number, source = PHONE): void {
  h.transport.inject(inbound(makeResponse(txn.request, status, 'bob-tag'), source));
}

const sends = (): number => h.transport.requests('OPTIONS').length;

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('retransmits on Timer E (T1 doubling up to T2) and times out on Timer F = 64·T1 over UDP', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    expect(txn.state).toBe('trying');
    let expected = 1;
    for (const at of [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]) {
      await advanceTo(t0, at - 1);
      expect(sends()).toBe(expected);
      await advanceTo(t0, at);
      expect(sends()).toBe(++expected);
    }
    await advanceTo(t0, 31_999);
    expect(handlers.timeouts).toBe(0);
    await advanceTo(t0, 32_000);
    expect(handlers.timeouts).toBe(1);
    expect(reason()).toBe('timeout');
    expect(sends()).toBe(11);
    expect(h.retransmissions).toHaveLength(10);
    expect(h.retransmissions[0]).toBe('request:OPTIONS');
    expect(h.layer.counts().client).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('honours configured T1 and T2', async () => {
    h = harness({ timers: { T1: 200, T2: 600 } });
    const { handlers, t0 } = await start();
    let expected = 1;
    for (const at of [200, 600, 1200, 1800, 2400]) {
      await advanceTo(t0, at - 1);
      expect(sends()).toBe(expected);
      await advanceTo(t0, at);
      expect(sends()).toBe(++expected);
    }
    await advanceTo(t0, 12_799);
    expect(handlers.timeouts).toBe(0);
    await advanceTo(t0, 12_800);
    expect(handlers.timeouts).toBe(1);
  });

  it('in proceeding, Timer E retransmits every T2 and Timer F still applies', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    await advanceTo(t0, 600);
    answer(txn, 100);
    expect(txn.state).toBe('proceeding');
    expect(handlers.statuses()).toEqual([100]);
    expect(sends()).toBe(2);
    // Timer E was due at 1500; from then on it is T2.
    for (const [at, count] of [
      [1499, 2],
      [1500, 3],
      [5499, 3],
      [5500, 4],
      [9500, 5],
    ] as const) {
      await advanceTo(t0, at);
      expect(sends()).toBe(count);
    }
    await advanceTo(t0, 32_000);
    expect(handlers.timeouts).toBe(1);
    expect(reason()).toBe('timeout');
  });

  it('final response: completed, passed up once, retransmissions absorbed, Timer K = T4 over UDP', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    await advanceTo(t0, 700);
    answer(txn, 180);
    answer(txn, 200);
    expect(txn.state).toBe('completed');
    answer(txn, 200);
    answer(txn, 180);
    expect(handlers.statuses()).toEqual([180, 200]);
    await advanceTo(t0, 700 + 4999);
    expect(txn.state).toBe('completed');
    expect(sends()).toBe(2); // no retransmission after the final response
    await advanceTo(t0, 700 + 5000);
    expect(reason()).toBe('completed');
    expect(h.ended).toEqual(['client:OPTIONS:completed']);
    expect(handlers.timeouts).toBe(0);
    answer(txn, 200);
    expect(h.user.strays).toHaveLength(1);
  });

  it('Timer K honours a configured T4', async () => {
    h = harness({ timers: { T4: 2500 } });
    const { txn, t0, reason } = await start();
    answer(txn, 404);
    await advanceTo(t0, 2499);
    expect(reason()).toBeUndefined();
    await advanceTo(t0, 2500);
    expect(reason()).toBe('completed');
  });

  it('over TCP: no Timer E, Timer K = 0', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start(PHONE_TCP);
    await advanceTo(t0, 20_000);
    expect(sends()).toBe(1);
    answer(txn, 200, PHONE_TCP);
    expect(handlers.statuses()).toEqual([200]);
    expect(reason()).toBe('completed');
    expect(h.layer.counts().client).toBe(0);
  });

  it('a failed retransmission informs the TU and terminates (§17.1.4)', async () => {
    h = harness();
    const { handlers, t0, reason } = await start();
    await advanceTo(t0, 500);
    h.transport.failSends = 1;
    await advanceTo(t0, 1500);
    expect(handlers.transportErrors).toHaveLength(1);
    expect(reason()).toBe('transport-error');
    expect(vi.getTimerCount()).toBe(0);
    expect(h.layer.counts().client).toBe(0);
  });

  it('a failed first send rejects sendRequest', async () => {
    h = harness();
    h.transport.failSends = 1;
    await expect(
      h.layer.sendRequest(makeRequest('REGISTER'), PHONE, new RecordingHandlers()),
    ).rejects.toThrow(TransportSendError);
    expect(h.layer.counts().client).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
