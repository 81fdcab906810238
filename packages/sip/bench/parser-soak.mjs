// Parser soak (`pnpm soak` in packages/sip, after the build; not part of `npm test`, whose fuzz
// test runs a few thousand inputs): at least 1,000,000 generated and mutated SIP messages through the
// parser (`parseMessage`, then the header helpers the engine uses on every request) and its
// stream framer (`SipStreamFramer`, fed the same inputs cut at random points). fast-check makes the
// inputs: valid requests and responses built from SIP grammar pieces, the RFC 4475 torture messages,
// random bytes and SIP-significant characters, each then mutated (bytes flipped, deleted, duplicated,
// truncated, huge numbers and long runs spliced in).
//
// It fails (exit 1) on:
//   - a crash: anything thrown by the parser, the helpers or the framer;
//   - a hang: one input taking more than 50 ms (run again three times when it does: the scheduler of
//     a loaded machine or V8 compiling a new path can stall any one call), or a batch of 10,000 not done within 10 s (the
//     watchdog in the parent process kills the soak and prints the batch's seed to replay it);
//   - unbounded growth: the heap after a full GC growing by more than 32 MiB between the first and
//     the last checkpoint, or a framer holding more than its limit plus one chunk.
// It prints inputs/s (parse + framer, generation excluded) and the slowest input.
//
//   node bench/parser-soak.mjs [--count 1000000] [--seed 42] [--batch B] [--trace-ms T]
//   (--batch: replay one batch; --trace-ms: print every input slower than T ms)
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  DEFAULT_PARSE_LIMITS,
  SipStreamFramer,
  parseMessage,
  splitHeaderList,
  tagOf,
  topVia,
  tryParseCSeq,
  tryParseNameAddr,
  tryParseUri,
} from '../dist/index.js';

const BATCH = 10_000;
const SLOW_MS = 50;
const HANG_MS = 10_000;
const GROWTH_LIMIT = 32 * 1024 * 1024;

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

// ---- inputs ---------------------------------------------------------------------------------------

const fixturesDir = new URL('../test/fixtures/torture/', import.meta.url);
const fixtures = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.sip'))
  .map((f) => readFileSync(new URL(f, fixturesDir)));

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const host = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,6}){0,2}$/),
  fc.ipV4(),
  fc.constantFrom('[::1]', '[2001:db8::5]'),
);
const hostport = fc
  .tuple(host, fc.option(fc.integer({ min: 0, max: 70000 }), { nil: undefined }))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const user = fc.stringMatching(/^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,16}$/);
const uri = fc
  .tuple(fc.constantFrom('sip', 'sips', 'tel'), fc.option(user), hostport, fc.array(token, { maxLength: 3 }))
  .map(
    ([scheme, u, hp, params]) => `${scheme}:${u ? `${u}@` : ''}${hp}${params.map((p) => `;${p}`).join('')}`,
  );
const text = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
const nameAddr = fc
  .tuple(fc.option(text), uri, fc.option(token))
  .map(([dn, u, tag]) => `${dn ? `"${dn}" ` : ''}<${u}>${tag ? `;tag=${tag}` : ''}`);
const method = fc.constantFrom(
  'INVITE',
  'REGISTER',
  'OPTIONS',
  'ACK',
  'BYE',
  'CANCEL',
  'INFO',
  'NOTIFY',
  'X-FOO',
);
const via = fc
  .tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'), hostport, token, fc.boolean())
  .map(([t, hp, b, rport]) => `SIP/2.0/${t} ${hp};branch=z9hG4bK${b}${rport ? ';rport' : ''}`);
const extension = fc.tuple(token, text).map(([n, v]) => `${n}: ${v}`);
const body = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 300 }),
  fc.constant('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n'),
);

