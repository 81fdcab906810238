/**
 * What happens to a new INVITE, in order (jambonz sbc-inbound's middleware chain, reference §2.2):
 *
 *   read the INVITE (trusted source, numbers, SIPREC) → classify the source (carrier, Teams,
 *   device) → authenticate devices (401 challenge, hook or clients table; auth trunks become
 *   carrier calls) → count the call and check limits → pick feature servers → rtpengine offer →
 *   connect the legs (failover across feature servers) → the connected call
 *
 * Each step throws an `InboundAnswer` to end the INVITE with a deliberate status code. Unlike jambonz,
 * devices are authenticated before their call is counted (a challenge never touches the counters),
 * and a draining instance answers 503 + Retry-After instead of taking new calls.
 */
import { performance } from 'node:perf_hooks';
import { tryParseNameAddr } from '@sbc/sip';
import {
  batchWritesThisTurn,
  callLogger,
  type Logger,
  type SipHeaders,
  type Srf,
  type SrfRequest,
  type SrfResponse,
} from '@sbc/service';
import { DependencyUnavailableError, InboundAnswer } from './answers.js';
import { authenticateDevice, type DeviceAuthDeps } from './authenticate.js';
import { ConnectedCall, type CallContext, type CallEnd } from './call.js';
import { referGateway } from './dialog/refer-gateway.js';
import { CallerCanceledError, connectCall } from './connect.js';
import type { FeatureServerSelector } from './feature-servers.js';
import { featureServerHeaders, type CallerContact } from './headers.js';
import { readInvite, type AddressMatcher, type InboundInvite } from './invite.js';
import { claimCallSlot, type CallSlot, type LimitOptions } from './limits.js';
import { CallMedia } from './media/call-media.js';
import type { DtmfEvents } from './media/dtmf-events.js';
import { callerMediaOf, type MediaOptions } from './media/profiles.js';
import { RtpengineRejectedError, RtpengineUnavailableError, type RtpenginePool } from './media/rtpengines.js';
import type { InboundMetrics } from './metrics.js';
import type { Cdr, Records } from './records.js';
import { replaceCaller } from './replaces.js';
import { routeCall, type CallRoute, type RouteDeps } from './route.js';
import { siprecBody } from './siprec.js';

export interface InviteHandlerOptions {
  limits: LimitOptions;
  media: MediaOptions;
  /** SBC_TEAMS_OUTBOUND_PROXY (host:port): the SBC's own INVITEs towards Teams go through it. */
  teamsOutboundProxy?: string;
  /** JAMBONES_RECORDING_NO_ANSWER_TIMEOUT (ms): a SIPREC command's longest wait for the SRS. */
  recordingNoAnswerTimeoutMs: number;
  /** JAMBONES_ENABLE_FULL_MEDIA_RELEASE: keep the caller's SDP (`a_sdp:<Call-ID>`), obey release-media-entirely. */
  fullMediaRelease: boolean;
  maxAttempts: number;
  answerTimeoutMs: number;
  retryAfterSeconds: number;
}

export interface InviteHandlerDeps {
  srf: Srf;
  logger: Logger;
  metrics: InboundMetrics;
  records: Records;
  route: RouteDeps;
  auth: DeviceAuthDeps;
  limits: Omit<Parameters<typeof claimCallSlot>[0], 'records'>;
  featureServers: FeatureServerSelector;
  rtpengines: RtpenginePool;
  options: InviteHandlerOptions;
  isTrustedProxy: AddressMatcher;
  /** Callers inside these networks use rtpengine's private interface (system_information). */
  isPrivateVoip: AddressMatcher;
  /** This SBC's private SIP address (Contact towards feature servers), once known. */
  privateSipAddress: () => string | undefined;
  /** This SBC's address for CDRs. */
  host: () => string | undefined;
  draining: () => boolean;
  /** Connected calls, by Call-ID. */
  calls: Map<string, ConnectedCall>;
  /** Which other sbc-inbound instance holds a call (Replaces naming a call this one does not hold). */
  callOwner?: (callId: string) => Promise<string | undefined>;
  /** rtpengine's RFC 2833 events (DTMF_LISTEN_PORT), when the SBC listens for them. */
  dtmfEvents?: Pick<DtmfEvents, 'subscribe'>;
}

