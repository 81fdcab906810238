// The trivial drachtio-srf app the benchmark drives (run in its own process so its CPU is measured
// apart from the engine's): OPTIONS answered 200; INVITE answered 200 with SDP through createUAS, the
// dialog then answers the caller's BYE. Usage: node app.mjs <host> <port> <secret>; reports 'ready'
// over the IPC channel once connected and routed.
import Srf from 'drachtio-srf';

const [host = '127.0.0.1', port = '9022', secret = 'cymru'] = process.argv.slice(2);

const SDP = [
  'v=0',
  'o=bench 1 1 IN IP4 127.0.1.1',
  's=-',
  'c=IN IP4 127.0.1.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

let failures = 0;
const srf = new Srf();
srf.options((_req, res) => res.send(200));
srf.invite((req, res) => {
  srf
    .createUAS(req, res, { localSdp: SDP })
    .then((dialog) => dialog.on('destroy', () => undefined))
    .catch(() => failures++);
});
srf.on('error', (err) => process.send?.({ error: String(err?.message ?? err) }));
srf.on('connect', (err) => {
  if (err) {
    process.send?.({ error: String(err.message ?? err) });
    return;
  }
  // srf sends its route verbs right after the authenticate answer: let them land.
  setTimeout(() => process.send?.({ ready: true }), 100);
});
process.on('message', (msg) => {
  if (msg === 'stats') process.send?.({ failures });
});
process.on('disconnect', () => process.exit(0));
srf.connect({ host, port: Number(port), secret });
