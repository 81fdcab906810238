import { createRequest, responseTo, setToTag, type SipRequest, type SipResponse } from '@sbc/sip';
import { describe, expect, it } from 'vitest';
import { Dialog, dialogIdOf, type AckWait } from '../../src/dialog/dialog.js';
import { DialogTable } from '../../src/dialog/dialog-table.js';
import type { Inbound, LocalEndpoint, Peer } from '../../src/transport/types.js';

const local: LocalEndpoint = {
  protocol: 'udp',
  address: '127.0.0.1',
  port: 5060,
  advertisedAddress: '127.0.0.1',
};
const alice: Peer = { protocol: 'udp', address: '127.0.0.2', port: 5062 };
const proxy: Peer = { protocol: 'udp', address: '127.0.0.3', port: 5060 };

function invite(): SipRequest {
  return createRequest('INVITE', 'sip:bob@127.0.0.1', {
    Via: 'SIP/2.0/UDP 127.0.0.3;branch=z9hG4bKp, SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKa',
    'Record-Route': ['<sip:127.0.0.3;lr>', '<sip:127.0.0.4;lr>'],
    From: '"Alice" <sip:alice@127.0.0.2>;tag=a1',
    To: '<sip:bob@127.0.0.1>',
    'Call-ID': 'call-1',
    CSeq: '314 INVITE',
    Contact: '<sip:alice@127.0.0.2:5062>',
  });
}

function inbound<M extends SipRequest | SipResponse>(message: M, source: Peer): Inbound<M> {
  return { message, raw: Buffer.alloc(0), source, local, receivedAt: Date.now() };
}

function answer(request: SipRequest, status: number, contact: string): SipResponse {
  const response = responseTo(request, status);
  setToTag(response, 'b1');
  response.headers.set('Contact', contact);
  for (const rr of request.headers.getAll('record-route')) response.headers.append('Record-Route', rr);
  return response;
}

function uasDialog(): Dialog {
  return Dialog.asUas({
    id: dialogIdOf('call-1', 'a1'),
    invite: inbound(invite(), proxy),
    localTag: 'b1',
    localContact: '<sip:127.0.0.1:5060>',
    state: 'confirmed',
    owner: undefined,
  });
}

describe('UAS dialog (RFC 3261 §12.1.1)', () => {
  it('takes its state from the INVITE', () => {
    const dialog = uasDialog();
    expect(dialog.role).toBe('uas');
    expect(dialog.callId).toBe('call-1');
    expect(dialog.localTag).toBe('b1');
    expect(dialog.remoteTag).toBe('a1');
    expect(dialog.localUri).toBe('<sip:bob@127.0.0.1>');
    expect(dialog.remoteUri).toBe('"Alice" <sip:alice@127.0.0.2>');
    expect(dialog.remoteTarget).toBe('sip:alice@127.0.0.2:5062');
    expect(dialog.routeSet).toEqual(['<sip:127.0.0.3;lr>', '<sip:127.0.0.4;lr>']);
    expect(dialog.remoteCseq).toBe(314);
    expect(dialog.peer).toEqual(proxy);
  });

  it('builds the dialog headers of its requests with a rising CSeq, the ACK with its INVITE number', () => {
    const dialog = uasDialog();
    const first = dialog.localCseq;
    const bye = dialog.requestHeaders('BYE');
    expect(bye.get('from')).toBe('<sip:bob@127.0.0.1>;tag=b1');
    expect(bye.get('to')).toBe('"Alice" <sip:alice@127.0.0.2>;tag=a1');
    expect(bye.get('call-id')).toBe('call-1');
    expect(bye.get('cseq')).toBe(`${first + 1} BYE`);
    expect(bye.getAll('route')).toEqual(['<sip:127.0.0.3;lr>', '<sip:127.0.0.4;lr>']);
    const reinvite = dialog.requestHeaders('INVITE');
    expect(reinvite.get('cseq')).toBe(`${first + 2} INVITE`);
    dialog.requestHeaders('INFO');
    expect(dialog.requestHeaders('ACK').get('cseq')).toBe(`${first + 2} ACK`);
  });

  it('refuses a request whose CSeq went down (RFC 3261 §12.2.2), except PRACK, ACK and CANCEL', () => {
    const dialog = uasDialog();
    const request = (method: string, seq: number): SipRequest =>
      createRequest(method, 'sip:bob@127.0.0.1', { CSeq: `${seq} ${method}` });
    expect(dialog.acceptRemoteCseq(request('INFO', 315))).toBe(true);
    expect(dialog.remoteCseq).toBe(315);
    expect(dialog.acceptRemoteCseq(request('INFO', 314))).toBe(false);
    expect(dialog.acceptRemoteCseq(request('PRACK', 314))).toBe(true);
    expect(dialog.acceptRemoteCseq(request('ACK', 1))).toBe(true);
    expect(dialog.remoteCseq).toBe(315);
  });

  it('takes a new remote target from a target refresh (RFC 3261 §12.2)', () => {
    const dialog = uasDialog();
    dialog.refreshTarget('<sip:alice@127.0.0.5:5070;transport=tcp>');
    expect(dialog.remoteTarget).toBe('sip:alice@127.0.0.5:5070;transport=tcp');
    dialog.refreshTarget('not a contact');
    dialog.refreshTarget(undefined);
    expect(dialog.remoteTarget).toBe('sip:alice@127.0.0.5:5070;transport=tcp');
  });
});

