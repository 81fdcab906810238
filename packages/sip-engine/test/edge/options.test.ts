import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CliUsageError,
  DEFAULT_SPAMMERS,
  EDGE_DEFAULTS,
  SourceRateLimiter,
  parseCliOptions,
  parseDrachtioConfig,
  spammerMatch,
} from '../../src/index.js';
import { parseMessage, type SipRequest } from '@sbc/sip';

const CONFIG_FILE = fileURLToPath(new URL('./fixtures/drachtio.conf.xml', import.meta.url));
const CONFIG = readFileSync(CONFIG_FILE, 'utf8');

function request(lines: string[]): SipRequest {
  const result = parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n')));
  if (!result.ok || result.message.kind !== 'request') throw new Error('not a request');
  return result.message;
}

const invite = (ua: string, to = 'sip:100@127.0.0.1', from = 'sip:alice@127.0.0.3'): SipRequest =>
  request([
    'INVITE sip:100@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK1',
    `From: <${from}>;tag=1`,
    `To: <${to}>`,
    'Call-ID: a@b',
    'CSeq: 1 INVITE',
    `User-Agent: ${ua}`,
  ]);

describe('drachtio config file (<sip><spammers>, <sip><blacklist>)', () => {
  it('reads the spammers list as drachtio-server does: header names lower-cased, both actions', () => {
    const file = parseDrachtioConfig(CONFIG);
    expect(file.spammers?.action).toBe('reject');
    expect(file.spammers?.tcpAction).toBe('discard');
    expect([...(file.spammers?.headers ?? [])]).toEqual([
      ['user-agent', ['sip-cli', 'sipcli', 'friendly-scanner']],
      ['to', ['sipvicious']],
    ]);
    expect(file.blacklist).toMatchObject({
      redisAddress: '127.0.0.1',
      redisPort: '16379',
      redisKey: 'blacklist-sip-ips',
    });
  });

  it('defaults both actions to discard, and refuses an action drachtio does not know', () => {
    const spammers = parseDrachtioConfig(
      '<drachtio><sip><spammers><header name="user-agent"><value>x</value></header></spammers></sip></drachtio>',
    ).spammers;
    expect(spammers).toMatchObject({ action: 'discard', tcpAction: 'discard' });
    expect(() => parseDrachtioConfig('<drachtio><sip><spammers action="drop"/></sip></drachtio>')).toThrow(
      /expected reject or discard/,
    );
    expect(() => parseDrachtioConfig('<nope/>')).toThrow(/no <drachtio> element/);
  });
});

describe('spammer matching (drachtio: substring of User-Agent, of the To / From user)', () => {
  const rules = parseDrachtioConfig(CONFIG).spammers!;
  it('matches substrings, case-sensitively, and the To user part only', () => {
    expect(spammerMatch(invite('friendly-scanner'), rules)).toBe('friendly-scanner');
    expect(spammerMatch(invite('sipcli/v1.8'), rules)).toBe('sipcli/v1.8');
    expect(spammerMatch(invite('SIPCLI'), rules)).toBeUndefined();
    expect(spammerMatch(invite('Yealink', 'sip:sipvicious@127.0.0.1'), rules)).toBe('sipvicious');
    expect(spammerMatch(invite('Yealink', 'sip:100@sipvicious.test'), rules)).toBeUndefined();
    expect(spammerMatch(invite('Yealink', undefined, 'sip:sipvicious@127.0.0.3'), rules)).toBeUndefined();
  });
  it('has a default list of scanners when no config file names one', () => {
    expect(spammerMatch(invite('friendly-scanner'), DEFAULT_SPAMMERS)).toBeDefined();
    expect(spammerMatch(invite('Linphone/5.2'), DEFAULT_SPAMMERS)).toBeUndefined();
  });
});

