import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createTransactionLayer,
  InvalidClientRequestError,
  TransactionLayerStoppedError,
  type TransactionLogger,
} from '../../src/transaction/index.js';
import {
  inbound,
  makeRequest,
  makeResponse,
  PHONE,
  PHONE_TCP,
  RecordingHandlers,
  RecordingTransport,
  RecordingUser,
} from './helpers.js';
import { harness, type Harness } from './setup.js';

let h: Harness;
afterEach(() => {
  h?.layer.stop();
  vi.useRealTimers();
});

describe('transaction layer lifecycle', () => {
  it('is bounded: hundreds of transactions of every kind end, maps empty, no timer left', async () => {
    h = harness();
    let invites = 0;
    h.user.onNewRequest = (st) => {
      const status = st.method === 'INVITE' ? (invites++ % 2 ? 486 : 200) : 200;
      st.respond(makeResponse(st.request.message, status, 'uas')).catch(() => undefined);
    };
    for (let i = 0; i < 300; i++) {
      const source = i % 3 === 0 ? PHONE_TCP : PHONE;
      const transport = source.protocol.toUpperCase();
      const inv = makeRequest('INVITE', { branch: `z9hG4bK-${i}`, viaTransport: transport });
      h.transport.inject(inbound(inv, source));
      h.transport.inject(inbound(inv, source)); // retransmission
      if (i % 2)
        h.transport.inject(inbound(makeRequest('ACK', { branch: `z9hG4bK-${i}`, viaTransport: transport })));
      h.transport.inject(
        inbound(makeRequest('OPTIONS', { branch: `z9hG4bK-o${i}`, viaTransport: transport }), source),
      );
      const handlers = new RecordingHandlers();
      const ct = await h.layer.sendRequest(makeRequest(i % 2 ? 'INVITE' : 'REGISTER'), source, handlers);
      if (i % 4 !== 3) h.transport.inject(inbound(makeResponse(ct.request, i % 5 ? 200 : 404, 'b'), source));
    }
    expect(h.layer.counts().server).toBeGreaterThan(0);
    expect(h.layer.counts().client).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(64 * 500 + 32_000);
    expect(h.layer.counts()).toEqual({ client: 0, server: 0 });
    expect(vi.getTimerCount()).toBe(0);
    expect(h.ended).toHaveLength(h.started.length);
    expect(h.started).toHaveLength(900);
  });

  it('stop() ends every transaction as stopped and refuses new client transactions', async () => {
    h = harness();
    h.transport.inject(inbound(makeRequest('INVITE', { branch: 'z9hG4bK-s1' })));
    const handlers = new RecordingHandlers();
    const ct = await h.layer.sendRequest(makeRequest('OPTIONS'), PHONE, handlers);
    const reasons: string[] = [];
    h.user.requests[0]!.onTerminated((r) => reasons.push(r));
    ct.onTerminated((r) => reasons.push(r));
    h.layer.stop();
    expect(reasons).toEqual(['stopped', 'stopped']);
    expect(h.layer.counts()).toEqual({ client: 0, server: 0 });
    expect(vi.getTimerCount()).toBe(0);
    expect(handlers.timeouts).toBe(0);
    await expect(h.layer.sendRequest(makeRequest('OPTIONS'), PHONE, handlers)).rejects.toBeInstanceOf(
      TransactionLayerStoppedError,
    );
    await expect(h.layer.sendStateless(makeRequest('ACK'), PHONE)).rejects.toBeInstanceOf(
      TransactionLayerStoppedError,
    );
    h.transport.inject(inbound(makeRequest('OPTIONS', { branch: 'z9hG4bK-late' })));
    expect(h.user.requests).toHaveLength(1);
  });

  it('onTerminated registered after the end is called at once with the reason', async () => {
    h = harness();
    const ct = await h.layer.sendRequest(makeRequest('OPTIONS'), PHONE_TCP, new RecordingHandlers());
    h.transport.inject(inbound(makeResponse(ct.request, 200), PHONE_TCP));
    const reasons: string[] = [];
    ct.onTerminated((r) => reasons.push(r));
    expect(reasons).toEqual(['completed']);
  });

  it('refuses ACK and a branch already in use for the same method', async () => {
    h = harness();
    await expect(
      h.layer.sendRequest(makeRequest('ACK'), PHONE, new RecordingHandlers()),
    ).rejects.toBeInstanceOf(InvalidClientRequestError);
    await h.layer.sendRequest(makeRequest('INVITE'), PHONE, new RecordingHandlers(), {
      branch: 'z9hG4bKsame',
    });
    await expect(
      h.layer.sendRequest(makeRequest('INVITE'), PHONE, new RecordingHandlers(), { branch: 'z9hG4bKsame' }),
    ).rejects.toThrow(/still live/);
    expect(h.layer.counts().client).toBe(1);
  });

  it('never throws out of receive or a timer when the TU, handlers, listeners or observer throw', async () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    const logger: TransactionLogger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (_obj, msg) => errors.push(msg ?? ''),
    };
    const transport = new RecordingTransport();
    const boom = (): never => {
      throw new Error('boom');
    };
    const user = new RecordingUser();
    user.onNewRequest = boom;
    user.onAck = boom;
    user.onStrayResponse = boom;
    const layer = createTransactionLayer(transport, user, {
      logger,
      observer: { transactionStarted: boom, transactionEnded: boom, retransmission: boom },
    });
    h = { layer } as Harness;
    const request = makeRequest('OPTIONS', { branch: 'z9hG4bK-t1' });
    expect(() => layer.receive(inbound(request))).not.toThrow();
    expect(() => layer.receive(inbound(makeRequest('ACK', { branch: 'z9hG4bK-x' })))).not.toThrow();
    expect(() => layer.receive(inbound(makeResponse(request, 200)))).not.toThrow();
    const st = user.requests[0]!;
    st.onTerminated(boom);
    const handlers = new RecordingHandlers();
    handlers.onResponse = boom;
    handlers.onTimeout = boom;
    const ct = await layer.sendRequest(makeRequest('OPTIONS'), PHONE, handlers);
    expect(() => layer.receive(inbound(makeResponse(ct.request, 100)))).not.toThrow();
    await st.respond(makeResponse(request, 200));
    layer.receive(inbound(request)); // retransmission → observer.retransmission throws
    await vi.advanceTimersByTimeAsync(40_000);
    expect(layer.counts()).toEqual({ client: 0, server: 0 });
    expect(errors.length).toBeGreaterThanOrEqual(8);
  });

  it('refuses invalid timer settings', () => {
    const transport = new RecordingTransport();
    const user = new RecordingUser();
    expect(() => createTransactionLayer(transport, user, { timers: { T1: 0 } })).toThrow(RangeError);
    expect(() => createTransactionLayer(transport, user, { timers: { T2: Number.NaN } })).toThrow(RangeError);
    expect(() => createTransactionLayer(transport, user, { proceedingLimitMs: -1 })).toThrow(RangeError);
  });
});
