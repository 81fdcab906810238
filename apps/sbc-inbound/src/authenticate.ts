/**
 * Step 3: a device's INVITE is digest-authenticated exactly as its REGISTER is (the same
 * @sbc/auth-hook step): 401 with our signed nonces (never 407, as jambonz), the account's hook or
 * the clients table, MD5 and SHA-256, stale and replayed nonces refused. Auth trunks are tried
 * first; a device that authenticates as one becomes that carrier's call (reference §2.2 step 6).
 * The hook's `application_sid` overrides the account's device-calling application.
 */
import {
  authenticateSipRequest,
  type NonceManager,
  type ReplayGuard,
  type SipDigestOptions,
  type SipDigestRefusal,
} from '@sbc/auth-hook';
import type { Db } from '@sbc/db';
import {
  headerLines,
  type DigestAuthConfig,
  type Logger,
  type SourceBanPolicy,
  type SrfRequest,
} from '@sbc/service';
import { InboundAnswer, type InviteOutcome } from './answers.js';
import type { InboundInvite } from './invite.js';
import type { InboundMetrics } from './metrics.js';
import type { Records } from './records.js';
import { routeAuthTrunkCall, type CallRoute, type RouteDeps } from './route.js';

/** SBC_NONCE_* / SBC_*DIGEST_ALGORITHMS / SBC_AUTH_HOOK_TIMEOUT_MS, and what the digest step needs besides. */
export type DeviceAuthOptions = DigestAuthConfig &
  Pick<SipDigestOptions, 'httpUserAgent' | 'encryptionSecret' | 'legacyCrypto' | 'retryAfterSeconds'>;

export interface DeviceAuthDeps {
  db: Db;
  options: DeviceAuthOptions;
  nonces: NonceManager;
  replayGuard: ReplayGuard;
  /** Counts refused credentials against their source IP (and bans it past the limit). */
  bans?: SourceBanPolicy;
  metrics: InboundMetrics;
  records: Records;
  route: RouteDeps;
}

const OUTCOMES: Record<SipDigestRefusal['kind'], InviteOutcome> = {
  challenge: 'challenged',
  'bad-request': 'rejected',
  forbidden: 'rejected',
  unavailable: 'unavailable',
};

/** The digest step's refusal as this INVITE's answer (401 challenge, 400, 403, 503). */
export class DigestRefusalAnswer extends InboundAnswer {
  override readonly name = 'DigestRefusalAnswer';
  readonly status: number;
  readonly outcome: InviteOutcome;
  readonly reason: string;
  override readonly xReason: string | undefined;
  constructor(private readonly refusal: SipDigestRefusal) {
    super(refusal.message);
    this.status = refusal.status;
    this.outcome = OUTCOMES[refusal.kind];
    this.reason = refusal.reason;
    this.xReason = refusal.xReason;
  }
  override headers(): Record<string, string> {
    const headers = { ...this.refusal.headers };
    if (this.refusal.wwwAuthenticate.length > 0) {
      headers['WWW-Authenticate'] = headerLines('WWW-Authenticate', this.refusal.wwwAuthenticate);
    }
    return headers;
  }
}

/** Resolves with the call's route once the device is authenticated; throws the answer otherwise. */
export async function authenticateDevice(
  deps: DeviceAuthDeps,
  req: SrfRequest,
  invite: InboundInvite,
  route: CallRoute,
  log: Logger,
): Promise<CallRoute> {
  const device = route.device;
  if (!device) return route;
  const { metrics, records } = deps;
  const result = await authenticateSipRequest(
    req,
    { method: 'INVITE', requestUriHost: device.realm, authTrunks: device.authTrunks },
    device.account,
    { ...deps.options, nonces: deps.nonces, replayGuard: deps.replayGuard },
    {
      db: deps.db,
      log,
      observer: {
        observeHook: (outcome, seconds) => metrics.hookDuration.observe({ outcome }, seconds),
        nonceRejected: (reason) => metrics.nonceRejections.inc({ reason }),
        alert: (type, message, detail) =>
          records.alert({
            alert_type: type,
            message,
            detail,
            account_sid: device.account.account_sid,
            service_provider_sid: device.account.service_provider_sid,
          }),
      },
    },
  );
  if (!result.ok) {
    deps.bans?.refused(req.source_address, 'INVITE', result);
    throw new DigestRefusalAnswer(result);
  }
  if (result.trunk) return routeAuthTrunkCall(deps.route, log, result.trunk, invite, device.account);
  const { device: _authenticated, ...authenticated } = route;
  return {
    ...authenticated,
    authenticatedUser: `${result.username}@${device.realm}`,
    applicationSid: result.grant.application_sid ?? route.applicationSid,
  };
}
