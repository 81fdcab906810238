import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SipStreamFramer,
  createRequest,
  createResponse,
  formatNameAddr,
  parseMessage,
  serializeMessage,
  splitHeaderList,
  tagOf,
  tryParseCSeq,
  tryParseNameAddr,
  tryParseUri,
  tryParseVia,
  type SipMessage,
} from '../src/index.js';

const RUNS = 2000;
const fixturesDir = new URL('./fixtures/torture/', import.meta.url);
const fixtures = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.sip'))
  .map((f) => readFileSync(new URL(f, fixturesDir)));

/** Bytes that steer the parser into its interesting branches. */
const SPECIAL = [...'\r\n \t:;,<>"\\@?=[]/%'].map((c) => c.charCodeAt(0)).concat([0, 0xff, 0xc3]);

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('special' as const), at: fc.nat(), byte: fc.constantFrom(...SPECIAL) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let buf = Buffer.from(input);
  for (const m of mutations) {
    if (buf.length === 0) break;
    const at = m.at % buf.length;
    switch (m.op) {
      case 'flip':
      case 'special':
        buf[at] = m.byte;
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.len)]);
        break;
      case 'duplicate':
        buf = Buffer.concat([buf.subarray(0, at + m.len), buf.subarray(at)]);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
    }
  }
  return buf;
}

function expectResult(buf: Buffer): void {
  const result = parseMessage(buf);
  expect(typeof result.ok).toBe('boolean');
  if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
}

describe('fuzzing: nothing throws, nothing hangs', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => expectResult(Buffer.from(bytes))),
      { numRuns: RUNS },
    );
  });

  it('random text built from SIP-significant characters', () => {
    const text = fc.string({
      unit: fc.constantFrom(...'SIP/2.0 INVITE sip:@;,<>"\\\r\n\t:=?[]%Via From To CSeq l v 0123'.split('')),
      maxLength: 400,
    });
    fc.assert(
      fc.property(text, (t) => expectResult(Buffer.from(t))),
      { numRuns: RUNS },
    );
  });

  it('mutated torture messages, through parseMessage and the stream framer', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 10 }),
        (fixture, mutations, cuts) => {
          const buf = mutate(fixture, mutations);
          expectResult(buf);
          const framer = new SipStreamFramer();
          let pos = 0;
          for (const cut of [...cuts, buf.length]) {
            for (const item of framer.push(buf.subarray(pos, pos + cut))) {
              if (item.kind === 'message') expectResult(item.data);
            }
            pos += cut;
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('header helpers on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        for (const candidate of [
          s,
          `sip:${s}`,
          `<sip:${s}>`,
          `SIP/2.0/UDP ${s}`,
          `"${s}" <sip:a@b>;tag=${s}`,
        ]) {
          tryParseUri(candidate);
          tryParseVia(candidate);
          tryParseNameAddr(candidate);
          tryParseCSeq(candidate);
          tagOf(candidate);
          expect(Array.isArray(splitHeaderList(candidate))).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- generated valid messages round-trip --------------------------------------------------------

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const word = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]{1,20}$/);
const hostname = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,6}){0,2}$/);
const host = fc.oneof(hostname, fc.ipV4(), fc.constantFrom('[::1]', '[2001:db8::5]', '[fe80::1:2]'));
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const hostport = fc.tuple(host, port).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const user = fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()&=+$,;?/]{1,12}$/);
const uriParam = fc.tuple(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
  fc.option(fc.stringMatching(/^[A-Za-z0-9\-_.]{1,8}$/)),
);
const sipUri = fc
  .tuple(fc.constantFrom('sip', 'sips'), fc.option(user), hostport, fc.array(uriParam, { maxLength: 3 }))
  .map(
    ([scheme, u, hp, params]) =>
      `${scheme}:${u ? `${u}@` : ''}${hp}${params.map(([n, v]) => (v === null ? `;${n}` : `;${n}=${v}`)).join('')}`,
  );
/** Text without CR/LF and without leading/trailing SP/HTAB. */
const lineText = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .string({ unit: 'grapheme', maxLength })
    .map((s) => s.replace(/[\r\n]/g, '').replace(/^[ \t]+|[ \t]+$/g, ''));
const displayName = fc.option(lineText(20), { nil: undefined });
const nameAddr = fc.tuple(displayName, sipUri, fc.option(token, { nil: undefined })).map(([dn, uri, tag]) =>
  formatNameAddr({
    displayName: dn,
    uri,
    params: new Map(tag === undefined ? [] : [['tag', tag]]),
    angle: true,
  }),
);
const via = fc
  .tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS', 'WSS'), hostport, token, fc.boolean())
  .map(([t, hp, branch, rport]) => `SIP/2.0/${t} ${hp};branch=z9hG4bK${branch}${rport ? ';rport' : ''}`);
const method = fc.oneof(
  fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO'),
  token,
);
const extraHeader = fc.tuple(
  token.map((t) => `X-${t}`),
  lineText(60),
);

const common = fc.record({
  vias: fc.array(via, { minLength: 1, maxLength: 4 }),
  from: nameAddr,
  to: nameAddr,
  callId: fc.tuple(word, fc.option(word)).map(([a, b]) => (b ? `${a}@${b}` : a)),
  seq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  contact: fc.option(nameAddr, { nil: undefined }),
  extras: fc.array(extraHeader, { maxLength: 5 }),
  body: fc.uint8Array({ maxLength: 300 }),
});

type CommonParts = typeof common extends fc.Arbitrary<infer T> ? T : never;

function headersOf(parts: CommonParts, cseqMethod: string): [string, string][] {
  const list: [string, string][] = parts.vias.map((v) => ['Via', v]);
  list.push(
    ['From', parts.from],
    ['To', parts.to],
    ['Call-ID', parts.callId],
    ['CSeq', `${parts.seq} ${cseqMethod}`],
  );
  if (parts.contact) list.push(['Contact', parts.contact]);
  list.push(...parts.extras, ['Content-Length', String(parts.body.length)]);
  return list;
}

const validMessage: fc.Arbitrary<SipMessage> = fc.oneof(
  fc
    .tuple(method, sipUri, common)
    .map(([m, uri, parts]) => createRequest(m, uri, headersOf(parts, m), Buffer.from(parts.body))),
  fc
    .tuple(fc.integer({ min: 100, max: 699 }), lineText(40), method, common)
    .map(([status, reason, m, parts]) =>
      createResponse(status, reason, headersOf(parts, m), Buffer.from(parts.body)),
    ),
);

describe('round trip', () => {
  it('parse(serialize(m)) equals m field by field', () => {
    fc.assert(
      fc.property(validMessage, (m) => {
        const result = parseMessage(serializeMessage(m));
        if (!result.ok) throw new Error(`${result.reason}\n${serializeMessage(m).toString()}`);
        const back = result.message;
        expect(back.kind).toBe(m.kind);
        if (back.kind === 'request' && m.kind === 'request') {
          expect([back.method, back.uri]).toEqual([m.method, m.uri]);
        }
        if (back.kind === 'response' && m.kind === 'response') {
          expect([back.status, back.reason]).toEqual([m.status, m.reason]);
        }
        expect(back.headers.fields().map((f) => [f.name, f.value])).toEqual(
          m.headers.fields().map((f) => [f.name, f.value]),
        );
        expect(back.body.equals(m.body)).toBe(true);
        const from = tryParseNameAddr(back.headers.get('from')!);
        expect(from).toBeDefined();
      }),
      { numRuns: RUNS },
    );
  });
});
