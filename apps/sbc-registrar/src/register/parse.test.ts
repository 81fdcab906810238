import { describe, expect, it } from 'vitest';
import {
  ContactRequiredError,
  ExpiresRequiredError,
  InvalidAorError,
  InvalidContactError,
  RealmRequiredError,
} from './errors.js';
import { parseRegister } from './parse.js';

function request(uri: string, headers: Record<string, string>) {
  return { uri, get: (name: string) => headers[name] };
}

const TO = { To: '<sip:john@jambonz.org>' };

describe('parseRegister', () => {
  it('takes expires from the first Contact parameter before the Expires header', () => {
    const r = parseRegister(
      request('sip:jambonz.org', {
        ...TO,
        Contact: '<sip:john@127.0.0.3>;expires=120, <sip:j@127.0.0.4>',
        Expires: '3600',
      }),
    );
    expect(r).toMatchObject({
      type: 'register',
      expires: 120,
      contactUri: 'sip:john@127.0.0.3',
      aor: 'john@jambonz.org',
      user: 'john',
      realm: 'jambonz.org',
      wildcard: false,
    });
  });

  it('falls back to the Expires header; 0 is an unregister', () => {
    expect(
      parseRegister(request('sip:jambonz.org', { ...TO, Contact: '<sip:john@127.0.0.3>', Expires: '0' })),
    ).toMatchObject({
      type: 'unregister',
      expires: 0,
    });
  });

  it('accepts Contact: * only with Expires: 0 (RFC 3261 §10.3)', () => {
    expect(parseRegister(request('sip:jambonz.org', { ...TO, Contact: '*', Expires: '0' }))).toMatchObject({
      type: 'unregister',
      wildcard: true,
    });
    expect(() => parseRegister(request('sip:jambonz.org', { ...TO, Contact: '*', Expires: '60' }))).toThrow(
      InvalidContactError,
    );
    expect(() =>
      parseRegister(request('sip:jambonz.org', { ...TO, Contact: '*, <sip:a@127.0.0.3>', Expires: '0' })),
    ).toThrow(InvalidContactError);
  });

  it('needs a SIP realm in the Request-URI (403)', () => {
    for (const uri of ['sip:192.168.1.1', 'sip:[::1]:5060', 'http://x', 'sip:']) {
      expect(() => parseRegister(request(uri, { ...TO, Contact: '<sip:a@b>', Expires: '60' }))).toThrow(
        RealmRequiredError,
      );
    }
  });

  it('needs a Contact (400) and an expiry (400)', () => {
    expect(() => parseRegister(request('sip:jambonz.org', { ...TO, Expires: '60' }))).toThrow(
      ContactRequiredError,
    );
    expect(() => parseRegister(request('sip:jambonz.org', { ...TO, Contact: '<sip:a@127.0.0.3>' }))).toThrow(
      ExpiresRequiredError,
    );
    expect(() =>
      parseRegister(request('sip:jambonz.org', { ...TO, Contact: '<sip:a@127.0.0.3>;expires=soon' })),
    ).toThrow(ExpiresRequiredError);
  });

  it('needs a sip:user@host address of record (403)', () => {
    for (const to of [
      '<sip:jambonz.org>',
      '<sip:john@jambonz.org@jambonz.org>',
      '<tel:+1555>',
      'garbage <',
    ]) {
      expect(() =>
        parseRegister(request('sip:jambonz.org', { To: to, Contact: '<sip:a@127.0.0.3>', Expires: '60' })),
      ).toThrow(InvalidAorError);
    }
  });
});
