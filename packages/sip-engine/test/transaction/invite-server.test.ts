import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidResponseStatusError,
  TransactionStateError,
  type ServerTransaction,
} from '../../src/transaction/index.js';
import { inbound, makeRequest, makeResponse, PHONE, PHONE_TCP, TransportSendError } from './helpers.js';
import { advanceTo, endReason, harness, type Harness } from './setup.js';

let h: Harness;
afterEach(() => {
  h.layer.stop();
  vi.useRealTimers();
});

const BRANCH = 'z9hG4bK-invite-1';

function receiveInvite(source = PHONE): {
  st: ServerTransaction;
  request: ReturnType<typeof makeRequest>;
  t0: number;
  reason: ReturnType<typeof endReason>;
} {
  const request = makeRequest('INVITE', { branch: BRANCH, viaTransport: source.protocol.toUpperCase() });
  const t0 = Date.now();
  h.transport.inject(inbound(request, source, source.protocol === 'udp' ? undefined : 'conn-1'));
  const st = h.user.requests.at(-1)!;
  return { st, request, t0, reason: endReason(st) };
}

function retransmitInvite(request: ReturnType<typeof makeRequest>, source = PHONE): void {
  h.transport.inject(inbound(request, source));
}

function ack(request: ReturnType<typeof makeRequest>, source = PHONE, branch = BRANCH): void {
  h.transport.inject(
    inbound(
      makeRequest('ACK', {
        branch,
        viaTransport: source.protocol.toUpperCase(),
        callId: request.headers.get('call-id'),
        toTag: 'uas-tag',
      }),
      source,
    ),
  );
}

