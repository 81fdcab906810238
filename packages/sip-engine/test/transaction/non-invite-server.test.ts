import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransactionStateError, type ServerTransaction } from '../../src/transaction/index.js';
import { inbound, makeRequest, makeResponse, PHONE, PHONE_TCP, TransportSendError } from './helpers.js';
import { advanceTo, endReason, harness, type Harness } from './setup.js';

let h: Harness;
afterEach(() => {
  h.layer.stop();
  vi.useRealTimers();
});

function receive(
  method = 'OPTIONS',
  source = PHONE,
): {
  st: ServerTransaction;
  request: ReturnType<typeof makeRequest>;
  t0: number;
  reason: ReturnType<typeof endReason>;
} {
  const request = makeRequest(method, {
    branch: 'z9hG4bK-nict-1',
    viaTransport: source.protocol.toUpperCase(),
  });
  const t0 = Date.now();
  h.transport.inject(inbound(request, source, source.protocol === 'udp' ? undefined : 'conn-7'));
  const st = h.user.requests.at(-1)!;
  return { st, request, t0, reason: endReason(st) };
}

const sentStatuses = (): number[] => h.transport.responses().map((r) => r.status);

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('trying absorbs retransmissions; proceeding and completed resend the last response', async () => {
    h = harness();
    const { st, request } = receive('REGISTER');
    expect(st.state).toBe('trying');
    expect(st.method).toBe('REGISTER');
    h.transport.inject(inbound(request));
    expect(h.transport.sent).toEqual([]);
    expect(h.user.requests).toHaveLength(1);
    await st.respond(makeResponse(request, 100));
    expect(st.state).toBe('proceeding');
    h.transport.inject(inbound(request));
    await st.respond(makeResponse(request, 200, 'tag'));
    expect(st.state).toBe('completed');
    h.transport.inject(inbound(request));
    h.transport.inject(inbound(request));
    expect(sentStatuses()).toEqual([100, 100, 200, 200, 200]);
    expect(h.retransmissions).toEqual(['response:REGISTER', 'response:REGISTER', 'response:REGISTER']);
    expect(h.user.requests).toHaveLength(1);
    await expect(st.respond(makeResponse(request, 500))).rejects.toBeInstanceOf(TransactionStateError);
  });

  it('Timer J = 64·T1 over UDP', async () => {
    h = harness({ timers: { T1: 250 } });
    const { st, request, t0, reason } = receive();
    await st.respond(makeResponse(request, 200, 'tag'));
    await advanceTo(t0, 15_999);
    expect(st.state).toBe('completed');
    await advanceTo(t0, 16_000);
    expect(reason()).toBe('completed');
    expect(h.ended).toEqual(['server:OPTIONS:completed']);
    // A retransmission after Timer J is a new request.
    h.transport.inject(inbound(request));
    expect(h.user.requests).toHaveLength(2);
  });

  it('Timer J = 0 over TCP, and responses go back on the request connection', async () => {
    h = harness();
    const { st, request, reason } = receive('OPTIONS', PHONE_TCP);
    await st.respond(makeResponse(request, 200, 'tag'));
    expect(reason()).toBe('completed');
    expect(h.transport.sent[0]).toMatchObject({ kind: 'response', connectionId: 'conn-7' });
    expect(h.layer.counts().server).toBe(0);
  });

  it('a transport error terminates the transaction (§17.2.4) and rejects respond()', async () => {
    h = harness();
    const { st, request, reason } = receive();
    h.transport.failSends = 1;
    await expect(st.respond(makeResponse(request, 200, 'tag'))).rejects.toBeInstanceOf(TransportSendError);
    expect(reason()).toBe('transport-error');
    expect(h.layer.counts().server).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('over TCP (Timer J = 0) a failed final response still ends as transport-error', async () => {
    h = harness();
    const { st, request, reason } = receive('OPTIONS', PHONE_TCP);
    h.transport.failSends = 1;
    await expect(st.respond(makeResponse(request, 200, 'tag'))).rejects.toBeInstanceOf(TransportSendError);
    expect(reason()).toBe('transport-error');
    expect(h.layer.counts().server).toBe(0);
  });

  it('a failed resend on a retransmission terminates the transaction', async () => {
    h = harness();
    const { st, request, reason } = receive();
    await st.respond(makeResponse(request, 200, 'tag'));
    h.transport.failSends = 1;
    h.transport.inject(inbound(request));
    await vi.advanceTimersByTimeAsync(0);
    expect(reason()).toBe('transport-error');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a TU that never answers: the proceeding limit ends the transaction', async () => {
    h = harness({ proceedingLimitMs: 90_000 });
    const { t0, reason } = receive();
    await advanceTo(t0, 89_999);
    expect(reason()).toBeUndefined();
    await advanceTo(t0, 90_000);
    expect(reason()).toBe('timeout');
    expect(h.layer.counts().server).toBe(0);
  });
});
