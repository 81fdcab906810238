import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createPeriodicTask } from '../src/index.js';

/** A run that takes `ms`, counting how many are in flight at once. */
function slowRun(ms: number) {
  const stats = { runs: 0, active: 0, maxActive: 0, finished: 0 };
  const run = async () => {
    stats.runs++;
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    await sleep(ms);
    stats.active--;
    stats.finished++;
  };
  return { stats, run };
}

describe('createPeriodicTask', () => {
  it('runs every interval and never overlaps a slow run', async () => {
    const { stats, run } = slowRun(50);
    const task = createPeriodicTask({ intervalMs: 10, run, onError: () => undefined });
    task.start(0);
    // runNow while one is in flight joins it instead of starting another.
    await sleep(5);
    const joined = task.runNow();
    await sleep(200);
    await joined;
    await task.stop();
    expect(stats.runs).toBeGreaterThanOrEqual(3);
    expect(stats.maxActive).toBe(1);
  });

  it('stop() waits for the run in flight and nothing runs after it', async () => {
    const { stats, run } = slowRun(80);
    const task = createPeriodicTask({ intervalMs: 10, run, onError: () => undefined });
    task.start(0);
    await sleep(20);
    expect(stats.active).toBe(1);
    await task.stop();
    expect(stats.active).toBe(0);
    expect(stats.finished).toBe(stats.runs);
    const runs = stats.runs;
    await sleep(60);
    expect(stats.runs).toBe(runs);
    expect(task.started).toBe(false);
  });

  it('reports errors and goes on; a returned number is the next delay', async () => {
    const errors: unknown[] = [];
    const delays: number[] = [];
    let last = Date.now();
    let calls = 0;
    const task = createPeriodicTask({
      intervalMs: 1000,
      run: () => {
        delays.push(Date.now() - last);
        last = Date.now();
        calls++;
        if (calls === 1) throw new Error('boom');
        return 20;
      },
      onError: (err) => errors.push(err),
    });
    task.start(0);
    await sleep(30);
    // After the error the interval applies (1 s): only the first run so far.
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    await task.runNow();
    await sleep(70);
    await task.stop();
    // After runNow's returned 20 ms, the next runs come 20 ms apart, not 1 s.
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('start() waits firstDelayMs (the interval by default)', async () => {
    let calls = 0;
    const task = createPeriodicTask({ intervalMs: 40, run: () => void calls++, onError: () => undefined });
    task.start();
    await sleep(20);
    expect(calls).toBe(0);
    await sleep(40);
    expect(calls).toBe(1);
    await task.stop();
  });
});
