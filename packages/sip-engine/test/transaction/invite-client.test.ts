import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientTransaction } from '../../src/transaction/types.js';
import {
  branchOf,
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

function invite(): ReturnType<typeof makeRequest> {
  return makeRequest('INVITE', {
    cseq: 7,
    extra: [
      ['Route', '<sip:proxy1.test;lr>'],
      ['Route', '<sip:proxy2.test;lr>'],
      ['Contact', '<sip:alice@127.0.0.1:5060>'],
      ['Subject', 'lunch'],
    ],
  });
}

async function start(destination = PHONE): Promise<{
  txn: ClientTransaction;
  handlers: RecordingHandlers;
  t0: number;
  reason: ReturnType<typeof endReason>;
}> {
  const handlers = new RecordingHandlers();
  const t0 = Date.now();
  const txn = await h.layer.sendRequest(invite(), destination, handlers);
  return { txn, handlers, t0, reason: endReason(txn) };
}

function answer(txn: ClientTransaction, status: number, source = PHONE): void {
  h.transport.inject(inbound(makeResponse(txn.request, status, 'bob-tag'), source));
}

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2)', () => {
  it('adds a top Via with rport and a magic-cookie branch, and starts in calling', async () => {
    h = harness();
    const { txn } = await start();
    expect(txn.state).toBe('calling');
    expect(txn.method).toBe('INVITE');
    expect(txn.destination).toEqual(PHONE);
    expect(txn.sent.destination).toEqual(PHONE);
    const via = txn.request.headers.getAll('via');
    expect(via).toHaveLength(1);
    expect(via[0]).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;rport;branch=z9hG4bK[A-Za-z0-9_-]+$/);
    expect(txn.id).toBe(branchOf(txn.request));
    expect(h.transport.requests('INVITE')).toEqual([txn.request]);
    expect(h.started).toEqual(['client:INVITE']);
  });

  it('retransmits on Timer A (T1, doubling without cap) and times out on Timer B = 64·T1 over UDP', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    const sends = (): number => h.transport.requests('INVITE').length;
    let expected = 1;
    for (const at of [500, 1500, 3500, 7500, 15500, 31500]) {
      await advanceTo(t0, at - 1);
      expect(sends()).toBe(expected);
      await advanceTo(t0, at);
      expect(sends()).toBe(++expected);
    }
    expect(h.retransmissions).toEqual(Array(6).fill('request:INVITE'));
    await advanceTo(t0, 31_999);
    expect(handlers.timeouts).toBe(0);
    expect(txn.state).toBe('calling');
    await advanceTo(t0, 32_000);
    expect(handlers.timeouts).toBe(1);
    expect(txn.state).toBe('terminated');
    expect(reason()).toBe('timeout');
    expect(sends()).toBe(7);
    expect(h.ended).toEqual(['client:INVITE:timeout']);
    expect(h.layer.counts()).toEqual({ client: 0, server: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('scales Timers A and B with a configured T1', async () => {
    h = harness({ timers: { T1: 100 } });
    const { handlers, t0 } = await start();
    await advanceTo(t0, 99);
    expect(h.transport.requests('INVITE')).toHaveLength(1);
    await advanceTo(t0, 100);
    expect(h.transport.requests('INVITE')).toHaveLength(2);
    await advanceTo(t0, 300);
    expect(h.transport.requests('INVITE')).toHaveLength(3);
    await advanceTo(t0, 6399);
    expect(handlers.timeouts).toBe(0);
    await advanceTo(t0, 6400);
    expect(handlers.timeouts).toBe(1);
  });

  it('does not retransmit over TCP but still times out on Timer B', async () => {
    h = harness();
    const { handlers, t0, reason } = await start(PHONE_TCP);
    expect(firstInviteVia(h)).toMatch(/^SIP\/2\.0\/TCP /);
    await advanceTo(t0, 31_999);
    expect(h.transport.requests('INVITE')).toHaveLength(1);
    expect(handlers.timeouts).toBe(0);
    await advanceTo(t0, 32_000);
    expect(handlers.timeouts).toBe(1);
    expect(reason()).toBe('timeout');
    expect(h.retransmissions).toEqual([]);
  });

  it('moves to proceeding on a provisional: stops Timer A and Timer B, passes every 1xx up', async () => {
    h = harness();
    const { txn, handlers, t0 } = await start();
    await advanceTo(t0, 600);
    answer(txn, 100);
    expect(txn.state).toBe('proceeding');
    answer(txn, 180);
    expect(handlers.statuses()).toEqual([100, 180]);
    await advanceTo(t0, 60_000);
    expect(h.transport.requests('INVITE')).toHaveLength(2); // the one at 500 ms only
    expect(handlers.timeouts).toBe(0);
    expect(txn.state).toBe('proceeding');
  });

  it('ends a proceeding transaction after the proceeding limit without provisionals (each 1xx restarts it)', async () => {
    h = harness({ proceedingLimitMs: 10_000 });
    const { txn, handlers, t0, reason } = await start();
    answer(txn, 180);
    await advanceTo(t0, 8000);
    answer(txn, 183);
    await advanceTo(t0, 17_999);
    expect(txn.state).toBe('proceeding');
    await advanceTo(t0, 18_000);
    expect(handlers.timeouts).toBe(1);
    expect(reason()).toBe('timeout');
    expect(h.layer.counts().client).toBe(0);
  });

  it('2xx: accepted state, every 2xx (retransmission) to the TU, no ACK, Timer M = 64·T1', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    answer(txn, 180);
    await advanceTo(t0, 1000);
    answer(txn, 200);
    expect(txn.state).toBe('accepted');
    await advanceTo(t0, 1500);
    answer(txn, 200);
    answer(txn, 486); // not a 2xx: dropped in accepted
    answer(txn, 180);
    expect(handlers.statuses()).toEqual([180, 200, 200]);
    expect(h.transport.requests('ACK')).toEqual([]);
    await advanceTo(t0, 1000 + 31_999);
    expect(txn.state).toBe('accepted');
    await advanceTo(t0, 1000 + 32_000);
    expect(txn.state).toBe('terminated');
    expect(reason()).toBe('completed');
    // After Timer M a retransmitted 2xx is stray: the TU (dialog) re-ACKs it.
    answer(txn, 200);
    expect(h.user.strays.map((s) => s.message.status)).toEqual([200]);
    expect(handlers.statuses()).toEqual([180, 200, 200]);
  });

  it('2xx in calling stops Timer A', async () => {
    h = harness();
    const { txn, t0 } = await start();
    answer(txn, 200);
    await advanceTo(t0, 10_000);
    expect(h.transport.requests('INVITE')).toHaveLength(1);
  });

  it('non-2xx: builds the ACK of §17.1.1.3 with exactly the right headers, sends it to the same peer', async () => {
    h = harness();
    const { txn, handlers } = await start();
    answer(txn, 100);
    answer(txn, 486);
    expect(txn.state).toBe('completed');
    expect(handlers.statuses()).toEqual([100, 486]);
    const sentAcks = h.transport.sent.filter((s) => s.kind === 'request' && s.message.method === 'ACK');
    expect(sentAcks).toHaveLength(1);
    const ack = sentAcks[0]!;
    if (ack.kind !== 'request') throw new Error('not a request');
    expect(ack.destination).toEqual(PHONE);
    expect(ack.message.uri).toBe(txn.request.uri);
    const inviteHeaders = txn.request.headers;
    expect(ack.message.headers.fields().map((f) => [f.name, f.value])).toEqual([
      ['Via', inviteHeaders.getAll('via')[0]],
      ['Max-Forwards', '70'],
      ['Route', '<sip:proxy1.test;lr>'],
      ['Route', '<sip:proxy2.test;lr>'],
      ['From', inviteHeaders.get('from')],
      ['To', '<sip:bob@127.0.0.1>;tag=bob-tag'],
      ['Call-ID', inviteHeaders.get('call-id')],
      ['CSeq', '7 ACK'],
      ['Content-Length', '0'],
    ]);
    expect(branchOf(ack.message)).toBe(txn.id);
    expect(ack.message.body.length).toBe(0);
  });

  it('completed: re-ACKs retransmitted finals without passing them up, ends on Timer D (32 s) over UDP', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    answer(txn, 486);
    answer(txn, 486);
    answer(txn, 486);
    expect(h.transport.requests('ACK')).toHaveLength(3);
    expect(handlers.statuses()).toEqual([486]);
    expect(h.retransmissions).toEqual(['request:ACK', 'request:ACK']);
    await advanceTo(t0, 31_999);
    expect(txn.state).toBe('completed');
    await advanceTo(t0, 32_000);
    expect(reason()).toBe('completed');
    expect(h.transport.requests('INVITE')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('Timer D is 0 over TCP: completed ends at once after the ACK', async () => {
    h = harness();
    const { txn, handlers, reason } = await start(PHONE_TCP);
    answer(txn, 503, PHONE_TCP);
    expect(h.transport.requests('ACK')).toHaveLength(1);
    expect(handlers.statuses()).toEqual([503]);
    expect(txn.state).toBe('terminated');
    expect(reason()).toBe('completed');
    expect(h.layer.counts().client).toBe(0);
  });

  it('rejects sendRequest when the first send fails, without calling onTransportError (§17.1.4)', async () => {
    h = harness();
    h.transport.failSends = 1;
    const handlers = new RecordingHandlers();
    await expect(h.layer.sendRequest(invite(), PHONE, handlers)).rejects.toBeInstanceOf(TransportSendError);
    expect(handlers.transportErrors).toEqual([]);
    expect(h.layer.counts().client).toBe(0);
    expect(h.ended).toEqual(['client:INVITE:transport-error']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('informs the TU and terminates when a Timer A retransmission cannot be sent', async () => {
    h = harness();
    const { txn, handlers, t0, reason } = await start();
    h.transport.failSends = 1;
    await advanceTo(t0, 500);
    expect(handlers.transportErrors).toHaveLength(1);
    expect(handlers.transportErrors[0]).toBeInstanceOf(TransportSendError);
    expect(txn.state).toBe('terminated');
    expect(reason()).toBe('transport-error');
    expect(handlers.timeouts).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('terminates with transport-error when the ACK cannot be sent, without a second report to the TU', async () => {
    h = harness();
    const { txn, handlers, reason } = await start();
    h.transport.failSends = 1;
    answer(txn, 404);
    await vi.advanceTimersByTimeAsync(0);
    expect(handlers.statuses()).toEqual([404]);
    expect(handlers.transportErrors).toEqual([]);
    expect(reason()).toBe('transport-error');
    expect(h.layer.counts().client).toBe(0);
  });
});

function firstInviteVia(harnessed: Harness): string {
  return harnessed.transport.requests('INVITE')[0]!.headers.getAll('via')[0]!;
}
