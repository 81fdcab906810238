/* global document, window */
// The web phone: SIP.js's SimpleUser (served from node_modules by serve.mjs), one call at a time.
// window.phone is what the browser tests drive; the form drives the same functions.
import { Web } from './sip.js/index.js';

const $ = (id) => document.getElementById(id);
const events = [];
let user;
let state = 'idle';

function note(event, detail = '') {
  events.push({ at: Date.now(), event, detail });
  state = event;
  $('status').textContent = detail ? `${event}: ${detail}` : event;
  $('log').textContent = events
    .map((e) => `${new Date(e.at).toISOString()} ${e.event} ${e.detail}`)
    .join('\n');
}

async function register(options) {
  const { server, user: name, realm, password } = options;
  if (user) await user.disconnect().catch(() => undefined);
  user = new Web.SimpleUser(server, {
    aor: `sip:${name}@${realm}`,
    media: { constraints: { audio: true, video: false }, remote: { audio: $('remote') } },
    userAgentOptions: {
      authorizationUsername: name,
      authorizationPassword: password,
      logBuiltinEnabled: Boolean(options.trace),
      logLevel: 'debug',
      transportOptions: { server, traceSip: true },
    },
    delegate: {
      onCallAnswered: () => note('answered'),
      onCallHangup: () => note('hung up'),
      onServerDisconnect: () => note('disconnected'),
    },
  });
  await user.connect();
  return new Promise((resolve, reject) => {
    user
      .register({
        requestDelegate: {
          onAccept: (response) => {
            note('registered', response.message.getHeader('Contact') ?? '');
            resolve(response.message.statusCode);
          },
          onReject: (response) => {
            note('register refused', `${response.message.statusCode} ${response.message.reasonPhrase}`);
            reject(new Error(`REGISTER refused: ${response.message.statusCode}`));
          },
        },
      })
      .catch(reject);
  });
}

function call(target) {
  if (!user) throw new Error('register first');
  note('calling', target);
  return new Promise((resolve, reject) => {
    user
      .call(target, undefined, {
        requestDelegate: {
          onAccept: (response) => resolve(response.message.statusCode),
          onReject: (response) => {
            note('call refused', `${response.message.statusCode} ${response.message.reasonPhrase}`);
            reject(new Error(`INVITE refused: ${response.message.statusCode}`));
          },
        },
      })
      .catch(reject);
  });
}

async function hangup() {
  if (!user) return;
  await user.hangup();
  note('hung up');
}

/** RTP packet counts of the call's peer connection (getStats: inbound-rtp / outbound-rtp audio). */
async function stats() {
  const pc = user?.session?.sessionDescriptionHandler?.peerConnection;
  if (!pc) return { inbound: 0, outbound: 0, connection: 'none' };
  const report = await pc.getStats();
  let inbound = 0;
  let outbound = 0;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') inbound += s.packetsReceived ?? 0;
    if (s.type === 'outbound-rtp' && s.kind === 'audio') outbound += s.packetsSent ?? 0;
  });
  const result = { inbound, outbound, connection: pc.connectionState };
  $('stats').textContent = `RTP packets received ${inbound}, sent ${outbound} (${pc.connectionState})`;
  return result;
}

const field = (id) => $(id).value.trim();
const report = (promise) => promise.catch((err) => note('error', err.message));
$('register').onclick = () =>
  report(
    register({
      server: field('server'),
      user: field('user'),
      realm: field('realm'),
      password: field('password'),
    }),
  );
$('call').onclick = () => report(call(field('target')));
$('hangup').onclick = () => report(hangup());
setInterval(() => void stats().catch(() => undefined), 1000);

// Defaults from the server that serves the page (the local stack's WSS listener and demo user).
fetch('config.json')
  .then((r) => (r.ok ? r.json() : {}))
  .then((config) => {
    for (const id of ['server', 'user', 'realm', 'password', 'target'])
      if (config[id]) $(id).value = config[id];
  })
  .catch(() => undefined);

window.phone = {
  register,
  call,
  hangup,
  stats,
  events,
  get state() {
    return state;
  },
};
note('ready');
