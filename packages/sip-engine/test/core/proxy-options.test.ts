import { describe, expect, it } from 'vitest';
import { parseProxyTimeout, parseProxyTokens } from '../../src/core/proxy.js';

describe('the proxy command (PROTOCOL.md §3.5)', () => {
  it('reads srf.proxyRequest’s tokens', () => {
    const tokens =
      'm1|proxy|txn-1|remainInDialog|fullResponse|followRedirects|simultaneous|2s|1500ms|sip:a@127.0.0.2|sip:b@127.0.0.4'.split(
        '|',
      );
    expect(parseProxyTokens(tokens)).toEqual({
      txnId: 'txn-1',
      options: {
        recordRoute: true,
        followRedirects: true,
        simultaneous: true,
        provisionalTimeoutMs: 2000,
        finalTimeoutMs: 1500,
        targets: ['sip:a@127.0.0.2', 'sip:b@127.0.0.4'],
        headers: undefined,
      },
    });
  });

  it('defaults: no Record-Route, no redirects, serial, no timeouts', () => {
    const { options } = parseProxyTokens('m2|proxy|txn-2||fullResponse||serial|||sip:a@127.0.0.2'.split('|'));
    expect(options).toMatchObject({
      recordRoute: false,
      followRedirects: false,
      simultaneous: false,
      provisionalTimeoutMs: undefined,
      finalTimeoutMs: undefined,
      targets: ['sip:a@127.0.0.2'],
    });
  });

  it('reads timeouts as srf writes them, and nothing else', () => {
    expect(parseProxyTimeout('2s')).toBe(2000);
    expect(parseProxyTimeout('1500ms')).toBe(1500);
    expect(parseProxyTimeout('3')).toBe(3000);
    expect(parseProxyTimeout('')).toBeUndefined();
    expect(parseProxyTimeout('soon')).toBeUndefined();
    expect(parseProxyTimeout(undefined)).toBeUndefined();
  });
});