/** jambonz's Redis keys of full media release: this call's caller SDP, and its partner's. */
export const callerSdpKey = (callId: string) => `a_sdp:${callId}`;
export const partnerSdpKey = (callId: string) => `b_sdp:${callId}`;

/** 503 + Retry-After while this instance drains (SIGTERM): the caller's next attempt goes elsewhere. */
class DrainingError extends InboundAnswer {
  override readonly name = 'DrainingError';
  readonly status = 503;
  readonly outcome = 'unavailable';
  readonly reason = 'draining';
  constructor(private readonly retryAfter: number) {
    super('this SBC is shutting down');
  }
  override headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfter) };
  }
}

/** 480 (jambonz's answer) when no rtpengine takes the offer; 488 for an SDP rtpengine refuses. */
class MediaUnavailableError extends InboundAnswer {
  override readonly name = 'MediaUnavailableError';
  readonly status = 480;
  readonly outcome = 'unavailable';
  readonly reason = 'no_rtpengine';
}
class MediaRefusedError extends InboundAnswer {
  override readonly name = 'MediaRefusedError';
  readonly status = 488;
  readonly outcome = 'rejected';
  readonly reason = 'bad_sdp';
}

function send(res: SrfResponse, status: number, reason: string | undefined, headers: SipHeaders): void {
  if (res.finalResponseSent) return;
  batchWritesThisTurn(res.socket);
  if (reason) res.send(status, reason, { headers });
  else res.send(status, { headers });
}