describe('UAC dialog (RFC 3261 §12.1.2)', () => {
  it('takes its state from our INVITE and the response, the route set reversed', () => {
    const request = invite();
    request.headers.remove('record-route');
    const ringing = answer(request, 180, '<sip:bob@127.0.0.6>');
    ringing.headers.append('Record-Route', '<sip:127.0.0.3;lr>');
    ringing.headers.append('Record-Route', '<sip:127.0.0.4;lr>');
    ringing.headers.set('RSeq', '1');
    const dialog = Dialog.asUac({
      id: dialogIdOf('call-1', 'a1'),
      invite: request,
      response: inbound(ringing, proxy),
      localContact: '<sip:alice@127.0.0.2:5062>',
      owner: undefined,
    });
    expect(dialog.role).toBe('uac');
    expect(dialog.state).toBe('early');
    expect(dialog.localTag).toBe('a1');
    expect(dialog.remoteTag).toBe('b1');
    expect(dialog.remoteTarget).toBe('sip:bob@127.0.0.6');
    expect(dialog.routeSet).toEqual(['<sip:127.0.0.4;lr>', '<sip:127.0.0.3;lr>']);
    expect(dialog.localCseq).toBe(314);
    expect(dialog.requestHeaders('PRACK').get('cseq')).toBe('315 PRACK');
    expect(dialog.requestHeaders('ACK').get('cseq')).toBe('314 ACK');

    dialog.updateFromResponse(inbound(answer(request, 200, '<sip:bob@127.0.0.7>'), alice));
    expect(dialog.state).toBe('confirmed');
    expect(dialog.remoteTarget).toBe('sip:bob@127.0.0.7');
    expect(dialog.peer).toEqual(alice);
  });
});

describe('2xx retransmission until the ACK (RFC 3261 §13.3.1.4)', () => {
  function wait(overrides: Partial<AckWait>, log: string[]): AckWait {
    return {
      txnId: 't1',
      unreliable: true,
      T1: 10,
      T2: 40,
      resend: () => log.push('resend'),
      onTimeout: () => log.push('timeout'),
      onEnd: () => log.push('end'),
      ...overrides,
    };
  }

  it('re-sends at T1 doubling to T2, then gives up after 64·T1', async () => {
    const log: string[] = [];
    const dialog = uasDialog();
    dialog.awaitAck(wait({}, log));
    // Timer H's 640 ms, plus what a loaded machine adds to the timers.
    const deadline = Date.now() + 5000;
    while (!log.includes('timeout') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // 10, 20, 40, 40, ... until 640 ms: 10+20+40*15 = 630 → 16 re-sends (fewer when the machine
    // delays the timers; one more when it delays Timer H past the 17th), then the timeout, and
    // nothing after it.
    const resends = log.filter((e) => e === 'resend').length;
    expect(resends).toBeGreaterThanOrEqual(5);
    expect(resends).toBeLessThanOrEqual(17);
    expect(log.slice(-2)).toEqual(['end', 'timeout']);
    await new Promise((r) => setTimeout(r, 100));
    expect(log.slice(-2)).toEqual(['end', 'timeout']);
  });

  it('stops at the ACK and names the INVITE it acknowledges', async () => {
    const log: string[] = [];
    const dialog = uasDialog();
    dialog.awaitAck(wait({}, log));
    await new Promise((r) => setTimeout(r, 45));
    expect(dialog.ackReceived()).toBe('t1');
    const sent = log.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(log.length).toBe(sent);
    expect(log).toContain('end');
    expect(log).not.toContain('timeout');
    expect(dialog.ackReceived()).toBeUndefined();
  });

  it('over a reliable transport only waits', async () => {
    const log: string[] = [];
    uasDialog().awaitAck(wait({ unreliable: false, T1: 2 }, log));
    await new Promise((r) => setTimeout(r, 200));
    expect(log).toEqual(['end', 'timeout']);
  });

  it('ends with the dialog: a terminated dialog neither re-sends nor times out', async () => {
    const log: string[] = [];
    const dialog = uasDialog();
    const table = new DialogTable();
    table.add(dialog);
    dialog.awaitAck(wait({}, log));
    table.remove(dialog);
    expect(dialog.state).toBe('terminated');
    expect(table.get(dialog.id)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(log).toEqual(['end']);
  });
});

describe('DialogTable', () => {
  it('finds a dialog by id and by Call-ID + local tag, checking the remote tag', () => {
    const table = new DialogTable();
    const dialog = uasDialog();
    table.add(dialog);
    expect(table.get('call-1;from-tag=a1')).toBe(dialog);
    expect(table.match('call-1', 'b1', 'a1')).toBe(dialog);
    expect(table.match('call-1', 'b1', 'other')).toBeUndefined();
    expect(table.match('call-1', 'x', 'a1')).toBeUndefined();
    dialog.confirm();
    expect(dialog.state).toBe('confirmed');
  });
});
