import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientKeyOfResponse, isRfc3261Branch, serverKey } from '../../src/transaction/matching.js';
import { topVia } from '../../src/transaction/sip-fields.js';
import { inbound, makeRequest, makeResponse, PHONE, RecordingHandlers } from './helpers.js';
import { harness, type Harness } from './setup.js';

let h: Harness;
afterEach(() => {
  h?.layer.stop();
  vi.useRealTimers();
});

describe('matching keys', () => {
  it('recognises only branches with the z9hG4bK magic cookie as RFC 3261 branches', () => {
    expect(isRfc3261Branch('z9hG4bK776asdhds')).toBe(true);
    expect(isRfc3261Branch('Z9HG4BK776asdhds')).toBe(false);
    expect(isRfc3261Branch('776asdhds')).toBe(false);
    expect(isRfc3261Branch(undefined)).toBe(false);
  });

  it('server key: branch + sent-by + method; ACK and CANCEL look up the INVITE', () => {
    const invite = makeRequest('INVITE', { branch: 'z9hG4bKa', sentBy: 'Host.Example:5070' });
    const via = topVia(invite.headers)!;
    expect(serverKey(invite, via, 'INVITE')).toBe('z9hG4bKa|host.example:5070|INVITE');
    const cancel = makeRequest('CANCEL', { branch: 'z9hG4bKa', sentBy: 'host.example:5070' });
    expect(serverKey(cancel, topVia(cancel.headers)!, 'INVITE')).toBe(serverKey(invite, via, 'INVITE'));
    expect(serverKey(cancel, topVia(cancel.headers)!, 'CANCEL')).not.toBe(serverKey(invite, via, 'INVITE'));
    const otherHost = makeRequest('INVITE', { branch: 'z9hG4bKa', sentBy: 'host.example:5071' });
    expect(serverKey(otherHost, topVia(otherHost.headers)!, 'INVITE')).not.toBe(
      serverKey(invite, via, 'INVITE'),
    );
  });

  it('client key: branch + CSeq method of the response', () => {
    const req = makeRequest('INVITE', { branch: 'z9hG4bKc', cseqMethod: 'CANCEL' });
    expect(clientKeyOfResponse(makeResponse(req, 200))).toBe('z9hG4bKc|CANCEL');
    const noVia = makeRequest('INVITE');
    expect(clientKeyOfResponse(makeResponse(noVia, 200))).toBeUndefined();
  });

  it('reads the Via in compact form and with odd spacing and IPv6 sent-by', () => {
    const req = makeRequest('OPTIONS');
    req.headers.prepend('v', 'SIP / 2.0 / udp [2001:DB8::1]:5070 ; rport ; branch = z9hG4bKv6');
    expect(topVia(req.headers)).toEqual({
      transport: 'UDP',
      sentBy: '[2001:db8::1]:5070',
      branch: 'z9hG4bKv6',
    });
  });
});

