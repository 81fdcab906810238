/**
 * An engine that goes away takes its dialogs with it (a restarted engine forgets them; nobody will
 * send their BYE): the app ends the calls it had on that connection — rtpengine session deleted,
 * counters given back, CDR written — instead of keeping them for good.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ngCommand, waitUntil } from '@sbc/testkit';
import {
  featureServerUp,
  JAMBONZ,
  placeCall,
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
  sbc = await startInbound(stack, { JAMBONES_TRACK_ACCOUNT_CALLS: '1' });
});
afterAll(async () => {
  await sbc?.stop();
  await stack?.stop();
});

it('ends the calls of an engine connection that closed: no session, counter or call left', async () => {
  const fs = await startFeatureServer('uas-fs-answer', '127.0.1.10', { timeoutMs: 15_000 });
  await featureServerUp(stack, fs.hostport);
  const caller = placeCall(stack, 'uac-call', { host: 'jambonz.org', hold: 8000, timeoutMs: 12_000 });
  await waitUntil(() => Promise.resolve(sbc.app.calls.size === 1), { what: 'the call to be up' });
  const counter = `incalls:account:${JAMBONZ.accounts.main}`;
  expect(await stack.redisClient.get(counter)).toBe('1');

  await stack.engine.stop();
  await waitUntil(() => Promise.resolve(sbc.app.calls.size === 0), {
    what: 'the call to end',
    timeoutMs: 5000,
  });
  await waitUntil(async () => (await stack.redisClient.get(counter)) === '0', { what: 'the counter at 0' });
  const list = await ngCommand(stack.rtpengine.host, stack.rtpengine.ngPort, { command: 'list' });
  expect(Array.isArray(list.calls) ? list.calls.length : 0).toBe(0);
  await waitUntil(() => Promise.resolve(sbc.records.cdrs.length === 1), { what: 'the CDR' });
  expect(sbc.records.cdrs[0]).toMatchObject({
    answered: true,
    termination_reason: 'sbc: engine connection lost',
  });
  await caller.catch(() => undefined);
  await fs.run.stop();
});
