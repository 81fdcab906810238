import type { ServerSets } from '@sbc/redis';
import type { Logger } from '@sbc/service';
import type { StatusPing } from './classify.js';
import type { FeatureServerDrain } from './drain.js';
import { hostPort } from './network.js';

/** What a status ping changed; `members` is the `X-Members` answer (SCARD of the set it belongs to). */
export interface StatusOutcome {
  set: 'active-fs' | 'active-rtp';
  member: string;
  members: number;
  /** open: newly added; closed: was a member and is no more. */
  changed: boolean;
  /** A drained feature server said `open`: kept out. */
  drained: boolean;
}

/**
 * Step 2: apply a status ping to the cluster's server sets, as jambonz does:
 * - a feature server is `<source ip>:<source port>` in `<cluster>:active-fs`, its X-FS-ServiceUrl a
 *   member of `<cluster>:fs-service-url`; an rtpengine is `<source ip>` in `<cluster>:active-rtp`;
 * - `open` adds the member and records it as seen now (in Redis, for every instance's sweep);
 *   anything else removes it;
 * - a drained feature server (by address or `ip:port`) counts as `closed` even when it says `open`.
 */
export async function applyStatusPing(
  ping: StatusPing,
  deps: { sets: ServerSets; drain: FeatureServerDrain },
  log: Logger,
): Promise<StatusOutcome> {
  const { sets, drain } = deps;
  if (ping.kind === 'rtpengine') {
    const member = ping.ip;
    const changed = ping.open
      ? await sets.touch('active-rtp', member)
      : await sets.remove('active-rtp', member);
    const members = await sets.count('active-rtp');
    if (changed) log.info({ member, members }, `${ping.open ? 'added' : 'removed'} rtpengine ${member}`);
    return { set: 'active-rtp', member, members, changed, drained: false };
  }

  const member = hostPort(ping.ip, ping.port);
  const drained = ping.open && (await drain.isDrained(ping.ip, member));
  const open = ping.open && !drained;
  const changed = open ? await sets.touch('active-fs', member) : await sets.remove('active-fs', member);
  if (ping.serviceUrl !== undefined) {
    if (open) await sets.touch('fs-service-url', ping.serviceUrl);
    else await sets.remove('fs-service-url', ping.serviceUrl);
  }
  if (drained) {
    await drain.recordDrainedPing(member, true);
    log.warn({ member }, 'drained feature server attempted to check in: kept out');
  } else if (!ping.open) {
    await drain.recordDrainedPing(member, false);
  }
  const members = await sets.count('active-fs');
  if (changed) {
    log.info(
      { member, members, serviceUrl: ping.serviceUrl, calls: ping.calls },
      `${open ? 'added' : 'removed'} feature server ${member}`,
    );
  }
  return { set: 'active-fs', member, members, changed, drained };
}
