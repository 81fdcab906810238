/**
 * One outbound registration (jambonz's Regbot): REGISTER to a carrier gateway, answer its 401/407
 * with digest (drachtio-srf does it with `auth`), refresh at expires/2, retry after failures,
 * write `voip_carriers.register_status` after every answer, keep `eph-gw-ip:<ip>` for registration
 * trunks, and disable the carrier after repeated answers listed in REGISTER_RESPONSE_REMOVE.
 */
import { updateCarrierRegisterStatus, updateVoipCarrier, type Db, type RegisterStatus } from '@sbc/db';
import type { EphemeralGateways } from '@sbc/redis';
import { parseContactList } from '@sbc/sip';
import {
  sendRequest,
  type AlertSink,
  type Logger,
  type RequestOutcome,
  type Srf,
  type SrfResponse,
} from '@sbc/service';
import type { RegistrarMetrics } from '../metrics.js';
import { resolveGatewayAddresses, type Resolver } from './resolve.js';
import type { RegbotSpec } from './spec.js';

export interface RegbotOptions {
  /** JAMBONES_REGBOT_MIN_EXPIRES_INTERVAL (s). */
  minExpires: number;
  /** JAMBONES_REGBOT_FAILURE_RETRY_INTERVAL, in ms. */
  failureRetryMs: number;
  /** JAMBONES_REGBOT_REGISTER_FAILURE_THRESHOLD. */
  failureThreshold: number;
  /** REGISTER_RESPONSE_REMOVE. */
  removeOnStatus: readonly number[];
  /** SBC_REGBOT_REQUEST_TIMEOUT, in ms: a REGISTER without a final answer by then failed (408). */
  requestTimeoutMs: number;
  /** JAMBONES_REGBOT_USER_AGENT. */
  userAgent: string;
}

export interface RegbotDeps {
  srf: Srf;
  db: Db;
  ephemeralGateways: EphemeralGateways;
  logger: Logger;
  metrics: RegistrarMetrics;
  alerts: AlertSink;
  options: RegbotOptions;
  resolver?: Resolver;
  /** Called once the carrier was disabled after too many failures. */
  onDisabled?: (regbot: Regbot) => void;
}

export type RegbotState = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

/** Carried from a replaced regbot (same gateway, new configuration) to its successor. */
export interface RegbotCarryOver {
  failures: number;
  cseq: number;
}

export class Regbot {
  state: RegbotState = 'idle';
  /** Consecutive answers listed in REGISTER_RESPONSE_REMOVE. */
  failures: number;
  /** Seconds granted by the last 200. */
  expires: number | undefined;
  private cseq: number;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private addresses: string[] = [];
  private readonly log: Logger;

  constructor(
    readonly spec: RegbotSpec,
    private readonly deps: RegbotDeps,
    carryOver?: RegbotCarryOver,
  ) {
    this.failures = carryOver?.failures ?? 0;
    this.cseq = carryOver?.cseq ?? 1;
    this.log = deps.logger.child({
      component: 'regbot',
      carrier: spec.carrierName,
      voip_carrier_sid: spec.carrierSid,
      callId: spec.gatewaySid,
    });
  }

  get carryOver(): RegbotCarryOver {
    return { failures: this.failures, cseq: this.cseq };
  }

  /** Sends the first REGISTER now. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'registering';
    this.schedule(0);
  }

  /** Stops the timer only (the configuration changed and a successor takes over). */
  retire(): void {
    this.state = 'stopped';
    this.attempt++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops for good (the carrier went away): also forgets its registration-trunk addresses. */
  async stop(): Promise<void> {
    this.retire();
    if (this.spec.trunkType !== 'reg') return;
    for (const ip of this.addresses) {
      await this.deps.ephemeralGateways
        .delete(ip, this.spec.carrierSid)
        .catch((err: unknown) => this.log.warn({ err, ip }, 'cannot remove ephemeral gateway'));
    }
  }

  private schedule(delayMs: number): void {
    if (this.state === 'stopped') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.register(), delayMs);
    this.timer.unref();
  }

  /** One REGISTER transaction and what follows from its outcome. Never rejects. */
  async register(): Promise<void> {
    const attempt = ++this.attempt;
    const outcome = await this.send();
    if (attempt !== this.attempt || this.state === 'stopped') return;
    try {
      await this.handle(outcome);
    } catch (err) {
      this.log.error({ err }, 'regbot failure handling an answer');
      this.schedule(this.deps.options.failureRetryMs);
    }
  }

  private send(): Promise<RequestOutcome> {
    const { spec, deps } = this;
    return sendRequest(
      deps.srf,
      spec.uri,
      {
        method: 'REGISTER',
        proxy: spec.proxy,
        headers: {
          From: spec.from,
          To: spec.from,
          Contact: spec.contact,
          // Lower-case on purpose: drachtio-srf's digest retry sets headers['call-id'], and a
          // 'Call-ID' key beside it would be sent as a second value ("Call-ID: x,x").
          'call-id': spec.gatewaySid,
          CSeq: `${this.cseq} REGISTER`,
          Expires: String(spec.defaultExpires),
          'User-Agent': deps.options.userAgent,
        },
        auth: spec.auth,
      },
      { timeoutMs: deps.options.requestTimeoutMs },
    );
  }

