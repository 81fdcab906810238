/**
 * The transaction layer over E1's real transport (UDP and TCP on loopback) against sipp: as a server
 * for a sipp phone, as a client towards a sipp carrier, and towards a carrier that never answers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, runSipp, startSipp, waitUntil, type SippOptions, type SippRun } from '@sbc/testkit';
import {
  createRequest,
  newCallId,
  newTag,
  responseTo,
  SipHeaders,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import { createTransactionLayer } from '../../src/transaction/index.js';
import type {
  ClientTransactionHandlers,
  ServerTransaction,
  TransactionEndReason,
  TransactionLayerApi,
  TransactionUser,
} from '../../src/transaction/types.js';
import { createTransportLayer } from '../../src/transport/index.js';
import type { Inbound, Peer, TransportLayer, TransportProtocol } from '../../src/transport/types.js';

const ENGINE = '127.0.0.1';
const PHONE = '127.0.0.3';
const CARRIER = '127.0.0.2';

const scenario = (name: string): string => fileURLToPath(new URL(`./scenarios/${name}.xml`, import.meta.url));

/** Answers OPTIONS 200 at once; lets an INVITE wait `inviteDelayMs` (no 100), then sends 180 and 486. */
class AnsweringUser implements TransactionUser {
  readonly requests: ServerTransaction[] = [];
  readonly acks: Inbound<SipRequest>[] = [];
  readonly ends = new Map<ServerTransaction, Promise<TransactionEndReason>>();
  inviteDelayMs = 700;

  onRequest(st: ServerTransaction): void {
    this.requests.push(st);
    this.ends.set(st, new Promise((resolve) => st.onTerminated(resolve)));
    const request = st.request.message;
    if (request.headers.has('X-Hold')) return; // the test answers itself
    const tag = newTag();
    if (request.method !== 'INVITE') {
      st.respond(responseTo(request, 200, undefined, { toTag: tag })).catch(() => undefined);
      return;
    }
    setTimeout(() => {
      st.respond(responseTo(request, 180, undefined, { toTag: tag }))
        .then(() => st.respond(responseTo(request, 486, undefined, { toTag: tag })))
        .catch(() => undefined);
    }, this.inviteDelayMs);
  }
  onAck(ack: Inbound<SipRequest>): void {
    this.acks.push(ack);
  }
  onCancel(cancel: ServerTransaction): void {
    cancel.respond(responseTo(cancel.request.message, 481)).catch(() => undefined);
  }
  onStrayResponse(): void {}

  forCall(callId: string): ServerTransaction[] {
    return this.requests.filter((st) => st.request.message.headers.get('call-id') === callId);
  }
}

/** Client handlers whose outcome is a promise: the final response, 'timeout' or the transport error. */
function awaitFinal(): {
  handlers: ClientTransactionHandlers;
  responses: SipResponse[];
  final: Promise<SipResponse | 'timeout' | Error>;
} {
  const responses: SipResponse[] = [];
  let settle!: (v: SipResponse | 'timeout' | Error) => void;
  const final = new Promise<SipResponse | 'timeout' | Error>((resolve) => (settle = resolve));
  return {
    responses,
    final,
    handlers: {
      onResponse: (inbound) => {
        responses.push(inbound.message);
        if (inbound.message.status >= 200) settle(inbound.message);
      },
      onTimeout: () => settle('timeout'),
      onTransportError: (err) => settle(err),
    },
  };
}

function newRequest(method: string, target: Peer, callId: string, cseq: number): SipRequest {
  const hostport = `${target.address}:${target.port}`;
  return createRequest(method, `sip:carrier@${hostport}`, {
    'Max-Forwards': '70',
    From: `<sip:engine@${ENGINE}>;tag=engine-${callId.slice(0, 8)}`,
    To: `<sip:carrier@${hostport}>`,
    'Call-ID': callId,
    CSeq: `${cseq} ${method}`,
    ...(method === 'INVITE' ? { Contact: `<sip:engine@${ENGINE}>` } : {}),
  });
}

