import { describe, expect, it } from 'vitest';
import { ipv4InAnyCidr, ipv4InCidr, parseIpv4, parseIpv4Cidr } from '../src/index.js';

describe('IPv4 and CIDR', () => {
  it('parses dotted quads strictly', () => {
    expect(parseIpv4('127.0.0.1')).toBe(0x7f000001);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('::ffff:127.0.0.2')).toBe(0x7f000002);
    for (const bad of [
      '127.1',
      '256.0.0.1',
      '127.0.0.01',
      '1.2.3.4.5',
      'gw.example.test',
      '::1',
      '',
      '1.2.3.-4',
    ]) {
      expect(parseIpv4(bad), bad).toBeUndefined();
    }
  });

  it('parses ranges written as a/n or with the prefix given apart, clearing host bits', () => {
    expect(parseIpv4Cidr('127.0.3.200/25')).toEqual({ network: 0x7f000380, prefixLength: 25 });
    expect(parseIpv4Cidr('127.0.3.9', 24)).toEqual({ network: 0x7f000300, prefixLength: 24 });
    expect(parseIpv4Cidr('10.0.0.0/0')).toEqual({ network: 0, prefixLength: 0 });
    expect(parseIpv4Cidr('127.0.0.1')).toEqual({ network: 0x7f000001, prefixLength: 32 });
    for (const bad of ['127.0.0.0/33', '127.0.0.0/-1', '127.0.0.0/x', '127.0.0.0/8/8', 'gw.test/24']) {
      expect(parseIpv4Cidr(bad), bad).toBeUndefined();
    }
    expect(parseIpv4Cidr('127.0.0.0', 40)).toBeUndefined();
  });

  it('tests membership at the range edges', () => {
    const range = parseIpv4Cidr('127.0.3.128/25')!;
    expect(ipv4InCidr('127.0.3.128', range)).toBe(true);
    expect(ipv4InCidr('127.0.3.255', range)).toBe(true);
    expect(ipv4InCidr('127.0.3.127', range)).toBe(false);
    expect(ipv4InCidr('127.0.4.0', range)).toBe(false);
    expect(ipv4InCidr('255.255.255.255', parseIpv4Cidr('0.0.0.0/0')!)).toBe(true);
    expect(ipv4InCidr('128.0.0.1', parseIpv4Cidr('127.0.0.0/8')!)).toBe(false);
    expect(ipv4InCidr('200.0.0.1', parseIpv4Cidr('128.0.0.0/1')!)).toBe(true);
    expect(ipv4InCidr('not an ip', range)).toBe(false);
  });

  it('checks a comma separated list (private_network_cidr)', () => {
    expect(ipv4InAnyCidr('127.0.4.9', '127.0.1.0/24, 127.0.4.0/24')).toBe(true);
    expect(ipv4InAnyCidr('127.0.5.9', '127.0.1.0/24,127.0.4.0/24')).toBe(false);
    expect(ipv4InAnyCidr('127.0.1.1', 'garbage,127.0.1.0/24')).toBe(true);
  });
});
