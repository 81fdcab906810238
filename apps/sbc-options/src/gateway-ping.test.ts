import { describe, expect, it } from 'vitest';
import { pingTarget } from './gateway-ping.js';

describe('pingTarget (jambonz sip-trunk-options-ping request URI and proxy)', () => {
  it('udp gateway with a port', () => {
    expect(pingTarget({ ipv4: '127.0.0.2', port: 5060, protocol: 'udp', use_sips_scheme: false })).toEqual({
      uri: 'sip:127.0.0.2:5060',
      proxy: 'sip:127.0.0.2:5060;transport=udp',
      label: '127.0.0.2:5060;transport=udp',
    });
  });

  it('tls/srtp with use_sips_scheme: sips URI without port, transport tls', () => {
    expect(
      pingTarget({ ipv4: '127.0.0.2', port: 5061, protocol: 'tls/srtp', use_sips_scheme: true }),
    ).toEqual({
      uri: 'sips:127.0.0.2',
      proxy: 'sip:127.0.0.2:5061;transport=tls',
      label: '127.0.0.2:5061;transport=tls/srtp',
    });
  });

  it('a DNS name keeps its port in the URI but not in the proxy (SRV allowed)', () => {
    expect(pingTarget({ ipv4: 'carrier.test', port: 5060, protocol: 'tcp', use_sips_scheme: false })).toEqual(
      {
        uri: 'sip:carrier.test:5060',
        proxy: 'sip:carrier.test;transport=tcp',
        label: 'carrier.test:5060;transport=tcp',
      },
    );
  });

  it('no port and no protocol: sip:<ip> over udp', () => {
    expect(pingTarget({ ipv4: '127.0.0.2', port: null, protocol: null, use_sips_scheme: false })).toEqual({
      uri: 'sip:127.0.0.2',
      proxy: 'sip:127.0.0.2;transport=udp',
      label: '127.0.0.2;transport=udp',
    });
  });
});