/** /proc/net/{udp,tcp} form of an IPv4 loopback socket address, e.g. `0200007F:1F90`. */
function procAddress(address: string, port: number): string {
  const hex = address
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .join('');
  return `${hex}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
}

/** Starts a sipp UAS and resolves once its socket is bound (and listening, for TCP). */
async function startListeningSipp(options: SippOptions & { transport: 'udp' | 'tcp' }): Promise<SippRun> {
  const run = await startSipp(options);
  const wanted = procAddress(run.localAddress, run.localPort);
  await waitUntil(
    () =>
      Promise.resolve(
        readFileSync(`/proc/net/${options.transport}`, 'utf8')
          .split('\n')
          .some((line) => {
            const cols = line.trim().split(/\s+/);
            return cols[1] === wanted && (options.transport === 'udp' || cols[3] === '0A');
          }),
      ),
    { what: `sipp listening on ${options.transport}/${run.localAddress}:${run.localPort}`, timeoutMs: 5000 },
  );
  return run;
}

let transport: TransportLayer;
let layer: TransactionLayerApi;
const user = new AnsweringUser();

beforeAll(async () => {
  transport = createTransportLayer([
    { protocol: 'udp', address: ENGINE, port: 0 },
    { protocol: 'tcp', address: ENGINE, port: 0 },
  ]);
  await transport.start();
  // T1 = 50 ms keeps Timers B/F at 3.2 s; T4 = 100 ms ends confirmed / completed quickly.
  layer = createTransactionLayer(transport, user, { timers: { T1: 50, T4: 100 } });
  transport.onMessage((inbound) => layer.receive(inbound));
});

afterAll(async () => {
  layer?.stop();
  await transport?.stop();
});

function engineTarget(protocol: TransportProtocol): string {
  const endpoint = transport.endpoints.find((e) => e.protocol === protocol)!;
  return `${endpoint.address}:${endpoint.port}`;
}

describe.each(['udp', 'tcp'] as const)('over %s', (protocol) => {
  it('server transactions: sipp phone gets 200 to OPTIONS, 180/486 to INVITE, its ACK is absorbed', async () => {
    const before = user.requests.length;
    const result = await runSipp({
      scenario: scenario('uac-options-invite'),
      target: engineTarget(protocol),
      localAddress: PHONE,
      transport: protocol,
      timeoutMs: 15_000,
    });
    expect(result.ok, result.describe()).toBe(true);
    const mine = user.requests.slice(before);
    expect(mine.map((st) => st.method)).toEqual(['OPTIONS', 'INVITE']);
    const invite = mine[1]!;
    expect(await user.ends.get(invite)).toBe('completed'); // ACK → confirmed → Timer I
    expect(user.acks).toEqual([]);
    if (protocol === 'udp') {
      // sipp retransmitted the INVITE while the TU was silent: absorbed, one transaction, one onRequest.
      expect(result.retransmissions).toBeGreaterThan(0);
      expect(result.messages.match(/^INVITE sip:/gm)?.length).toBeGreaterThan(1);
    }
  });

  it('client transactions: OPTIONS 200 and INVITE 486 from a sipp carrier, which checks our ACK', async () => {
    const carrier = await startListeningSipp({
      scenario: scenario('uas-options-invite'),
      localAddress: CARRIER,
      transport: protocol,
      timeoutMs: 15_000,
    });
    const target: Peer = { protocol, address: CARRIER, port: carrier.localPort };
    const callId = newCallId();

    const options = awaitFinal();
    const optionsCt = await layer.sendRequest(
      newRequest('OPTIONS', target, callId, 1),
      target,
      options.handlers,
    );
    const optionsFinal = await options.final;
    expect(optionsFinal).toMatchObject({ status: 200 });
    expect(optionsCt.sent.destination).toEqual(target);

    const invite = awaitFinal();
    const inviteCt = await layer.sendRequest(
      newRequest('INVITE', target, callId, 2),
      target,
      invite.handlers,
    );
    const inviteEnded = new Promise<TransactionEndReason>((resolve) => inviteCt.onTerminated(resolve));
    expect(await invite.final).toMatchObject({ status: 486 });
    expect(invite.responses.map((r) => r.status)).toEqual([100, 486]);

    const result = await carrier.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(result.messages).toMatch(/^ACK sip:carrier@/m);
    if (protocol === 'tcp') expect(await inviteEnded).toBe('completed');
    else expect(inviteCt.state).toBe('completed'); // Timer D (32 s) keeps absorbing 486 retransmissions
  });
});

describe('a carrier that never answers', () => {
  it('Timer F ends an OPTIONS over UDP after retransmissions; Timer B an INVITE over TCP without any', async () => {
    const [udpPeer, tcpPeer] = await Promise.all([
      startListeningSipp({
        scenario: scenario('uas-silent'),
        localAddress: CARRIER,
        transport: 'udp',
        timeoutMs: 20_000,
      }),
      startListeningSipp({
        scenario: scenario('uas-silent'),
        localAddress: CARRIER,
        transport: 'tcp',
        timeoutMs: 20_000,
      }),
    ]);
    const udpTarget: Peer = { protocol: 'udp', address: CARRIER, port: udpPeer.localPort };
    const tcpTarget: Peer = { protocol: 'tcp', address: CARRIER, port: tcpPeer.localPort };
    const options = awaitFinal();
    const invite = awaitFinal();
    const [optionsCt, inviteCt] = await Promise.all([
      layer.sendRequest(newRequest('OPTIONS', udpTarget, newCallId(), 1), udpTarget, options.handlers),
      layer.sendRequest(newRequest('INVITE', tcpTarget, newCallId(), 1), tcpTarget, invite.handlers),
    ]);
    expect(await options.final).toBe('timeout');
    expect(await invite.final).toBe('timeout');
    expect(optionsCt.state).toBe('terminated');
    expect(inviteCt.state).toBe('terminated');
    const [udpResult, tcpResult] = await Promise.all([udpPeer.done, tcpPeer.done]);
    expect(udpResult.messages.match(/^OPTIONS sip:/gm)?.length).toBeGreaterThan(1);
    expect(tcpResult.messages.match(/^INVITE sip:/gm)?.length).toBe(1);
  });
});

describe('transport errors against closed ports', () => {
  it('a TCP request to a port nobody listens on rejects sendRequest and leaves no transaction', async () => {
    const closed: Peer = { protocol: 'tcp', address: CARRIER, port: await freeTcpPort(CARRIER) };
    const before = layer.counts().client;
    const outcome = awaitFinal();
    await expect(
      layer.sendRequest(newRequest('OPTIONS', closed, newCallId(), 1), closed, outcome.handlers),
    ).rejects.toThrow(/ECONNREFUSED|cannot connect/);
    expect(layer.counts().client).toBe(before);
  });

  it('a response that cannot be delivered (connection gone, sent-by refuses) ends the server transaction', async () => {
    const gonePort = await freeTcpPort(PHONE);
    const headers = new SipHeaders([
      ['Via', `SIP/2.0/TCP ${PHONE}:${gonePort};branch=z9hG4bK-gone-${newTag()}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:alice@${PHONE}>;tag=${newTag()}`],
      ['To', `<sip:bob@${ENGINE}>`],
      ['Call-ID', newCallId()],
      ['CSeq', '1 OPTIONS'],
      ['X-Hold', 'yes'],
    ]);
    const request = createRequest('OPTIONS', `sip:bob@${ENGINE}`, headers);
    const local = transport.endpoints.find((e) => e.protocol === 'tcp')!;
    layer.receive({
      message: request,
      raw: Buffer.alloc(0),
      source: { protocol: 'tcp', address: PHONE, port: gonePort },
      local,
      connectionId: 'a-connection-that-has-closed',
      receivedAt: Date.now(),
    });
    const st = user.requests.at(-1)!;
    expect(st.request.message).toBe(request);
    await expect(st.respond(responseTo(request, 200, undefined, { toTag: newTag() }))).rejects.toThrow();
    expect(await user.ends.get(st)).toBe('transport-error');
    expect(st.state).toBe('terminated');
  });
});
