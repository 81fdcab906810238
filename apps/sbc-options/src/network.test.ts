import { describe, expect, it } from 'vitest';
import { hostOfMember, hostPort, isDrainedMember, parseServerName } from './network.js';

describe('parseServerName', () => {
  it.each([
    ['127.0.1.5', { ip: '127.0.1.5', canonical: '127.0.1.5' }],
    [' 127.0.1.5:5060 ', { ip: '127.0.1.5', port: 5060, canonical: '127.0.1.5:5060' }],
    ['::1', { ip: '::1', canonical: '::1' }],
    ['[::1]:5080', { ip: '::1', port: 5080, canonical: '[::1]:5080' }],
  ])('accepts %j', (input, expected) => {
    expect(parseServerName(input)).toEqual(expected);
  });

  it.each([
    'not-an-ip',
    'fs.example.com',
    '999.1.1.1',
    '127.0.1.5:0',
    '127.0.1.5:70000',
    '[127.0.1.5]:5060',
    '',
  ])('refuses %j', (input) => {
    expect(parseServerName(input)).toBeUndefined();
  });
});

describe('members', () => {
  it('formats ip:port as jambonz does, bracketing IPv6', () => {
    expect(hostPort('127.0.1.5', 5060)).toBe('127.0.1.5:5060');
    expect(hostPort('::1', 5060)).toBe('[::1]:5060');
  });

  it('finds the address of a member', () => {
    expect(hostOfMember('127.0.1.5:5060')).toBe('127.0.1.5');
    expect(hostOfMember('[::1]:5060')).toBe('::1');
    expect(hostOfMember('127.0.1.5')).toBe('127.0.1.5');
    expect(hostOfMember('::1')).toBe('::1');
  });

  it('matches a drained entry by bare address or by ip:port', () => {
    expect(isDrainedMember('127.0.1.5:5060', new Set(['127.0.1.5']))).toBe(true);
    expect(isDrainedMember('127.0.1.5:5060', new Set(['127.0.1.5:5060']))).toBe(true);
    expect(isDrainedMember('127.0.1.5:5060', new Set(['127.0.1.5:5070']))).toBe(false);
    expect(isDrainedMember('127.0.1.50:5060', new Set(['127.0.1.5']))).toBe(false);
  });
});
