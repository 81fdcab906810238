import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '@sbc/testkit';
import {
  clearFeatureServers,
  featureServerUp,
  JAMBONZ,
  metricValue,
  placeCall,
  rtpPackets,
  startFeatureServer,
  startInbound,
  startInboundStack,
  type InboundStack,
  type RunningInbound,
} from './support/inbound.js';

let stack: InboundStack;
let sbc: RunningInbound;

beforeAll(async () => {
  stack = await startInboundStack();
  sbc = await startInbound(stack);
});
afterAll(async () => {
  await sbc?.stop();
  await stack?.stop();
});
beforeEach(async () => {
  await clearFeatureServers(stack);
  sbc.records.cdrs.length = 0;
});

/** The INVITE a sipp feature server received, from its message log. */
function receivedInvite(messages: string): string {
  const start = messages.indexOf('INVITE sip:');
  expect(start, 'the feature server got no INVITE').toBeGreaterThanOrEqual(0);
  return messages.slice(start, messages.indexOf('\n\n', start) > 0 ? messages.indexOf('\n\n', start) : undefined);
}

describe('a carrier call (source 127.0.38.20 = westco, DID +16173333456)', () => {
  it('reaches the feature server with the identity headers and media anchored in rtpengine', async () => {
    const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 8000 });
    await featureServerUp(stack, fs.hostport);
    let callId = '';
    let packets: Record<string, number> = {};
    const caller = placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 1500, timeoutMs: 8000 });
    // While the call is up, rtpengine counts the RTP each side sends through it.
    await waitUntil(
      async () => {
        callId = [...sbc.app.calls.keys()][0] ?? '';
        if (!callId) return false;
        packets = await rtpPackets(stack.rtpengine, callId);
        return Object.values(packets).filter((n) => n > 0).length >= 2;
      },
      { what: 'RTP from both parties through rtpengine', timeoutMs: 5000 },
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\ncaller: ${(await caller).describe()}\nfs: ${(await fs.run.done).describe()}`);
    });
    const result = await caller;
    const served = await fs.run.done;
    expect(result.ok, result.describe()).toBe(true);
    expect(served.ok, served.describe()).toBe(true);

    const invite = receivedInvite(served.messages);
    // A realm Request-URI keeps its domain; the INVITE goes through the feature server as a proxy.
    expect(invite).toMatch(/^INVITE sip:\+16173333456@jambonz\.org SIP\/2\.0/);
    expect(invite).toMatch(/\nX-Forwarded-For: 127\.0\.38\.20\s*\n/);
    expect(invite).toMatch(/\nX-Originating-Carrier: westco\s*\n/);
    expect(invite).toMatch(/\nX-Forwarded-Carrier: westco\s*\n/);
    expect(invite).toMatch(new RegExp(`\\nX-Voip-Carrier-Sid: ${JAMBONZ.carriers.westcoMain}\\s*\\n`));
    expect(invite).toMatch(new RegExp(`\\nX-Account-Sid: ${JAMBONZ.accounts.main}\\s*\\n`));
    expect(invite).toMatch(/\nX-CID: \S+/);
    // `localhost` in From: the engine (like drachtio-server) puts its own address there.
    expect(invite).toMatch(/\nFrom: "Carrier Caller" <sip:15085551212@127\.0\.0\.1:\d+>;tag=/);
    expect(invite).not.toMatch(/X-Authenticated-User/);
    // The SDP the feature server got is rtpengine's, not the carrier's.
    expect(invite).toMatch(/c=IN IP4 127\.0\.0\.1/);
    expect(invite).not.toMatch(/c=IN IP4 127\.0\.38\.20/);
    expect(result.messages).toMatch(/SIP\/2\.0 200 OK[\s\S]*o=- |SIP\/2\.0 200 OK[\s\S]*c=IN IP4 127\.0\.0\.1/);
    expect(result.messages).not.toMatch(/X-Trace-ID/);

    // Both directions carried RTP through rtpengine.
    expect(Object.keys(packets)).toHaveLength(2);
    for (const count of Object.values(packets)) expect(count).toBeGreaterThan(0);

    await waitUntil(() => Promise.resolve(sbc.app.calls.size === 0), { what: 'the call to end' });
    const cdr = sbc.records.cdrs.at(-1);
    expect(cdr).toMatchObject({
      answered: true,
      sip_status: 200,
      trunk: 'westco',
      account_sid: JAMBONZ.accounts.main,
      termination_reason: 'caller hungup',
      remote_host: '127.0.38.20',
      to: '16173333456',
      call_sid: 'call-sid-1',
      trace_id: 'trace-1',
    });
    const text = await sbc.scrape();
    expect(metricValue(text, 'sbc_invites_total', { outcome: 'connected', originator: 'trunk' })).toBeGreaterThan(0);
    expect(metricValue(text, 'sbc_calls_in_progress')).toBe(0);
  });
});
