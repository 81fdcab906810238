import { describe, expect, it } from 'vitest';
import {
  combineAlertSinks,
  createLogAlertSink,
  createLogger,
  type Alert,
  createMetrics,
  SipAnswer,
  requestLog,
} from '../src/index.js';
import { LogCapture } from './helpers/log-capture.js';

describe('alerts', () => {
  it('the default sink writes an error line and sbc_alerts_total{alert_type}', async () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'alerts-test', destination: capture });
    const metrics = createMetrics({ defaultMetrics: false });
    const sink = createLogAlertSink(logger, metrics);
    sink.alert({
      alert_type: 'webhook-failure',
      message: 'auth hook answered garbage',
      detail: { url: 'http://127.0.0.1/hook' },
      account_sid: 'acct-1',
      service_provider_sid: null,
    });
    const line = await capture.waitFor((l) => l.msg === 'auth hook answered garbage');
    expect(line).toMatchObject({
      level: 50,
      alert_type: 'webhook-failure',
      account_sid: 'acct-1',
      url: 'http://127.0.0.1/hook',
    });
    expect(line).not.toHaveProperty('service_provider_sid');
    expect(await metrics.registry.metrics()).toContain('sbc_alerts_total{alert_type="webhook-failure"} 1');
  });

  it('a combined sink hands each alert to every sink, past one that throws', () => {
    const seen: Alert[] = [];
    const sink = combineAlertSinks(
      {
        alert: () => {
          throw new Error('broken sink');
        },
      },
      { alert: (alert) => seen.push(alert) },
    );
    const alert = { alert_type: 'account-device-limit', message: 'too many devices' };
    expect(() => sink.alert(alert)).not.toThrow();
    expect(seen).toEqual([alert]);
  });
});

describe('SipAnswer and requestLog', () => {
  class Busy extends SipAnswer {
    readonly status = 486;
    readonly reason = 'busy';
    override readonly xReason = 'Busy here';
    override headers() {
      return { 'Retry-After': '5' };
    }
  }

  it('an answer carries its status, labels and headers, without a stack', () => {
    const answer = new Busy('callee busy');
    expect(answer).toBeInstanceOf(Error);
    expect([answer.status, answer.reason, answer.xReason, answer.reasonPhrase]).toEqual([
      486,
      'busy',
      'Busy here',
      undefined,
    ]);
    expect(answer.headers()).toEqual({ 'Retry-After': '5' });
    expect(answer.stack?.split('\n')).toHaveLength(1);
  });

  it('the request logger makes its child on the first enabled line, with the bindings of then', async () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'request-log-test', destination: capture });
    const bindings: Record<string, unknown> = {};
    const log = requestLog(logger, 'call-1', bindings);
    log.debug({}, 'not written');
    bindings.aor = 'alice@sbc.test';
    log.info({ step: 2 }, 'written');
    const line = await capture.waitFor((l) => l.msg === 'written');
    expect(line).toMatchObject({ callId: 'call-1', aor: 'alice@sbc.test', step: 2 });
    expect(capture.lines.some((l) => l.msg === 'not written')).toBe(false);
  });
});
