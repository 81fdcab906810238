// `node scripts/demo/rtpengine.mjs`: what the local stack's rtpengine is carrying, over its NG port
// (SBC_STACK_RTPENGINE_PORT, 22222): each call with the RTP packets each party sent through it, then
// rtpengine's session count and its totals since start.
import { ngCommand } from '@sbc/testkit';

const host = '127.0.0.1';
const port = Number(process.env.SBC_STACK_RTPENGINE_PORT ?? 22222);

const { calls = [] } = await ngCommand(host, port, { command: 'list' });
if (calls.length === 0) console.log('calls: none');
for (const callId of calls) {
  const { tags = {} } = await ngCommand(host, port, { command: 'query', 'call-id': callId });
  const parties = Object.entries(tags).map(([tag, info]) => {
    const packets = (info.medias ?? [])
      .flatMap((media) => media.streams ?? [])
      .reduce((sum, stream) => sum + Number(stream.stats?.packets ?? 0), 0);
    return `${tag} sent ${packets} packets`;
  });
  console.log(`call ${callId}: ${parties.join(', ')}`);
}
const { statistics } = await ngCommand(host, port, { command: 'statistics' });
const now = statistics?.currentstatistics ?? {};
const total = statistics?.totalstatistics ?? {};
console.log(
  `now: ${now.sessionstotal} sessions; since start: ${total.managedsessions} ended ` +
    `(${total.regularterminatedsessions} normally), ${total.relayedpackets} RTP packets relayed ` +
    `(${total.relayedpacketerrors} errors)`,
);
