import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxdb, type InfluxdbService } from '../src/index.js';
import { processIsGone } from './helpers.js';

describe('startInfluxdb', () => {
  let influx: InfluxdbService;
  beforeAll(async () => {
    influx = await startInfluxdb();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('writes and reads back a point on loopback', async () => {
    expect(influx.host).toBe('127.0.0.1');
    await influx.query('CREATE DATABASE kit');
    const write = await fetch(`http://${influx.host}:${influx.port}/write?db=kit`, {
      method: 'POST',
      body: 'm,box=a value=1 1700000000000000000',
    });
    expect(write.status).toBe(204);
    const [result] = await influx.query('SELECT value FROM m WHERE box = $box', {
      db: 'kit',
      params: { box: 'a' },
    });
    expect(result?.series?.[0]?.values).toEqual([['2023-11-14T22:13:20Z', 1]]);
  });

  it('leaves no process and no directory behind when stopped', async () => {
    const own = await startInfluxdb();
    expect(existsSync(own.dataDir)).toBe(true);
    await own.stop();
    expect(processIsGone(own.pid)).toBe(true);
    expect(existsSync(own.dataDir)).toBe(false);
  });
});
