import { describe, expect, it } from 'vitest';
import {
  isIpLiteral,
  parseContactList,
  parseNameAddr,
  parseSipUri,
  parseUri,
  rewriteContactExpires,
} from '../src/index.js';

describe('parseNameAddr / parseContactList', () => {
  it('reads name-addr and addr-spec forms with their header parameters', () => {
    expect(
      parseNameAddr('"Alice, A." <sip:alice@127.0.0.3:5062;transport=tcp>;expires=60;+sip.instance="<x>"'),
    ).toEqual({
      uri: 'sip:alice@127.0.0.3:5062;transport=tcp',
      params: { expires: '60', '+sip.instance': '<x>' },
    });
    // In an addr-spec, parameters after the URI belong to the header (RFC 3261 §20).
    expect(parseNameAddr('sip:alice@127.0.0.3;expires=0')).toEqual({
      uri: 'sip:alice@127.0.0.3',
      params: { expires: '0' },
    });
    expect(parseNameAddr('*')).toEqual({ uri: '*', params: {} });
  });

  it('splits lists on commas outside quotes and brackets', () => {
    const list = parseContactList('"a,b" <sip:a@127.0.0.3>;expires=5, <sip:b@127.0.0.3;x=1,2>');
    expect(list?.map((c) => c.uri)).toEqual(['sip:a@127.0.0.3', 'sip:b@127.0.0.3;x=1,2']);
  });

  it('refuses what it cannot parse', () => {
    expect(parseNameAddr('<sip:alice@127.0.0.3')).toBeUndefined();
    expect(parseNameAddr('"unterminated <sip:a@b>')).toBeUndefined();
    expect(parseContactList('<sip:a@127.0.0.3>, <broken')).toBeUndefined();
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
  });

  it('refuses jambonz gh-83 and other malformed addresses', () => {
    expect(parseSipUri('sip:john@jambonz.org@jambonz.org')).toBeUndefined();
    expect(parseSipUri('sip:john@bad_host!')).toBeUndefined();
    expect(parseSipUri('sip:john@host:99999')).toBeUndefined();
    expect(parseSipUri('tel:+15551234')).toBeUndefined();
    expect(parseSipUri('sip:jo hn@host')).toBeUndefined();
  });

  it('reads tel URIs only through parseUri', () => {
    expect(parseUri('tel:+16173333456;phone-context=example.com')).toEqual({
      scheme: 'tel',
      number: '+16173333456',
      params: { 'phone-context': 'example.com' },
    });
    expect(parseUri('sip:john@jambonz.org')).toEqual(parseSipUri('sip:john@jambonz.org'));
    expect(parseUri('tel:')).toBeUndefined();
    expect(parseUri('sip:john@jambonz.org@jambonz.org')).toBeUndefined();
  });

  it('tells IP literals', () => {
    expect(isIpLiteral('127.0.0.1')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('jambonz.org')).toBe(false);
  });
});

it('rewrites every expires parameter of a Contact', () => {
  expect(rewriteContactExpires('<sip:a@127.0.0.3>;expires=3600', 30)).toBe('<sip:a@127.0.0.3>;expires=30');
  expect(rewriteContactExpires('<sip:a@127.0.0.3>', 30)).toBe('<sip:a@127.0.0.3>');
});