describe('transaction layer dispatch', () => {
  it('CANCEL gets its own server transaction and the INVITE it matches (RFC 3261 §9.2)', async () => {
    h = harness();
    const invite = makeRequest('INVITE', { branch: 'z9hG4bK-c1', callId: 'c1@phone' });
    h.transport.inject(inbound(invite));
    const st = h.user.requests[0]!;
    await st.respond(makeResponse(invite, 180, 'uas'));
    const cancel = makeRequest('CANCEL', { branch: 'z9hG4bK-c1', callId: 'c1@phone' });
    h.transport.inject(inbound(cancel));
    expect(h.user.cancels).toHaveLength(1);
    const { cancel: cancelSt, invite: matched } = h.user.cancels[0]!;
    expect(matched).toBe(st);
    expect(cancelSt.method).toBe('CANCEL');
    expect(cancelSt.state).toBe('trying');
    expect(h.user.requests).toHaveLength(1);
    await cancelSt.respond(makeResponse(cancel, 200, 'uas'));
    await st.respond(makeResponse(invite, 487, 'uas'));
    h.transport.inject(inbound(cancel)); // retransmitted CANCEL: its 200 again, the TU is not bothered
    expect(h.user.cancels).toHaveLength(1);
    expect(h.transport.responses().map((r) => r.status)).toEqual([180, 200, 487, 200]);
    expect(h.started).toEqual(['server:INVITE', 'server:CANCEL']);
  });

  it('CANCEL that matches no INVITE (unknown branch, other sent-by) comes with undefined', () => {
    h = harness();
    h.transport.inject(inbound(makeRequest('INVITE', { branch: 'z9hG4bK-c2', sentBy: '127.0.0.3:5062' })));
    h.transport.inject(inbound(makeRequest('CANCEL', { branch: 'z9hG4bK-other' })));
    h.transport.inject(inbound(makeRequest('CANCEL', { branch: 'z9hG4bK-c2', sentBy: '127.0.0.4:5062' })));
    expect(h.user.cancels.map((c) => c.invite)).toEqual([undefined, undefined]);
  });

  it('RFC 2543 peers (no magic cookie): retransmission, ACK with the response To tag, CANCEL', async () => {
    h = harness();
    const spec = { branch: null, callId: 'old@phone', fromTag: 'f1', cseq: 3 } as const;
    const invite = makeRequest('INVITE', spec);
    h.transport.inject(inbound(invite));
    h.transport.inject(inbound(makeRequest('INVITE', spec)));
    expect(h.user.requests).toHaveLength(1);
    const st = h.user.requests[0]!;
    expect(st.id.startsWith('2543|INVITE|')).toBe(true);

    h.transport.inject(inbound(makeRequest('CANCEL', spec)));
    expect(h.user.cancels[0]!.invite).toBe(st);

    await st.respond(makeResponse(invite, 486, 'uas-2543'));
    // An ACK whose To tag is not the one we sent does not match (goes to the TU).
    h.transport.inject(inbound(makeRequest('ACK', { ...spec, toTag: 'someone-else' })));
    expect(h.user.acks).toHaveLength(1);
    expect(st.state).toBe('completed');
    h.transport.inject(inbound(makeRequest('ACK', { ...spec, toTag: 'uas-2543' })));
    expect(st.state).toBe('confirmed');
    expect(h.user.acks).toHaveLength(1);
  });

  it('RFC 2543: a different From tag, Call-ID, CSeq or Request-URI is a different transaction', () => {
    h = harness();
    const spec = { branch: null, callId: 'old2@phone', fromTag: 'f1', cseq: 3 } as const;
    h.transport.inject(inbound(makeRequest('OPTIONS', spec)));
    h.transport.inject(inbound(makeRequest('OPTIONS', { ...spec, fromTag: 'f2' })));
    h.transport.inject(inbound(makeRequest('OPTIONS', { ...spec, callId: 'other@phone' })));
    h.transport.inject(inbound(makeRequest('OPTIONS', { ...spec, cseq: 4 })));
    h.transport.inject(inbound(makeRequest('OPTIONS', { ...spec, uri: 'sip:carol@127.0.0.1' })));
    h.transport.inject(inbound(makeRequest('OPTIONS', { ...spec, branch: 'not-a-cookie' })));
    h.transport.inject(inbound(makeRequest('OPTIONS', { ...spec, branch: 'not-a-cookie' })));
    expect(h.user.requests).toHaveLength(6);
  });

  it('a request with no usable Via is dropped without a transaction', () => {
    h = harness();
    h.transport.inject(inbound(makeRequest('OPTIONS')));
    const garbage = makeRequest('OPTIONS');
    garbage.headers.append('Via', 'not a via');
    h.transport.inject(inbound(garbage));
    const noCseq = makeRequest('OPTIONS', { branch: null });
    noCseq.headers.remove('CSeq');
    h.transport.inject(inbound(noCseq));
    expect(h.user.requests).toEqual([]);
    expect(h.layer.counts()).toEqual({ client: 0, server: 0 });
  });

  it('responses go to the client transaction of their branch and CSeq method; others are stray', async () => {
    h = harness();
    const inviteHandlers = new RecordingHandlers();
    const cancelHandlers = new RecordingHandlers();
    const inviteCt = await h.layer.sendRequest(makeRequest('INVITE'), PHONE, inviteHandlers);
    h.transport.inject(inbound(makeResponse(inviteCt.request, 180, 'b')));
    const cancel = makeRequest('CANCEL', { callId: inviteCt.request.headers.get('call-id') });
    const cancelCt = await h.layer.sendRequest(cancel, PHONE, cancelHandlers, { branch: inviteCt.id });
    expect(cancelCt.id).toBe(inviteCt.id);
    expect(cancelCt.request.headers.getAll('via')[0]).toBe(inviteCt.request.headers.getAll('via')[0]);
    h.transport.inject(inbound(makeResponse(cancelCt.request, 200, 'b')));
    h.transport.inject(inbound(makeResponse(inviteCt.request, 487, 'b')));
    expect(cancelHandlers.statuses()).toEqual([200]);
    expect(inviteHandlers.statuses()).toEqual([180, 487]);
    expect(h.transport.requests('ACK')).toHaveLength(1);
    const stray = makeRequest('OPTIONS', { branch: 'z9hG4bK-nobody' });
    h.transport.inject(inbound(makeResponse(stray, 200)));
    h.transport.inject(inbound(makeResponse(makeRequest('OPTIONS'), 200))); // no Via at all
    expect(h.user.strays).toHaveLength(2);
  });

  it('sendStateless adds a Via with a new branch (or the given one) and starts no transaction', async () => {
    h = harness();
    const ack = makeRequest('ACK');
    await h.layer.sendStateless(ack, PHONE);
    expect(ack.headers.getAll('via')[0]).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;rport;branch=z9hG4bK/);
    const ack2 = makeRequest('ACK');
    await h.layer.sendStateless(ack2, PHONE, { branch: 'z9hG4bKgiven' });
    expect(ack2.headers.getAll('via')[0]).toBe('SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKgiven');
    expect(h.layer.counts()).toEqual({ client: 0, server: 0 });
    expect(h.started).toEqual([]);
  });

  it('new branches are unique', async () => {
    h = harness();
    const branches = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const ct = await h.layer.sendRequest(makeRequest('OPTIONS'), PHONE, new RecordingHandlers());
      branches.add(ct.id);
    }
    expect(branches.size).toBe(200);
  });
});
