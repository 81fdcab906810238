import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ngCommand, startRtpengine, type RtpengineService } from '../src/index.js';
import { processIsGone } from './helpers.js';

interface RtpengineClient {
  ping(port: number, host: string): Promise<{ result: string }>;
  close(): void;
}
// rtpengine-client is CommonJS without types; this is the one call the smoke test needs.
const { Client } = createRequire(import.meta.url)('rtpengine-client') as {
  Client: new (opts?: { timeout?: number }) => RtpengineClient;
};

describe('startRtpengine', () => {
  let rtpengine: RtpengineService;
  beforeAll(async () => {
    rtpengine = await startRtpengine();
  });
  afterAll(async () => {
    await rtpengine?.stop();
  });

  it('answers an NG ping from rtpengine-client', async () => {
    const client = new Client({ timeout: 2000 });
    try {
      const answer = await client.ping(rtpengine.ngPort, rtpengine.host);
      expect(answer.result).toBe('pong');
    } finally {
      client.close();
    }
  });

  it('takes an offer on its loopback media ports', async () => {
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.3',
      's=-',
      'c=IN IP4 127.0.0.3',
      't=0 0',
      'm=audio 40000 RTP/AVP 0',
      'a=rtpmap:0 PCMU/8000',
      '',
    ].join('\r\n');
    const answer = await ngCommand(rtpengine.host, rtpengine.ngPort, {
      command: 'offer',
      'call-id': 'smoke-offer',
      'from-tag': 'a1',
      sdp,
    });
    expect(answer.result).toBe('ok');
    const answerSdp = typeof answer.sdp === 'string' ? answer.sdp : '';
    const port = Number(/m=audio (\d+)/.exec(answerSdp)?.[1]);
    expect(port).toBeGreaterThanOrEqual(rtpengine.portMin);
    expect(port).toBeLessThanOrEqual(rtpengine.portMax);
    expect(answerSdp).toContain('c=IN IP4 127.0.0.1');
    await ngCommand(rtpengine.host, rtpengine.ngPort, {
      command: 'delete',
      'call-id': 'smoke-offer',
      'from-tag': 'a1',
    });
  });

  it('stops its process', async () => {
    const own = await startRtpengine();
    await own.stop();
    expect(processIsGone(own.pid)).toBe(true);
  });
});
