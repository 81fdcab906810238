import { describe, expect, it } from 'vitest';
import { isIpLiteral, parseContactList, parseSipUri, rewriteContactExpires } from '../src/index.js';

describe('parseContactList', () => {
  it('reads name-addr and addr-spec forms with their header parameters', () => {
    const [alice] = parseContactList(
      '"Alice, A." <sip:alice@127.0.0.3:5062;transport=tcp>;expires=60;+sip.instance="<x>"',
    )!;
    expect(alice?.uri).toBe('sip:alice@127.0.0.3:5062;transport=tcp');
    expect([...alice!.params]).toEqual([
      ['expires', '60'],
      ['+sip.instance', '"<x>"'],
    ]);
    // In an addr-spec, parameters after the URI belong to the header (RFC 3261 §20).
    const [bare] = parseContactList('sip:alice@127.0.0.3;expires=0')!;
    expect(bare?.uri).toBe('sip:alice@127.0.0.3');
    expect(bare?.params.get('expires')).toBe('0');
    expect(parseContactList('*')?.map((c) => c.uri)).toEqual(['*']);
  });

  it('splits lists on commas outside quotes and brackets', () => {
    const list = parseContactList('"a,b" <sip:a@127.0.0.3>;expires=5, <sip:b@127.0.0.3;x=1>;q="0,5"');
    expect(list?.map((c) => c.uri)).toEqual(['sip:a@127.0.0.3', 'sip:b@127.0.0.3;x=1']);
    // a comma is not a paramchar (RFC 3261 §25.1), so it cannot hide inside a URI parameter
    expect(parseContactList('<sip:b@127.0.0.3;x=1,2>')).toBeUndefined();
  });

  it('refuses what it cannot parse', () => {
    expect(parseContactList('<sip:alice@127.0.0.3')).toBeUndefined();
    expect(parseContactList('"unterminated <sip:a@b>')).toBeUndefined();
    expect(parseContactList('<sip:a@127.0.0.3>, <broken')).toBeUndefined();
    expect(parseContactList('')).toBeUndefined();
  });
});

describe('parseSipUri', () => {
  it('parses user, host and port', () => {
    expect(parseSipUri('sip:john@jambonz.org:5080;transport=tcp')).toEqual({
      scheme: 'sip',
      user: 'john',
      host: 'jambonz.org',
      port: 5080,
    });
    expect(parseSipUri('SIPS:[::1]:5061')).toEqual({
      scheme: 'sips',
      user: undefined,
      host: '[::1]',
      port: 5061,
    });
    expect(parseSipUri('sip:alice:pw@127.0.0.2:5061;transport=tls;lr')).toEqual({
      scheme: 'sip',
      user: 'alice',
      host: '127.0.0.2',
      port: 5061,
    });
  });

  it('refuses jambonz gh-83 and other malformed addresses', () => {
    expect(parseSipUri('sip:john@jambonz.org@jambonz.org')).toBeUndefined();
    expect(parseSipUri('sip:john@bad_host!')).toBeUndefined();
    expect(parseSipUri('sip:john@host:99999')).toBeUndefined();
    expect(parseSipUri('tel:+15551234')).toBeUndefined();
    expect(parseSipUri('sip:jo hn@host')).toBeUndefined();
    expect(parseSipUri('sip:john@-leading-dash.org')).toBeUndefined();
    expect(parseSipUri(`sip:john@${'a'.repeat(64)}.org`)).toBeUndefined();
  });

  it('tells IP literals', () => {
    expect(isIpLiteral('127.0.0.1')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('::1')).toBe(true);
    expect(isIpLiteral('jambonz.org')).toBe(false);
  });
});

it('rewrites every expires parameter of a Contact', () => {
  expect(rewriteContactExpires('<sip:a@127.0.0.3>;expires=3600', 30)).toBe('<sip:a@127.0.0.3>;expires=30');
  expect(rewriteContactExpires('<sip:a@127.0.0.3>', 30)).toBe('<sip:a@127.0.0.3>');
});
