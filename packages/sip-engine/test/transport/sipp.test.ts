import { runSipp, scenarioPath } from '@sbc/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { responseTo } from '@sbc/sip';
import { createTransportLayer, type TransportLayer } from '../../src/transport/index.js';

let layer: TransportLayer;
let answered = 0;

beforeAll(async () => {
  layer = createTransportLayer([
    { protocol: 'udp', address: '127.0.4.1', port: 0 },
    { protocol: 'tcp', address: '127.0.4.1', port: 0 },
  ]);
  layer.onMessage((inbound) => {
    if (inbound.message.kind !== 'request') return;
    answered++;
    layer.sendResponse(responseTo(inbound.message, 200), inbound.connectionId).catch(() => undefined);
  });
  await layer.start();
});
afterAll(async () => {
  await layer?.stop();
});

it.each(['udp', 'tcp'] as const)('answers sipp options-uac over %s', async (transport) => {
  const port = layer.endpoints.find((e) => e.protocol === transport)!.port;
  const before = answered;
  const result = await runSipp({
    scenario: scenarioPath('options-uac'),
    target: `127.0.4.1:${port}`,
    localAddress: '127.0.0.3',
    transport,
    count: 20,
    rate: 200,
  });
  expect(result.ok, result.describe()).toBe(true);
  expect(result.successfulCalls).toBe(20);
  expect(answered - before).toBeGreaterThanOrEqual(20);
});
