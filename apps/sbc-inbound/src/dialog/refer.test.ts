import { describe, expect, it } from 'vitest';
import { rewriteReferToUri } from './refer.js';

const callerSource = { address: '127.0.38.20', port: 5062 };

describe('rewriteReferToUri (jambonz rules)', () => {
  it('sends an IP host to the carrier gateway, with + when the carrier wants E.164', () => {
    const gateway = { host: 'sip.carrier.example', port: 5070, e164LeadingPlus: true };
    expect(rewriteReferToUri('sip:15551234@10.0.0.1:5080;transport=udp', { gateway, callerSource })).toBe(
      'sip:+15551234@sip.carrier.example:5070;transport=udp',
    );
    expect(
      rewriteReferToUri('sip:+15551234@10.0.0.1', {
        gateway: { ...gateway, port: undefined },
        callerSource,
      }),
    ).toBe('sip:+15551234@sip.carrier.example');
  });

  it('without a gateway sends an IP host to the caller’s source address', () => {
    expect(rewriteReferToUri('sip:bob@10.0.0.1:5080', { gateway: undefined, callerSource })).toBe(
      'sip:bob@127.0.38.20:5062',
    );
    expect(
      rewriteReferToUri('sip:bob@[::1]', {
        gateway: undefined,
        callerSource: { address: '::2', port: 5060 },
      }),
    ).toBe('sip:bob@[::2]:5060');
  });

  it('leaves host names alone', () => {
    const gateway = { host: 'gw.example', port: 5060, e164LeadingPlus: true };
    expect(rewriteReferToUri('sip:bob@pbx.example.com', { gateway, callerSource })).toBe(
      'sip:bob@pbx.example.com',
    );
  });
});