/** The srf handler for new INVITEs. It never rejects: every failure becomes an answer. */
export function createInviteHandler(deps: InviteHandlerDeps) {
  const { metrics, records, options } = deps;

  return async function handleInvite(req: SrfRequest, res: SrfResponse): Promise<void> {
    const started = performance.now();
    const attemptedAt = new Date();
    const callId = req.get('Call-ID') ?? 'unknown';
    const log = callLogger(deps.logger, callId, {});
    let invite: InboundInvite | undefined;
    let route: CallRoute | undefined;
    let slot: CallSlot | undefined;
    let media: CallMedia | undefined;

    try {
      if (deps.draining()) throw new DrainingError(options.retryAfterSeconds);
      invite = readInvite(req, deps.isTrustedProxy);
      route = await routeCall(deps.route, invite, log);
      if (route.originator === 'user') route = await authenticateDevice(deps.auth, req, invite, route, log);
      if (invite.replaces) {
        // An attended transfer: the caller of a call up now is replaced; no new call to count.
        await replaceCaller(deps.calls.values(), invite.replaces, deps.callOwner, req, res);
        metrics.invites.inc({ outcome: 'connected', originator: route.originator, reason: 'replaces' });
        return;
      }

      slot = await claimCallSlot(
        { ...deps.limits, records, log },
        {
          callId,
          accountSid: route.accountSid,
          serviceProviderSid: route.serviceProviderSid,
          applicationSid: route.applicationSid,
        },
        options.limits,
      );
      const candidates = await deps.featureServers.candidates().catch((err: unknown) => {
        if (err instanceof InboundAnswer) throw err;
        throw new DependencyUnavailableError(
          'redis',
          options.retryAfterSeconds,
          'cannot read the feature servers',
          { cause: err },
        );
      });

      const callerMedia = callerMediaOf(invite.sdp, route.originator === 'teams');
      media = new CallMedia(deps.rtpengines, {
        callId,
        callerTag: invite.fromTag,
        callerMedia,
        callerDirection: deps.isPrivateVoip(invite.source.address) ? 'private' : 'public',
        padCrypto: route.padCrypto,
        options: options.media,
      });
      const offered =
        invite.sdp === undefined ? undefined : await offerMedia(media, invite.sdp, route, records);

      const headers = featureServerHeaders(req, invite, route, deps.privateSipAddress());
      let offerBody = offered;
      if (offered !== undefined && invite.siprec) {
        const multipart = siprecBody(offered, invite.siprec);
        offerBody = multipart.body;
        headers['Content-Type'] = multipart.contentType;
      }
      const callerContact: CallerContact =
        route.originator === 'teams' && route.teamsTenantFqdn
          ? { kind: 'teams', tenantFqdn: route.teamsTenantFqdn }
          : deps.isPrivateVoip(invite.source.address) && deps.privateSipAddress()
            ? { kind: 'private', address: deps.privateSipAddress() ?? '', protocol: invite.protocol }
            : { kind: 'engine' };

      const connected = await connectCall(
        deps.srf,
        req,
        res,
        invite,
        media,
        {
          candidates,
          maxAttempts: options.maxAttempts,
          answerTimeoutMs: options.answerTimeoutMs,
          headers,
          offerSdp: offerBody,
          callerContact,
        },
        {
          attempt: (featureServer, n) => log.debug({ featureServer, attempt: n }, 'INVITE to feature server'),
          failedOver: (featureServer, why) => {
            metrics.featureServerFailovers.inc();
            log.warn({ featureServer, why }, 'feature server failed; trying the next one');
          },
        },
      );

      const answeredAt = new Date();
      const setup = (performance.now() - started) / 1000;
      metrics.setupDuration.observe({ originator: route.originator }, setup);
      metrics.invites.inc({ outcome: 'connected', originator: route.originator, reason: 'answered' });
      const answer = connected.answer;
      const callRoute = route;
      const callInvite = invite;
      const callSlot = slot;
      const callContext: CallContext = {
        callerSource: { address: req.source_address, port: req.source_port },
        voipCarrierSid: route.originator === 'trunk' ? route.carrier?.voipCarrierSid : undefined,
        referGateway: (sid) => referGateway(deps.route.db, sid),
        createUac: (uri, uacOptions, progress) => deps.srf.createUAC(uri, uacOptions, progress),
        ...(route.originator === 'teams' &&
          route.teamsTenantFqdn && {
            teams: {
              tenantFqdn: route.teamsTenantFqdn,
              callingNumber: invite.callingNumber,
              ...(options.teamsOutboundProxy !== undefined && { outboundProxy: options.teamsOutboundProxy }),
            },
          }),
        createUas: (uasReq, uasRes, uasOptions) => deps.srf.createUAS(uasReq, uasRes, uasOptions),
        callerDtmf: route.dtmfType === 'info' ? 'info' : 'rfc2833',
        recording: {
          noAnswerTimeoutMs: options.recordingNoAnswerTimeoutMs,
          call: {
            sipCallId: callId,
            fromAor: tryParseNameAddr(req.get('From') ?? '')?.uri ?? '',
            toAor: tryParseNameAddr(req.get('To') ?? '')?.uri ?? '',
            callingNumber: invite.callingNumber,
            calledNumber: invite.did,
            originator: route.originator,
            carrier: route.trunk,
          },
        },
        ...(deps.dtmfEvents && {
          callerDigits: (handler) => deps.dtmfEvents!.subscribe(callId, callInvite.fromTag, handler),
        }),
        ...(options.fullMediaRelease && {
          fullMediaRelease: {
            partnerSdp: () => deps.limits.redis.get(partnerSdpKey(callId)),
          },
        }),
      };
      if (options.fullMediaRelease && invite.sdp !== undefined) {
        // jambonz keeps the caller's SDP for an hour, for the partner call's full media release.
        deps.limits.redis.set(callerSdpKey(callId), invite.sdp, 'EX', 3600).catch((err: unknown) => {
          log.error({ err: String(err) }, 'cannot save the caller SDP for full media release');
        });
      }
      const call = new ConnectedCall(
        connected,
        media,
        log,
        async (end: CallEnd) => {
          deps.calls.delete(callId);
          metrics.callsInProgress.set(deps.calls.size);
          metrics.callsEnded.inc({ ended_by: end.endedBy });
          await callSlot.release();
          const terminatedAt = new Date();
          writeCdr(records, callRoute, callInvite, deps.host(), {
            answered: true,
            sip_status: 200,
            attempted_at: attemptedAt,
            answered_at: answeredAt,
            terminated_at: terminatedAt,
            duration: Math.round((terminatedAt.getTime() - answeredAt.getTime()) / 1000),
            termination_reason:
              end.endedBy === 'caller'
                ? 'caller hungup'
                : end.endedBy === 'featureServer'
                  ? 'called party hungup'
                  : `sbc: ${end.reason ?? 'ended'}`,
            call_sid: answer.get('X-Call-Sid'),
            application_sid: answer.get('X-Application-Sid') ?? callRoute.applicationSid,
            trace_id: answer.get('X-Trace-ID'),
          });
          log.info({ endedBy: end.endedBy }, 'call ended');
        },
        callContext,
      );
      deps.calls.set(callId, call);
      metrics.callsInProgress.set(deps.calls.size);
      log.info(
        {
          originator: route.originator,
          account: route.accountSid,
          featureServer: connected.featureServer,
          rtpengine: media.engineId,
          setupMs: Math.round(setup * 1000),
        },
        'call connected',
      );
    } catch (err) {
      const answer =
        err instanceof InboundAnswer
          ? err
          : err instanceof RtpengineUnavailableError
            ? new MediaUnavailableError(err.message, { cause: err })
            : err instanceof RtpengineRejectedError
              ? new MediaRefusedError(err.message, { cause: err })
              : new InternalError(err);
      metrics.invites.inc({
        outcome: answer.outcome,
        originator: route?.originator ?? 'unknown',
        reason: answer.reason,
      });
      if (!(answer instanceof CallerCanceledError)) {
        const headers = answer.headers();
        if (answer.xReason) headers['X-Reason'] = answer.xReason;
        try {
          send(res, answer.status, answer.reasonPhrase, headers);
        } catch (sendErr) {
          log.warn({ err: sendErr }, 'could not send the answer');
        }
      }
      if (answer instanceof InternalError) log.error({ err: answer.cause }, 'INVITE failed');
      else if (answer.status >= 500 || answer.status === 480)
        log.warn(
          { status: answer.status, reason: answer.reason, err: answer.message },
          'INVITE not connected',
        );
      else
        log.info({ status: answer.status, reason: answer.reason, source: invite?.source }, 'INVITE refused');
      await Promise.all([media?.delete(), slot?.release()]);
      if (route && invite && answer.status !== 401) {
        const now = new Date();
        writeCdr(records, route, invite, deps.host(), {
          answered: false,
          sip_status: answer.status,
          attempted_at: attemptedAt,
          answered_at: undefined,
          terminated_at: now,
          duration: 0,
          termination_reason: answer.status === 487 ? 'caller abandoned' : 'failed',
          call_sid: undefined,
          application_sid: route.applicationSid,
          trace_id: undefined,
        });
      }
    }
  };
}

