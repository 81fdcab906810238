import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, onShutdown, type ShutdownProcess } from '../src/index.js';
import { runFixture } from './helpers/child.js';
import { LogCapture } from './helpers/log-capture.js';

/** A process stand-in: signals are emitted by the test, exit codes recorded. */
class FakeProcess extends EventEmitter implements ShutdownProcess {
  readonly exitCodes: number[] = [];
  exit(code: number): void {
    this.exitCodes.push(code);
  }
}

describe('onShutdown in a real process', () => {
  it('runs the steps in order on SIGTERM and exits 0', async () => {
    const run = runFixture('shutdown-app.mjs');
    await run.waitForLine((l) => l.msg === 'ready');
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const lines = run.jsonLines();
    expect(lines.map((l) => [l.msg, l.step ?? l.reason ?? l.code])).toEqual([
      ['ready', undefined],
      ['shutting down', 'SIGTERM'],
      ['shutdown step done', 'leave active-sip'],
      ['shutdown step done', 'close redis'],
      ['exiting', 0],
    ]);
  });

  it('exits 1 on SIGINT when a step fails, after running the steps that follow it', async () => {
    const run = runFixture('shutdown-app.mjs', { FIXTURE_MODE: 'fail' });
    await run.waitForLine((l) => l.msg === 'ready');
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect(code).toBe(1);
    const lines = run.jsonLines();
    expect(lines.map((l) => [l.msg, l.step])).toEqual([
      ['ready', undefined],
      ['shutting down', undefined],
      ['shutdown step done', 'leave active-sip'],
      ['shutdown step failed', 'close mysql'],
      ['shutdown step done', 'close redis'],
      ['exiting', undefined],
    ]);
    expect(lines[3]).toMatchObject({ level: 50, err: { message: 'pool already closed' } });
  });

  it('gives up on a step that hangs after its timeout and still exits (1)', async () => {
    const run = runFixture('shutdown-app.mjs', { FIXTURE_MODE: 'hang' });
    await run.waitForLine((l) => l.msg === 'ready');
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(1);
    const failed = run.jsonLines().find((l) => l.msg === 'shutdown step failed');
    expect(failed).toMatchObject({
      step: 'drain calls',
      err: {
        type: 'ShutdownStepTimeoutError',
        message: "shutdown step 'drain calls' did not finish within 300 ms",
      },
    });
    expect(run.jsonLines().at(-2)).toMatchObject({ msg: 'shutdown step done', step: 'close redis' });
  });

  it('writes every line logged before the exit, in order, while writes are still in flight', async () => {
    const run = runFixture('shutdown-app.mjs', { FIXTURE_MODE: 'burst' });
    await run.waitForLine((l) => l.msg === 'ready');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const lines = run.jsonLines();
    const burst = lines.filter((l) => l.msg === 'burst').map((l) => l.seq);
    expect(burst).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(lines.at(-1)).toMatchObject({ msg: 'exiting', code: 0 });
  });
});

describe('onShutdown with an injected process', () => {
  it('handles the first signal only and logs the others', async () => {
    const proc = new FakeProcess();
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', name: 'sbc', destination: capture });
    let release!: () => void;
    const order: string[] = [];
    onShutdown(
      logger,
      [
        {
          name: 'drain',
          run: () => new Promise<void>((resolve) => (release = resolve)).then(() => void order.push('drain')),
        },
        { name: 'close', run: () => void order.push('close') },
      ],
      { process: proc },
    );
    proc.emit('SIGTERM', 'SIGTERM');
    await capture.waitForMsg('shutting down');
    proc.emit('SIGINT', 'SIGINT');
    expect(await capture.waitForMsg('already shutting down')).toMatchObject({ reason: 'SIGINT' });
    release();
    await capture.waitForMsg('exiting');
    expect(order).toEqual(['drain', 'close']);
    await vi.waitFor(() => expect(proc.exitCodes).toEqual([0]));
  });

  it('can be triggered without a signal and disposed', async () => {
    const proc = new FakeProcess();
    const capture = new LogCapture();
    const handle = onShutdown(createLogger({ level: 'info', name: 'sbc', destination: capture }), [], {
      process: proc,
    });
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    expect(await handle.shutdown('fatal: lost MySQL')).toBe(0);
    expect(await handle.shutdown('again')).toBe(0);
    expect(proc.exitCodes).toEqual([0]);
    handle.dispose();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });
});