describe('engine options: drachtio --blacklist-* and the edge limits', () => {
  it('turns everything on by default except the blacklist, which needs Redis', () => {
    const { edge } = parseCliOptions([], {});
    expect(edge.blacklist).toBeUndefined();
    expect(edge.spammers).toBe(DEFAULT_SPAMMERS);
    expect(edge.rateLimit).toEqual({
      requests: EDGE_DEFAULTS.rateLimitRequests,
      windowMs: EDGE_DEFAULTS.rateLimitWindowSecs * 1000,
      banMs: EDGE_DEFAULTS.rateLimitBanSecs * 1000,
    });
    expect(edge.maxConnectionsPerSource).toBe(250);
    expect(edge.exempt).toEqual([]);
  });

  it('reads the blacklist from the flags with drachtio defaults (port 6379, refresh 300 s)', () => {
    const { edge } = parseCliOptions(
      ['--blacklist-redis-address', '127.0.0.1', '--blacklist-redis-key', 'k'],
      {},
    );
    expect(edge.blacklist).toEqual({
      redis: { address: '127.0.0.1', port: 6379 },
      key: 'k',
      refreshSecs: 300,
      password: undefined,
    });
  });

  it('reads DRACHTIO_BLACKLIST_REDIS_* and sentinels, flags winning', () => {
    const { edge } = parseCliOptions(['--blacklist-redis-key', 'flag-key'], {
      DRACHTIO_BLACKLIST_REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.2:26380',
      DRACHTIO_BLACKLIST_REDIS_MASTER: 'mymaster',
      DRACHTIO_BLACKLIST_REDIS_KEY: 'env-key',
      DRACHTIO_BLACKLIST_REDIS_PASSWORD: 'pw',
      DRACHTIO_BLACKLIST_REDIS_REFRESH_SECS: '5',
    });
    expect(edge.blacklist).toEqual({
      redis: {
        sentinels: [
          { host: '127.0.0.1', port: 26379 },
          { host: '127.0.0.2', port: 26380 },
        ],
        master: 'mymaster',
      },
      password: 'pw',
      key: 'flag-key',
      refreshSecs: 5,
    });
  });

  it('takes the config file blacklist only when no address is given elsewhere (refresh 3600 s)', () => {
    const fromFile = parseCliOptions(['-f', CONFIG_FILE], {}).edge;
    expect(fromFile.blacklist).toEqual({
      redis: { address: '127.0.0.1', port: 16379 },
      key: 'blacklist-sip-ips',
      refreshSecs: 3600,
      password: undefined,
    });
    expect(fromFile.spammers?.action).toBe('reject');
    const fromFlags = parseCliOptions(
      ['--blacklist-redis-address', '127.0.0.9', '--blacklist-redis-key', 'k'],
      {
        DRACHTIO_CONFIG_FILE_PATH: CONFIG_FILE,
      },
    ).edge;
    expect(fromFlags.blacklist?.redis).toEqual({ address: '127.0.0.9', port: 6379 });
  });

  it('exempts JAMBONES_NETWORK_CIDR and --edge-allow, and turns limits off with 0', () => {
    const { edge } = parseCliOptions(
      [
        '--edge-allow',
        '127.0.2.0/24,127.0.3.5',
        '--rate-limit-requests',
        '0',
        '--max-connections-per-source',
        '0',
      ],
      { JAMBONES_NETWORK_CIDR: '127.0.1.0/24' },
    );
    expect(edge.exempt).toEqual(['127.0.1.0/24', '127.0.2.0/24', '127.0.3.5']);
    expect(edge.rateLimit).toBeUndefined();
    expect(edge.maxConnectionsPerSource).toBe(0);
  });

  it('names what is wrong', () => {
    expect(() => parseCliOptions(['--blacklist-redis-address', '127.0.0.1'], {})).toThrow(
      /needs --blacklist-redis-key/,
    );
    expect(() => parseCliOptions(['--rate-limit-requests', 'many'], {})).toThrow(CliUsageError);
    expect(() => parseCliOptions(['--edge-allow', 'not-a-network'], {})).toThrow(
      /not networks: not-a-network/,
    );
    expect(() => parseCliOptions(['--file', '/nonexistent/drachtio.conf.xml'], {})).toThrow(/cannot read/);
  });
});

describe('SourceRateLimiter (sliding window, ban, bounded table)', () => {
  it('passes a steady 50/s for a minute and bans a burst past the limit until the ban ends', () => {
    const limiter = new SourceRateLimiter({ requests: 1000, windowMs: 2000, banMs: 300_000 });
    for (let t = 0; t < 60_000; t += 20) expect(limiter.hit('127.0.0.3', t)).toBe('pass');
    const burst: string[] = [];
    for (let i = 0; i < 1200; i++) burst.push(limiter.hit('127.0.0.4', 100_000 + i / 2));
    expect(burst.filter((v) => v === 'pass').length).toBe(1000);
    expect(burst[1000]).toBe('banned-now');
    expect(burst.at(-1)).toBe('banned');
    expect(limiter.hit('127.0.0.4', 100_000 + 299_000)).toBe('banned');
    expect(limiter.hit('127.0.0.4', 100_000 + 301_000)).toBe('pass');
  });

  it('weighs the previous window: 700 at the end of one and 400 at the start of the next is over 1000', () => {
    const limiter = new SourceRateLimiter({ requests: 1000, windowMs: 2000, banMs: 1000 });
    for (let i = 0; i < 700; i++) limiter.hit('a', 1900);
    const verdicts = Array.from({ length: 400 }, () => limiter.hit('a', 2100));
    expect(verdicts).toContain('banned-now');
  });

  it('never holds more sources than its bound', () => {
    const limiter = new SourceRateLimiter({ requests: 10, windowMs: 1000, banMs: 1000 }, 1000);
    for (let i = 0; i < 5000; i++) limiter.hit(`10.0.${i >> 8}.${i & 255}`, i);
    expect(limiter.size).toBeLessThanOrEqual(1000);
  });
});
