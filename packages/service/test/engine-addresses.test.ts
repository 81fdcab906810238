import { describe, expect, it } from 'vitest';
import {
  parseNetworks,
  privateSipAddress,
  privateSipAddresses,
  publicAddresses,
  type EngineInfo,
} from '../src/index.js';

const hp = (protocol: string, host: string, port: number) => ({ protocol, host, port });

describe('the SBC addresses from the engine', () => {
  const engine: EngineInfo = {
    hostports: [hp('udp', '127.0.0.7', 5060), hp('tcp', '127.0.0.7', 5060), hp('tls', '127.0.0.7', 5061)],
    localHostports: [hp('tcp', '10.0.0.5', 5060), hp('udp', '10.0.0.5', 5060), hp('tcp', '10.0.0.6', 5070)],
    version: 'v0.9.4',
  };

  it('private: every tcp local hostport inside JAMBONES_NETWORK_CIDR, the last one wins', () => {
    expect(privateSipAddresses(engine, ['10.0.0.0/8'])).toEqual(['10.0.0.5:5060', '10.0.0.6:5070']);
    expect(privateSipAddress(engine, ['10.0.0.0/8'])).toBe('10.0.0.6:5070');
    expect(privateSipAddress(engine, parseNetworks('10.0.0.5/32'))).toBe('10.0.0.5:5060');
  });

  it('private: the tcp advertised hostports when no local one is inside; IPv6 bracketed', () => {
    expect(privateSipAddress(engine, ['192.168.0.0/16'])).toBe('127.0.0.7:5060');
    const v6: EngineInfo = {
      hostports: [],
      localHostports: [hp('tcp', 'fd00::5', 5060)],
      version: undefined,
    };
    expect(privateSipAddress(v6, ['fd00::/8'])).toBe('[fd00::5]:5060');
    expect(privateSipAddress({ ...v6, localHostports: [] }, ['fd00::/8'])).toBeUndefined();
  });

  it('public: per IPv4 address outside RFC 1918, udp (else 5060), tls and wss ports', () => {
    expect(
      publicAddresses([...engine.hostports, ...engine.localHostports, hp('wss', '127.0.0.8', 8443)]),
    ).toEqual([
      { ipv4: '127.0.0.7', port: 5060, tls_port: 5061, wss_port: null },
      { ipv4: '127.0.0.8', port: 5060, tls_port: null, wss_port: 8443 },
    ]);
  });
});