  private async handle(outcome: RequestOutcome): Promise<void> {
    const { spec, deps } = this;
    const { options, metrics } = deps;
    let status: RegisterStatus;
    let retryInMs: number;
    let registeredFor = 0;

    if (outcome.kind === 'response') {
      const { res } = outcome;
      const seq = Number.parseInt(res.get('CSeq') ?? '', 10);
      if (Number.isFinite(seq)) this.cseq = seq + 1;
      const reason = `${res.status} ${res.reason}`;
      if (res.status === 200) {
        const expires = grantedExpires(res, spec.defaultExpires, options.minExpires);
        this.state = 'registered';
        this.failures = 0;
        this.expires = expires;
        registeredFor = expires;
        retryInMs = (expires / 2) * 1000;
        status = { status: 'ok', reason, cseq: seq, callId: spec.gatewaySid, expires };
        metrics.regbotRequests.inc({ result: 'ok' });
        this.log.info({ aor: spec.aor, expires }, 'registered with carrier');
      } else {
        this.state = 'failed';
        this.failures = options.removeOnStatus.includes(res.status) ? this.failures + 1 : 0;
        retryInMs = options.failureRetryMs;
        status = { status: 'fail', reason, cseq: seq, callId: spec.gatewaySid, expires: 0 };
        metrics.regbotRequests.inc({ result: 'fail' });
        this.alert('regbot-failure', `REGISTER to ${spec.carrierName} answered ${reason}`, { aor: spec.aor });
      }
    } else {
      this.state = 'failed';
      retryInMs = options.failureRetryMs;
      const reason = outcome.kind === 'error' ? outcome.message : '408 Request Timeout';
      status =
        outcome.kind === 'timeout'
          ? { status: 'fail', reason, callId: spec.gatewaySid, cseq: this.cseq, expires: 0 }
          : { status: 'fail', reason };
      // The transaction may still be alive in the engine: do not reuse its CSeq.
      this.cseq++;
      metrics.regbotRequests.inc({ result: outcome.kind });
      this.alert('regbot-failure', `REGISTER to ${spec.carrierName} failed: ${reason}`, { aor: spec.aor });
    }

    await updateCarrierRegisterStatus(deps.db, spec.carrierSid, status).catch((err: unknown) =>
      this.log.warn({ err }, 'cannot write register_status'),
    );
    if (spec.trunkType === 'reg') await this.recordTrunkAddresses(registeredFor);

    if (this.failures >= options.failureThreshold) {
      await this.disable(status.reason);
      return;
    }
    this.schedule(retryInMs);
  }

  private alert(alert_type: string, message: string, detail: Record<string, unknown>): void {
    this.deps.alerts.alert({
      alert_type,
      message,
      detail: { voip_carrier_sid: this.spec.carrierSid, ...detail },
    });
  }

  /** `eph-gw-ip:<ip>` → carrier sid, valid for what was granted (0 after a failure). */
  private async recordTrunkAddresses(expires: number): Promise<void> {
    const { spec, deps } = this;
    const addresses = await resolveGatewayAddresses(spec.gateway, deps.resolver);
    if (addresses.length > 0) this.addresses = addresses;
    for (const ip of addresses) {
      await deps.ephemeralGateways
        .create(ip, spec.carrierSid, expires)
        .catch((err: unknown) => this.log.warn({ err, ip }, 'cannot record ephemeral gateway'));
    }
  }

  private async disable(reason: string): Promise<void> {
    const { spec, deps } = this;
    await this.stop();
    const update = spec.trunkType === 'reg' ? { is_active: false } : { requires_register: false };
    await updateVoipCarrier(deps.db, spec.carrierSid, update).catch((err: unknown) =>
      this.log.error({ err }, 'cannot disable the carrier'),
    );
    this.alert(
      'regbot-disabled',
      `disabled registration of ${spec.carrierName} after ${this.failures} consecutive failures (${reason})`,
      { update },
    );
    deps.onDisabled?.(this);
  }
}

/**
 * jambonz's rule: DEFAULT, overridden by the 200's Expires header, overridden by its first Contact's
 * expires parameter; anything not a number or below MIN becomes MIN.
 */
export function grantedExpires(res: Pick<SrfResponse, 'get'>, defaultExpires: number, minExpires: number) {
  let expires = defaultExpires;
  const header = res.get('Expires');
  if (header !== undefined) expires = Number.parseInt(header, 10);
  const contact = res.get('Contact');
  const first = contact ? parseContactList(contact)?.[0] : undefined;
  const contactExpires = first?.params.get('expires');
  if (contactExpires != null) expires = Number.parseInt(contactExpires, 10);
  return Number.isFinite(expires) && expires >= minExpires ? expires : minExpires;
}
