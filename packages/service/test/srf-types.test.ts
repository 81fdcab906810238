import { createRequire } from 'node:module';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createSrf,
  type CSeq,
  type Dialog,
  type DigestHeader,
  type NameAddr,
  type RouteEntry,
  type SipError,
  type Srf,
  type SrfRequest,
  type SrfResponse,
  type Via,
} from '../src/index.js';

// The runtime classes behind the declared interfaces.
const require = createRequire(import.meta.url);
const SrfModule = require('drachtio-srf') as {
  Dialog: { prototype: object };
  SipRequest: { prototype: object };
  SipResponse: { prototype: object };
};

function methodsOf(prototype: object): string[] {
  const names = new Set<string>();
  for (
    let p: object | null = prototype;
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(p)) names.add(name);
  }
  return [...names];
}

describe('the drachtio-srf declarations', () => {
  it('declare only methods a real srf instance has', () => {
    const srf = createSrf(['sbc-inbound', 'sbc-outbound']);
    const declared: (keyof Srf & string)[] = [
      'connect',
      'listen',
      'disconnect',
      'endSession',
      'use',
      'invite',
      'register',
      'options',
      'subscribe',
      'message',
      'info',
      'notify',
      'publish',
      'refer',
      'bye',
      'update',
      'prack',
      'ack',
      'cancel',
      'request',
      'createUAS',
      'createUAC',
      'createB2BUA',
      'proxyRequest',
      'findDialogById',
      'findDialogByCallIDAndFromTag',
      'on',
      'once',
    ];
    for (const name of declared) expect(typeof srf[name], name).toBe('function');
    expect(srf.locals).toEqual({});
    // srf only knows about pending transactions once it has an engine connection.
    expect(srf.idle).toBeUndefined();
  });

  it('declare only request, response and dialog methods the runtime classes have', () => {
    const request: (keyof SrfRequest)[] = [
      'get',
      'has',
      'getHeaderName',
      'getParsedHeader',
      'set',
      'cancel',
      'on',
    ];
    const response: (keyof SrfResponse)[] = [
      'send',
      'get',
      'has',
      'getParsedHeader',
      'getHeader',
      'setHeader',
      'on',
    ];
    const dialog: (keyof Dialog)[] = ['destroy', 'modify', 'request', 'on', 'once'];
    expect(methodsOf(SrfModule.SipRequest.prototype)).toEqual(expect.arrayContaining(request));
    expect(methodsOf(SrfModule.SipResponse.prototype)).toEqual(expect.arrayContaining(response));
    expect(methodsOf(SrfModule.Dialog.prototype)).toEqual(expect.arrayContaining(dialog));
    // Accessors declared as fields.
    expect(methodsOf(SrfModule.SipRequest.prototype)).toEqual(
      expect.arrayContaining([
        'method',
        'uri',
        'body',
        'headers',
        'isNewInvite',
        'calledNumber',
        'callingNumber',
      ]),
    );
    expect(methodsOf(SrfModule.Dialog.prototype)).toEqual(
      expect.arrayContaining(['id', 'dialogType', 'socket']),
    );
  });

  it('type parsed headers by name, in any case', () => {
    const _parsed = (req: SrfRequest) => ({
      from: req.getParsedHeader('From'),
      contact: req.getParsedHeader('contact'),
      via: req.getParsedHeader('Via'),
      cseq: req.getParsedHeader('CSeq'),
      recordRoute: req.getParsedHeader('Record-Route'),
      proxyAuthorization: req.getParsedHeader('Proxy-Authorization'),
      accountSid: req.getParsedHeader('X-Account-Sid'),
    });
    expectTypeOf<ReturnType<typeof _parsed>>().toEqualTypeOf<{
      from: NameAddr;
      contact: NameAddr[];
      via: Via[];
      cseq: CSeq;
      recordRoute: RouteEntry[];
      proxyAuthorization: DigestHeader[];
      accountSid: string;
    }>();
    expectTypeOf<SrfRequest['get']>().returns.toEqualTypeOf<string | undefined>();
    expectTypeOf<SrfRequest['source_port']>().toEqualTypeOf<number>();
  });

  it('type the calls a B2BUA makes', () => {
    expectTypeOf<Srf['createB2BUA']>().returns.toEqualTypeOf<Promise<{ uas: Dialog; uac: Dialog }>>();
    expectTypeOf<Srf['createUAS']>().returns.toEqualTypeOf<Promise<Dialog>>();
    expectTypeOf<Srf['proxyRequest']>().returns.resolves.toHaveProperty('connected');
    expectTypeOf<SipError['status']>().toEqualTypeOf<number>();
    // Handlers get typed parameters without annotations.
    expectTypeOf<Srf['invite']>().parameter(0).parameter(0).toEqualTypeOf<SrfRequest>();
    expectTypeOf<Srf['invite']>().parameter(0).parameter(1).toEqualTypeOf<SrfResponse>();
  });
});