const sentStatuses = (): number[] => h.transport.responses().map((r) => r.status);

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1)', () => {
  it('hands a new INVITE to the TU in proceeding and absorbs retransmissions before any response', () => {
    h = harness();
    const { st, request } = receiveInvite();
    expect(st.state).toBe('proceeding');
    expect(st.method).toBe('INVITE');
    expect(st.request.message).toBe(request);
    expect(st.id).toContain(BRANCH);
    retransmitInvite(request);
    retransmitInvite(request);
    expect(h.user.requests).toHaveLength(1);
    expect(h.transport.sent).toEqual([]);
    expect(h.started).toEqual(['server:INVITE']);
  });

  it('resends the latest provisional on each INVITE retransmission', async () => {
    h = harness();
    const { st, request } = receiveInvite();
    await st.respond(makeResponse(request, 100));
    retransmitInvite(request);
    await st.respond(makeResponse(request, 180, 'uas-tag'));
    expect(st.state).toBe('proceeding');
    expect(st.lastResponse?.status).toBe(180);
    retransmitInvite(request);
    expect(sentStatuses()).toEqual([100, 100, 180, 180]);
    expect(h.retransmissions).toEqual(['response:INVITE', 'response:INVITE']);
  });

  it('non-2xx over UDP: Timer G (T1 doubling to T2) until Timer H = 64·T1 ends it as a timeout', async () => {
    h = harness();
    const { st, request, t0, reason } = receiveInvite();
    await st.respond(makeResponse(request, 486, 'uas-tag'));
    expect(st.state).toBe('completed');
    const count = (): number => h.transport.responses(486).length;
    let expected = 1;
    for (const at of [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]) {
      await advanceTo(t0, at - 1);
      expect(count()).toBe(expected);
      await advanceTo(t0, at);
      expect(count()).toBe(++expected);
    }
    await advanceTo(t0, 31_999);
    expect(st.state).toBe('completed');
    await advanceTo(t0, 32_000);
    expect(st.state).toBe('terminated');
    expect(reason()).toBe('timeout');
    expect(h.ended).toEqual(['server:INVITE:timeout']);
    expect(h.layer.counts().server).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resends the final response on an INVITE retransmission in completed', async () => {
    h = harness();
    const { st, request } = receiveInvite();
    await st.respond(makeResponse(request, 404, 'uas-tag'));
    retransmitInvite(request);
    expect(sentStatuses()).toEqual([404, 404]);
  });

  it('ACK: completed → confirmed (absorbed, Timer G stops), Timer I = T4 over UDP', async () => {
    h = harness();
    const { st, request, t0, reason } = receiveInvite();
    await st.respond(makeResponse(request, 486, 'uas-tag'));
    await advanceTo(t0, 600);
    ack(request);
    expect(st.state).toBe('confirmed');
    expect(h.user.acks).toEqual([]);
    ack(request); // retransmitted ACK: absorbed as well
    retransmitInvite(request); // absorbed in confirmed
    expect(h.user.acks).toEqual([]);
    expect(h.user.requests).toHaveLength(1);
    await advanceTo(t0, 600 + 4999);
    expect(st.state).toBe('confirmed');
    expect(sentStatuses()).toEqual([486, 486]); // one Timer G retransmission at 500 ms, none after the ACK
    await advanceTo(t0, 600 + 5000);
    expect(reason()).toBe('completed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('over TCP: no Timer G, Timer H still 64·T1, Timer I = 0', async () => {
    h = harness();
    const first = receiveInvite(PHONE_TCP);
    await first.st.respond(makeResponse(first.request, 480, 'uas-tag'));
    expect(h.transport.sent[0]).toMatchObject({ kind: 'response', connectionId: 'conn-1' });
    await advanceTo(first.t0, 31_999);
    expect(sentStatuses()).toEqual([480]);
    await advanceTo(first.t0, 32_000);
    expect(first.reason()).toBe('timeout');

    const second = receiveInvite(PHONE_TCP);
    expect(second.st).not.toBe(first.st);
    await second.st.respond(makeResponse(second.request, 480, 'uas-tag'));
    ack(second.request, PHONE_TCP);
    expect(second.reason()).toBe('completed');
    expect(h.layer.counts().server).toBe(0);
  });

  it('2xx: accepted absorbs INVITE retransmissions, passes the ACK to the TU, ends on Timer L = 64·T1', async () => {
    h = harness();
    const { st, request, t0, reason } = receiveInvite();
    await st.respond(makeResponse(request, 180, 'uas-tag'));
    await st.respond(makeResponse(request, 200, 'uas-tag'));
    expect(st.state).toBe('accepted');
    retransmitInvite(request);
    expect(sentStatuses()).toEqual([180, 200]);
    expect(h.user.requests).toHaveLength(1);
    ack(request);
    expect(h.user.acks).toHaveLength(1);
    expect(st.state).toBe('accepted');
    await expect(st.respond(makeResponse(request, 200, 'uas-tag'))).rejects.toBeInstanceOf(
      TransactionStateError,
    );
    await advanceTo(t0, 31_999);
    expect(st.state).toBe('accepted');
    await advanceTo(t0, 32_000);
    expect(reason()).toBe('completed');
    // After Timer L the same INVITE is a new request again (RFC 6026 §7.1).
    retransmitInvite(request);
    expect(h.user.requests).toHaveLength(2);
  });

  it('an ACK with another branch (the ACK for a 2xx, §13.2.2.4) goes to the TU', async () => {
    h = harness();
    const { st, request } = receiveInvite();
    await st.respond(makeResponse(request, 200, 'uas-tag'));
    ack(request, PHONE, 'z9hG4bK-ack-for-2xx');
    expect(h.user.acks).toHaveLength(1);
  });

  it('rejects a second final response and invalid status codes', async () => {
    h = harness();
    const { st, request } = receiveInvite();
    await expect(st.respond(makeResponse(request, 99))).rejects.toBeInstanceOf(InvalidResponseStatusError);
    await expect(st.respond(makeResponse(request, 700))).rejects.toBeInstanceOf(InvalidResponseStatusError);
    await st.respond(makeResponse(request, 603, 'uas-tag'));
    const second = st.respond(makeResponse(request, 200, 'uas-tag'));
    await expect(second).rejects.toBeInstanceOf(TransactionStateError);
    await expect(second).rejects.toThrow(/is completed: cannot send a 200/);
    await expect(st.respond(makeResponse(request, 180))).rejects.toBeInstanceOf(TransactionStateError);
    expect(sentStatuses()).toEqual([603]);
  });

  it('a transport error rejects respond() but keeps the state (RFC 6026 §7.1); Timer H still ends it', async () => {
    h = harness();
    const { st, request, t0, reason } = receiveInvite();
    h.transport.failSends = 1;
    await expect(st.respond(makeResponse(request, 486, 'uas-tag'))).rejects.toBeInstanceOf(
      TransportSendError,
    );
    expect(st.state).toBe('completed');
    retransmitInvite(request);
    expect(h.user.requests).toHaveLength(1);
    await advanceTo(t0, 32_000);
    expect(reason()).toBe('timeout');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('failing Timer G retransmissions never throw and never stop Timer H', async () => {
    h = harness();
    const { st, request, t0, reason } = receiveInvite();
    await st.respond(makeResponse(request, 486, 'uas-tag'));
    h.transport.failSends = Infinity;
    await advanceTo(t0, 10_000);
    expect(st.state).toBe('completed');
    await advanceTo(t0, 32_000);
    expect(reason()).toBe('timeout');
  });

  it('ends a transaction whose TU never answers after the proceeding limit (each provisional restarts it)', async () => {
    h = harness({ proceedingLimitMs: 60_000 });
    const { st, request, t0, reason } = receiveInvite();
    await advanceTo(t0, 50_000);
    await st.respond(makeResponse(request, 180, 'uas-tag'));
    await advanceTo(t0, 109_999);
    expect(st.state).toBe('proceeding');
    await advanceTo(t0, 110_000);
    expect(reason()).toBe('timeout');
    await expect(st.respond(makeResponse(request, 200, 'uas-tag'))).rejects.toThrow(/is terminated/);
  });
});
