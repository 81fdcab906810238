/**
 * Step 4: digest authentication (jambonz's digestChallenge), through @sbc/auth-hook's SIP digest
 * step (shared with sbc-inbound). The account's registration hook decides when it has one, else
 * the `clients` table. Nonces are ours and checked; replays are refused before the hook is called.
 */
import {
  authenticateSipRequest,
  type AuthGrant,
  type SipDigestMessage,
  type SipDigestOptions,
} from '@sbc/auth-hook';
import type { AccountWithHook, Db } from '@sbc/db';
import type { AlertSink, RequestLog } from '@sbc/service';
import type { RegistrarMetrics } from '../metrics.js';
import { DigestRefusedAnswer } from './errors.js';
import type { Registration } from './parse.js';

export type AuthStepOptions = SipDigestOptions;

export interface Authenticated {
  username: string;
  grant: AuthGrant;
  via: 'hook' | 'client' | 'trunk';
}

/** Resolves with who the caller is, or throws the `RegisterAnswer` the REGISTER must get. */
export async function authenticate(
  db: Db,
  req: SipDigestMessage,
  registration: Registration,
  account: AccountWithHook,
  options: AuthStepOptions,
  context: { log: RequestLog; metrics: RegistrarMetrics; alerts: AlertSink; now: number },
): Promise<Authenticated> {
  const { metrics, alerts } = context;
  const result = await authenticateSipRequest(
    req,
    { method: 'REGISTER', aorHost: registration.realm, expires: registration.expires },
    account,
    options,
    {
      db,
      log: context.log,
      now: context.now,
      observer: {
        observeHook: (outcome, seconds) => metrics.hookDuration.observe({ outcome }, seconds),
        nonceRejected: (reason) => metrics.nonceRejections.inc({ reason }),
        alert: (alert_type, message, detail) =>
          alerts.alert({ alert_type, message, detail, account_sid: account.account_sid }),
      },
    },
  );
  if (!result.ok) throw new DigestRefusedAnswer(result);
  return { username: result.username, grant: result.grant, via: result.via };
}
