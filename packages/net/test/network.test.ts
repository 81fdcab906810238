import { describe, expect, it } from 'vitest';
import {
  ipFamily,
  networkContains,
  normalizeIp,
  parseNetwork,
  parseNetworks,
  sameAddress,
  unmapIpv4,
} from '../src/index.js';

describe('addresses', () => {
  it('reads IPv4 as four decimal octets only', () => {
    expect(normalizeIp('127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('255.255.255.255')).toBe('255.255.255.255');
    expect(normalizeIp('0.0.0.0')).toBe('0.0.0.0');
    expect(normalizeIp('::ffff:127.0.0.2')).toBe('127.0.0.2');
    for (const bad of [
      '127.1',
      '256.0.0.1',
      '127.0.0.01',
      '1.2.3.4.5',
      'gw.example.test',
      '',
      '1.2.3.-4',
      '0x7f.0.0.1',
    ]) {
      expect(normalizeIp(bad), bad).toBeUndefined();
    }
  });

  it('reads IPv6 in any spelling, with or without brackets', () => {
    expect(normalizeIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(normalizeIp('[::1]')).toBe('::1');
    expect(ipFamily('::1')).toBe(6);
    expect(ipFamily('127.0.0.1')).toBe(4);
    expect(ipFamily('::ffff:127.0.0.1')).toBe(4);
    expect(ipFamily('carrier.test')).toBe(0);
    expect(sameAddress('2001:db8::1', '2001:0db8:0000::0001')).toBe(true);
    expect(sameAddress('127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(sameAddress('carrier.test', 'carrier.test')).toBe(false);
    expect(unmapIpv4('::ffff:127.0.1.5')).toBe('127.0.1.5');
    expect(unmapIpv4('::1')).toBe('::1');
    expect(unmapIpv4('garbage')).toBe('garbage');
  });
});

describe('networks', () => {
  it('parses a/n or an address with the prefix given apart, clearing host bits', () => {
    expect(parseNetwork('127.0.3.200/25')).toEqual({
      family: 4,
      address: '127.0.3.128',
      prefixLength: 25,
      cidr: '127.0.3.128/25',
    });
    expect(parseNetwork('127.0.3.9', 24)?.cidr).toBe('127.0.3.0/24');
    expect(parseNetwork('10.0.0.0/0')?.cidr).toBe('0.0.0.0/0');
    expect(parseNetwork('127.0.0.1')?.cidr).toBe('127.0.0.1/32');
    expect(parseNetwork('2001:db8:1:2::5/64')?.cidr).toBe('2001:db8:1:2::/64');
    expect(parseNetwork('::1')?.cidr).toBe('::1/128');
    expect(parseNetwork('::ffff:10.1.0.0/104')?.cidr).toBe('10.0.0.0/8');
    for (const bad of [
      '127.0.0.0/33',
      '127.0.0.0/-1',
      '127.0.0.0/x',
      '127.0.0.0/8/8',
      'gw.test/24',
      '::/129',
    ]) {
      expect(parseNetwork(bad), bad).toBeUndefined();
    }
    expect(parseNetwork('127.0.0.0', 40)).toBeUndefined();
  });

  it('tests IPv4 membership at the range edges', () => {
    const range = '127.0.3.128/25';
    expect(networkContains(range, '127.0.3.128')).toBe(true);
    expect(networkContains(range, '127.0.3.255')).toBe(true);
    expect(networkContains(range, '127.0.3.127')).toBe(false);
    expect(networkContains(range, '127.0.4.0')).toBe(false);
    expect(networkContains('0.0.0.0/0', '255.255.255.255')).toBe(true);
    expect(networkContains('127.0.0.0/8', '128.0.0.1')).toBe(false);
    expect(networkContains('128.0.0.0/1', '200.0.0.1')).toBe(true);
    expect(networkContains(range, 'not an ip')).toBe(false);
    expect(networkContains(parseNetwork('127.0.3.9', 24)!, '127.0.3.1')).toBe(true);
  });

  it('tests IPv6 membership, and never mixes families', () => {
    expect(networkContains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(networkContains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(networkContains('::1/128', '::1')).toBe(true);
    expect(networkContains('::/0', '127.0.0.1')).toBe(false);
    expect(networkContains('0.0.0.0/0', '::1')).toBe(false);
    expect(networkContains('127.0.0.0/8', '::ffff:127.0.0.9')).toBe(true);
  });

  it('matches a list (JAMBONES_NETWORK_CIDR, private_network_cidr)', () => {
    const network = parseNetworks(['127.0.1.0/24', '::1/128', '127.0.3.7/32']);
    expect(network.contains('127.0.1.1')).toBe(true);
    expect(network.contains('127.0.1.255')).toBe(true);
    expect(network.contains('::ffff:127.0.1.9')).toBe(true);
    expect(network.contains('::1')).toBe(true);
    expect(network.contains('[::1]')).toBe(true);
    expect(network.contains('127.0.3.7')).toBe(true);
    expect(network.contains('127.0.2.1')).toBe(false);
    expect(network.contains('127.0.0.3')).toBe(false);
    expect(network.contains('::2')).toBe(false);
    expect(network.contains('garbage')).toBe(false);

    expect(parseNetworks('127.0.1.0/24, 127.0.4.0/24').contains('127.0.4.9')).toBe(true);
    expect(parseNetworks('127.0.1.0/24,127.0.4.0/24').contains('127.0.5.9')).toBe(false);
    const mixed = parseNetworks('garbage,127.0.1.0/24');
    expect(mixed.contains('127.0.1.1')).toBe(true);
    expect(mixed.invalid).toEqual(['garbage']);
    expect(mixed.networks.map((n) => n.cidr)).toEqual(['127.0.1.0/24']);
  });
});
