import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliOptions, parseContact } from '../../src/index.js';

describe('parseContact (drachtio --contact)', () => {
  it('expands one listen spec per transport', () => {
    expect(parseContact('sip:127.0.0.1:5080;transport=udp,tcp')).toEqual([
      { protocol: 'udp', address: '127.0.0.1', port: 5080 },
      { protocol: 'tcp', address: '127.0.0.1', port: 5080 },
    ]);
  });

  it('takes * as every interface, default ports, IPv6 references and ws/tls', () => {
    expect(parseContact('sip:*;transport=udp')).toEqual([
      { protocol: 'udp', address: '0.0.0.0', port: 5060 },
    ]);
    expect(parseContact('sip:[::1]:5062;transport=tcp')).toEqual([
      { protocol: 'tcp', address: '::1', port: 5062 },
    ]);
    expect(parseContact('sip:127.0.0.1:8080;transport=ws')).toEqual([
      { protocol: 'ws', address: '127.0.0.1', port: 8080 },
    ]);
    expect(parseContact('sip:127.0.0.1;transport=tls')).toEqual([
      { protocol: 'tls', address: '127.0.0.1', port: 5061 },
    ]);
  });

  it('names what is wrong', () => {
    expect(() => parseContact('127.0.0.1:5060')).toThrow(CliUsageError);
    expect(() => parseContact('sip:127.0.0.1;transport=sctp')).toThrow(/unknown transport sctp/);
  });
});

describe('parseCliOptions (drachtio-server flags and environment)', () => {
  it('maps the flags onto the engine configuration', () => {
    const options = parseCliOptions(
      [
        '--contact',
        'sip:127.0.0.1:5060;transport=udp,tcp',
        '--external-ip',
        '127.0.0.9',
        '--address',
        '127.0.0.1',
        '--port',
        '9023',
        '--secret',
        'cymru',
        '--loglevel',
        'debug',
        '--http-handler',
        'tcp://127.0.0.1:3000',
        '--user-agent-options-auto-respond',
        'monitor',
        '--prometheus-scrape-port',
        '127.0.0.1:9099',
      ],
      {},
    );
    expect(options.logLevel).toBe('debug');
    expect(options.prometheus).toEqual({ host: '127.0.0.1', port: 9099 });
    expect(options.engine).toMatchObject({
      sip: [
        { protocol: 'udp', address: '127.0.0.1', port: 5060, externalAddress: '127.0.0.9' },
        { protocol: 'tcp', address: '127.0.0.1', port: 5060, externalAddress: '127.0.0.9' },
      ],
      control: { address: '127.0.0.1', port: 9023, secret: 'cymru' },
      outboundHandler: 'tcp://127.0.0.1:3000',
      optionsAutoRespondUserAgent: 'monitor',
    });
  });

  it('reads drachtio-server environment variables, flags winning', () => {
    const env = {
      DRACHTIO_SECRET: 'from-env',
      DRACHTIO_ADMIN_TCP_PORT: '9030',
      DRACHTIO_LOGLEVEL: 'warning',
    };
    const options = parseCliOptions(['--port', '9031'], env);
    expect(options.engine.control).toMatchObject({ secret: 'from-env', port: 9031 });
    expect(options.logLevel).toBe('warn');
  });

  it('defaults like drachtio-server: udp and tcp on every interface, control on 9022 with secret admin', () => {
    const options = parseCliOptions([], {});
    expect(options.engine.sip).toEqual([
      { protocol: 'udp', address: '0.0.0.0', port: 5060 },
      { protocol: 'tcp', address: '0.0.0.0', port: 5060 },
    ]);
    expect(options.engine.control).toMatchObject({ address: '0.0.0.0', port: 9022, secret: 'admin' });
  });

  it('refuses what it cannot honour, naming it', () => {
    expect(() => parseCliOptions(['--bogus'], {})).toThrow(/unknown option --bogus/);
    expect(() => parseCliOptions(['--port', 'abc'], {})).toThrow(/--port abc: not a port/);
    expect(() => parseCliOptions(['--loglevel', 'loud'], {})).toThrow(/--loglevel loud/);
    expect(() => parseCliOptions(['--http-handler', 'http://127.0.0.1/route'], {})).toThrow(/only tcp:\/\//);
    expect(() => parseCliOptions(['--contact', 'sip:127.0.0.1;transport=tls'], {})).toThrow(/--key-file/);
    expect(() => parseCliOptions(['--external-ip', '127.0.0.9'], {})).toThrow(/must follow the --contact/);
    expect(() => parseCliOptions(['--secret'], {})).toThrow(/--secret needs a value/);
  });
});
