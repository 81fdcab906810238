import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sbc/service';
import { inboundOptions } from './app.js';
import { inboundVariables, loadInboundConfig } from './config.js';

const BASE = {
  DRACHTIO_HOST: '127.0.0.1',
  DRACHTIO_SECRET: 'cymru',
  JAMBONES_MYSQL_HOST: '127.0.0.1',
  JAMBONES_MYSQL_USER: 'jambones',
  JAMBONES_MYSQL_PASSWORD: 'secret',
  JAMBONES_MYSQL_DATABASE: 'jambones',
  JAMBONES_REDIS_HOST: '127.0.0.1',
  JAMBONES_NETWORK_CIDR: '127.0.1.0/24',
  JWT_SECRET: 'a-jwt-secret-long-enough',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadInboundConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.message);
    throw err;
  }
  return [];
}

describe('sbc-inbound configuration', () => {
  it('takes jambonz’s variables with jambonz’s defaults', () => {
    const config = loadInboundConfig(BASE);
    expect(config.httpPort).toBe(3000);
    expect(config.clusterId).toBe('default');
    expect(config.network).toEqual({ k8s: false, cidrs: ['127.0.1.0/24'] });
    expect(config.rtpengine.port).toBe(22222);
    expect(config.rtpengine.pingIntervalMs).toBe(20_000);
    expect(config.limits.minCallLimit).toBe(0);
    expect(config.trustedProxyCidrs).toEqual([]);
    expect(config.timeSeries).toBeUndefined();
  });

  it('names JAMBONES_NETWORK_CIDR when it is missing without K8S, in one line', () => {
    const { JAMBONES_NETWORK_CIDR: _cidr, ...env } = BASE;
    expect(problems(env)).toEqual([
      expect.stringMatching(/^JAMBONES_NETWORK_CIDR is required unless K8S is set/),
    ]);
    expect(problems({ ...env, K8S: '1' })).toEqual([]);
  });

  it('reads several rtpengines from JAMBONES_RTPENGINES (jambonz reads one)', () => {
    const config = loadInboundConfig({
      ...BASE,
      JAMBONES_RTPENGINES: '127.0.0.1:22222, 127.0.0.5,[::1]:2223',
    });
    expect(config.rtpengine.list).toEqual([
      { host: '127.0.0.1', port: 22222 },
      { host: '127.0.0.5', port: 22222 },
      { host: '::1', port: 2223 },
    ]);
    expect(problems({ ...BASE, JAMBONES_RTPENGINES: '127.0.0.1:99999' })).toEqual([
      expect.stringMatching(/^JAMBONES_RTPENGINES=127\.0\.0\.1:99999 is not a list of host\[:port\]/),
    ]);
  });

  it('clamps RTPENGINE_PING_INTERVAL to 10–60 s as jambonz does, and refuses bad values with their name', () => {
    expect(loadInboundConfig({ ...BASE, RTPENGINE_PING_INTERVAL: '1000' }).rtpengine.pingIntervalMs).toBe(
      10_000,
    );
    expect(loadInboundConfig({ ...BASE, RTPENGINE_PING_INTERVAL: '600000' }).rtpengine.pingIntervalMs).toBe(
      60_000,
    );
    expect(problems({ ...BASE, SBC_TRUSTED_PROXY_CIDRS: '127.0.0.0/33' })).toEqual([
      expect.stringMatching(/^SBC_TRUSTED_PROXY_CIDRS=/),
    ]);
    expect(problems({ ...BASE, JAMBONES_FEATURE_SERVERS: '127.0.1.10:5070,not a host' })).toEqual([
      expect.stringMatching(/^JAMBONES_FEATURE_SERVERS=.* is not a list of host\[:port\]/),
    ]);
  });

  it('turns JAMBONES_ACCEPT_G729 into the codec mask unless JAMBONES_ACCEPT_AND_TRANSCODE is set', () => {
    expect(
      inboundOptions(loadInboundConfig({ ...BASE, JAMBONES_ACCEPT_G729: '1' })).invite.media,
    ).toMatchObject({
      acceptAndTranscode: ['g729'],
    });
    const both = loadInboundConfig({
      ...BASE,
      JAMBONES_ACCEPT_G729: '1',
      JAMBONES_ACCEPT_AND_TRANSCODE: 'opus,g722',
    });
    expect(inboundOptions(both).invite.media.acceptAndTranscode).toEqual(['opus', 'g722']);
  });

  it('adds INSTANCE_ID to JAMBONES_RTPENGINE_UDP_PORT, and a dedicated SBC does not publish its address', () => {
    const options = inboundOptions(
      loadInboundConfig({
        ...BASE,
        JAMBONES_RTPENGINE_UDP_PORT: '40000',
        INSTANCE_ID: '2',
        SBC_ACCOUNT_SID: 'acct',
      }),
    );
    expect(options.rtpengines.localPort).toBe(40_002);
    expect(options.sbcAddresses.record).toBe(false);
  });

  it('lists every variable it reads, jambonz’s names among them', () => {
    const names = inboundVariables().map((v) => v.name);
    for (const name of [
      'JAMBONES_NETWORK_CIDR',
      'JAMBONES_RTPENGINES',
      'JAMBONES_HOSTING',
      'MS_TEAMS_SIP_PROXY_IPS',
      'SBC_ACCOUNT_SID',
      'K8S_FEATURE_SERVER_SERVICE_NAME',
      'SBC_TRUSTED_PROXY_CIDRS',
    ]) {
      expect(names).toContain(name);
    }
  });
});