const message = fc
  .tuple(
    fc.boolean(),
    method,
    uri,
    fc.integer({ min: 100, max: 699 }),
    fc.array(via, { minLength: 1, maxLength: 4 }),
    nameAddr,
    nameAddr,
    token,
    fc.integer({ min: 0, max: 2 ** 32 }),
    fc.array(extension, { maxLength: 8 }),
    body,
    fc.boolean(),
  )
  .map(([isRequest, m, u, status, vias, from, to, callId, cseq, ext, b, compact]) => {
    const lines = [
      isRequest ? `${m} ${u} SIP/2.0` : `SIP/2.0 ${status} Something`,
      ...vias.map((v) => `${compact ? 'v' : 'Via'}: ${v}`),
      `${compact ? 'f' : 'From'}: ${from}`,
      `${compact ? 't' : 'To'}: ${to}`,
      `${compact ? 'i' : 'Call-ID'}: ${callId}`,
      `CSeq: ${cseq} ${m}`,
      'Max-Forwards: 70',
      `Contact: ${to}`,
      ...ext,
      `${compact ? 'l' : 'Content-Length'}: ${Buffer.byteLength(b)}`,
    ];
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${b}`);
  });

const SPECIAL = [...'\r\n \t:;,<>"\\@?=[]/%'].map((c) => c.charCodeAt(0)).concat([0, 0xff, 0xc3]);
const SPLICES = [
  '99999999999999999999',
  '-1',
  '\r\n\r\n',
  ' \r\n\t',
  ';;;;;;;;',
  '<<<<',
  '"'.repeat(50),
  'a'.repeat(5000),
];
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('special'), at: fc.nat(), byte: fc.constantFrom(...SPECIAL) }),
  fc.record({ op: fc.constant('delete'), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('duplicate'), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ op: fc.constant('splice'), at: fc.nat(), text: fc.constantFrom(...SPLICES) }),
  fc.record({ op: fc.constant('truncate'), at: fc.nat() }),
);

function mutate(input, mutations) {
  let buf = input;
  for (const m of mutations) {
    if (buf.length === 0) break;
    const at = m.at % buf.length;
    switch (m.op) {
      case 'flip':
      case 'special':
        buf = Buffer.from(buf);
        buf[at] = m.byte;
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.len)]);
        break;
      case 'duplicate':
        buf = Buffer.concat([buf.subarray(0, at + m.len), buf.subarray(at)]);
        break;
      case 'splice':
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.text), buf.subarray(at)]);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
    }
  }
  return buf;
}

const source = fc.oneof(
  { weight: 6, arbitrary: message },
  { weight: 2, arbitrary: fc.constantFrom(...fixtures) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc
      .string({
        unit: fc.constantFrom(
          ...'SIP/2.0 INVITE sip:@;,<>"\\\r\n\t:=?[]%Via From To CSeq l v 0123'.split(''),
        ),
        maxLength: 600,
      })
      .map((s) => Buffer.from(s)),
  },
);
/** An input and where the framer's chunks are cut. */
const input = fc
  .tuple(
    source,
    fc.array(mutation, { maxLength: 6 }),
    fc.array(fc.integer({ min: 1, max: 1500 }), { maxLength: 6 }),
  )
  .map(([buf, mutations, cuts]) => ({ data: mutate(buf, mutations), cuts }));

// ---- the soak (child process) ----------------------------------------------------------------------

/** What the engine does with a message beyond parseMessage (transport, transactions, core). */
function exercise(data) {
  const result = parseMessage(data, DEFAULT_PARSE_LIMITS);
  if (!result.ok) {
    if (typeof result.reason !== 'string' || result.reason.length === 0)
      throw new Error('a failure without a reason');
    return;
  }
  const m = result.message;
  topVia(m.headers);
  for (const name of ['from', 'to', 'contact']) {
    const value = m.headers.get(name);
    if (value === undefined) continue;
    tryParseNameAddr(value);
    tagOf(value);
    splitHeaderList(value);
  }
  tryParseCSeq(m.headers.get('cseq') ?? '');
  if (m.kind === 'request') tryParseUri(m.uri);
}

function timeOnce(data) {
  const t0 = performance.now();
  exercise(data);
  const framer = new SipStreamFramer(DEFAULT_PARSE_LIMITS);
  for (const item of framer.push(data)) if (item.kind === 'message') exercise(item.data);
  return performance.now() - t0;
}

function soak({ count, seed, onlyBatch, traceMs }) {
  const batches = Math.ceil(count / BATCH);
  const limit = DEFAULT_PARSE_LIMITS.maxMessageBytes;
  let framer = new SipStreamFramer(DEFAULT_PARSE_LIMITS);
  let busyMs = 0;
  let done = 0;
  let slowest = { ms: 0, batch: 0, index: 0 };
  let rechecked = 0;
  const heap = [];
  for (let b = onlyBatch ?? 0; b < (onlyBatch === undefined ? batches : onlyBatch + 1); b++) {
    const inputs = fc.sample(input, { seed: seed + b, numRuns: BATCH });
    process.send?.({ kind: 'batch', batch: b });
    for (let i = 0; i < inputs.length; i++) {
      const { data, cuts } = inputs[i];
      const t0 = performance.now();
      try {
        exercise(data);
        if (i % 50 === 0 || framer.failed) framer = new SipStreamFramer(DEFAULT_PARSE_LIMITS);
        let pos = 0;
        for (const cut of [...cuts, data.length]) {
          const chunk = data.subarray(pos, pos + cut);
          pos += cut;
          for (const item of framer.push(chunk)) if (item.kind === 'message') exercise(item.data);
          if (framer.buffered > limit + chunk.length)
            throw new Error(`framer holds ${framer.buffered} bytes`);
          if (pos >= data.length) break;
        }
      } catch (err) {
        return { failure: 'crash', batch: b, index: i, data, error: err?.stack ?? String(err) };
      }
      const ms = performance.now() - t0;
      busyMs += ms;
      if (ms > slowest.ms) slowest = { ms, batch: b, index: i };
      if (traceMs !== undefined && ms > traceMs)
        console.log(
          `  ${ms.toFixed(2)} ms: batch ${b} #${i}, ${data.length} bytes: ${JSON.stringify(data.subarray(0, 100).toString('latin1'))}`,
        );
      if (ms > SLOW_MS) {
        // a slow first time can be the scheduler (a shared, loaded machine) or V8 compiling a path:
        // the input fails when it is still slow on its own, run again three times
        const again = Math.min(...[0, 1, 2].map(() => timeOnce(data)));
        if (again > SLOW_MS)
          return { failure: 'slow', batch: b, index: i, data, error: `${again.toFixed(1)} ms for one input` };
        rechecked++;
      }
    }
    done += inputs.length;
    if ((b + 1) % 10 === 0 || b === batches - 1) {
      globalThis.gc?.();
      heap.push(process.memoryUsage().heapUsed);
      process.send?.({
        kind: 'progress',
        done,
        rate: done / (busyMs / 1000),
        heapMiB: heap.at(-1) / 2 ** 20,
      });
    }
  }
  const growth = heap.length > 1 ? heap.at(-1) - heap[0] : 0;
  if (growth > GROWTH_LIMIT)
    return { failure: 'growth', error: `heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB` };
  return { done, busyMs, slowest, rechecked, heapMiB: heap.map((h) => +(h / 2 ** 20).toFixed(1)) };
}

