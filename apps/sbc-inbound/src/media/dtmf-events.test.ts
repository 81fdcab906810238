import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@sbc/service';
import { afterEach, describe, expect, it } from 'vitest';
import { DtmfEvents, parseDtmfEvent, type DtmfEvent } from './dtmf-events.js';

/** What rtpengine 10.5 sent for a 200 ms `9` (captured with --dtmf-log-dest). */
const RTPENGINE_EVENT =
  '{"callid":"c1","source_tag":"ta","tags":["tb","ta"],"type":"DTMF","timestamp":1796580842,"source_ip":"127.0.0.1","event":9,"duration":200,"volume":10}';

describe('parseDtmfEvent', () => {
  it('reads rtpengine’s datagram, with RFC 4733 event codes for * # and A–D', () => {
    expect(parseDtmfEvent(RTPENGINE_EVENT)).toEqual({
      callId: 'c1',
      sourceTag: 'ta',
      code: '9',
      durationMs: 200,
    });
    const withEvent = (event: number) =>
      parseDtmfEvent(JSON.stringify({ callid: 'c', source_tag: 't', event, duration: 100 }))?.code;
    expect([10, 11, 12, 15].map(withEvent)).toEqual(['*', '#', 'A', 'D']);
  });

  it('refuses anything else: not JSON, no call, no tag, flash (16) or a bad duration', () => {
    expect(parseDtmfEvent('not json')).toBeUndefined();
    expect(parseDtmfEvent('null')).toBeUndefined();
    const base = { callid: 'c', source_tag: 't', event: 1, duration: 100 };
    expect(parseDtmfEvent(JSON.stringify({ ...base, callid: '' }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...base, source_tag: 3 }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...base, event: 16 }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...base, event: 1.5 }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...base, duration: -1 }))).toBeUndefined();
    expect(parseDtmfEvent(JSON.stringify({ ...base, type: 'other' }))).toBeUndefined();
  });
});

const silent = createLogger({ level: 'silent', name: 'dtmf-events-test' });

describe('DtmfEvents', () => {
  let listener: DtmfEvents | undefined;
  const senders: ReturnType<typeof createSocket>[] = [];
  afterEach(() => {
    listener?.close();
    for (const s of senders.splice(0)) s.close();
  });

  async function sender(address: string) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    senders.push(socket);
    return (text: string) => socket.send(text, listener!.port, '127.0.0.1');
  }

  it('delivers a subscribed party’s digits, only from an rtpengine address, until unsubscribed', async () => {
    listener = await DtmfEvents.open({
      host: '127.0.0.1',
      port: 0,
      isRtpengine: (address) => address === '127.0.60.1',
      logger: silent,
    });
    const got: DtmfEvent[] = [];
    const stop = listener.subscribe('c1', 'ta', (event) => got.push(event));
    const rtpengine = await sender('127.0.60.1');
    const stranger = await sender('127.0.60.2');

    rtpengine(RTPENGINE_EVENT);
    stranger(RTPENGINE_EVENT);
    rtpengine(RTPENGINE_EVENT.replace('"ta"', '"tb"'));
    rtpengine('garbage');
    await sleep(200);
    expect(got).toEqual([{ callId: 'c1', sourceTag: 'ta', code: '9', durationMs: 200 }]);
    expect(listener.counts).toEqual({ delivered: 1, unsubscribed: 1, dropped: 2 });

    stop();
    rtpengine(RTPENGINE_EVENT);
    await sleep(200);
    expect(got).toHaveLength(1);
    expect(listener.counts.unsubscribed).toBe(2);
  });

  it('names the port it cannot bind', async () => {
    listener = await DtmfEvents.open({
      host: '127.0.0.1',
      port: 0,
      isRtpengine: () => true,
      logger: silent,
    });
    await expect(
      DtmfEvents.open({ host: '127.0.0.1', port: listener.port, isRtpengine: () => true, logger: silent }),
    ).rejects.toThrow(`cannot listen for rtpengine DTMF events on 127.0.0.1:${listener.port}`);
  });
});