/** A bug or an unexpected failure: 500, logged with its stack. */
class InternalError extends InboundAnswer {
  override readonly name = 'InternalError';
  readonly status = 500;
  readonly outcome = 'error';
  readonly reason = 'internal';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

async function offerMedia(
  media: CallMedia,
  sdp: string,
  route: CallRoute,
  records: Records,
): Promise<string> {
  try {
    return await media.offer('caller', sdp);
  } catch (err) {
    if (err instanceof RtpengineRejectedError) throw new MediaRefusedError(err.message, { cause: err });
    if (err instanceof RtpengineUnavailableError) {
      records.alert({
        alert_type: 'rtpengine-unavailable',
        message: err.message,
        account_sid: route.accountSid,
        service_provider_sid: route.serviceProviderSid,
      });
      throw new MediaUnavailableError(err.message, { cause: err });
    }
    throw err;
  }
}

function writeCdr(
  records: Records,
  route: CallRoute,
  invite: InboundInvite,
  host: string | undefined,
  fields: Pick<
    Cdr,
    | 'answered'
    | 'sip_status'
    | 'attempted_at'
    | 'answered_at'
    | 'terminated_at'
    | 'duration'
    | 'termination_reason'
    | 'call_sid'
    | 'application_sid'
    | 'trace_id'
  >,
): void {
  if (route.disableCdrs) return;
  records.cdr({
    service_provider_sid: route.serviceProviderSid,
    account_sid: route.accountSid,
    host,
    trunk: route.trunk,
    direction: 'inbound',
    from: invite.callingNumber,
    to: invite.did,
    sip_callid: invite.callId,
    remote_host: invite.source.address,
    ...fields,
  });
}