// ---- parent: watchdog and report ---------------------------------------------------------------------

if (process.argv.includes('--child')) {
  const result = soak({
    count: option('--count', 1_000_000),
    seed: option('--seed', 42),
    onlyBatch: process.argv.includes('--batch') ? option('--batch', 0) : undefined,
  });
  process.send({ kind: 'result', result: { ...result, data: result.data?.toString('base64') } });
  process.disconnect();
} else {
  const count = option('--count', 1_000_000);
  const seed = option('--seed', 42);
  const args = ['--child', '--count', String(count), '--seed', String(seed)];
  if (process.argv.includes('--batch')) args.push('--batch', String(option('--batch', 0)));
  if (process.argv.includes('--trace-ms')) args.push('--trace-ms', String(option('--trace-ms', 5)));
  const child = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--expose-gc'] });
  const started = Date.now();
  let batch = 0;
  let lastBeat = Date.now();
  let result;
  const watchdog = setInterval(() => {
    if (Date.now() - lastBeat < HANG_MS) return;
    result = { failure: 'hang', batch, error: `no progress for ${HANG_MS / 1000} s` };
    child.kill('SIGKILL');
  }, 500);
  child.on('message', (msg) => {
    lastBeat = Date.now();
    if (msg.kind === 'batch') batch = msg.batch;
    else if (msg.kind === 'progress')
      process.stdout.write(
        `  ${msg.done.toLocaleString('en')} inputs, ${Math.round(msg.rate).toLocaleString('en')} inputs/s, heap ${msg.heapMiB.toFixed(1)} MiB\n`,
      );
    else if (msg.kind === 'result') result = msg.result;
  });
  child.on('exit', (code) => {
    clearInterval(watchdog);
    const seconds = (Date.now() - started) / 1000;
    if (!result) result = { failure: 'crash', batch, error: `the soak process exited with ${code}` };
    if (result.failure) {
      console.error(
        `FAILED (${result.failure}) in batch ${result.batch} (seed ${seed + (result.batch ?? 0)}), input ${result.index ?? '?'}: ${result.error}`,
      );
      if (result.data) {
        const file = `parser-soak-failure-${seed}-${result.batch}-${result.index}.bin`;
        writeFileSync(file, Buffer.from(result.data, 'base64'));
        console.error(
          `the input is in ${file}; replay: node bench/parser-soak.mjs --seed ${seed} --batch ${result.batch}`,
        );
      }
      process.exit(1);
    }
    const rate = result.done / (result.busyMs / 1000);
    console.log(
      `OK: ${result.done.toLocaleString('en')} inputs through parseMessage + header helpers + SipStreamFramer in ${seconds.toFixed(0)} s ` +
        `(${Math.round(rate).toLocaleString('en')} inputs/s of parsing and framing, generation excluded); ` +
        `slowest input ${result.slowest.ms.toFixed(2)} ms (batch ${result.slowest.batch}, #${result.slowest.index}; ` +
        `${result.rechecked} over ${SLOW_MS} ms at first, all under it when run again); ` +
        `heap after GC per 100,000: ${result.heapMiB.join(', ')} MiB`,
    );
  });
}
