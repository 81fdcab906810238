/**
 * What happens to a REGISTER, in order (jambonz sbc-sip-sidecar's middleware chain):
 *
 *   parse (realm, Contact, expires, AOR) → cached refresh → account (+ device limit) →
 *   digest authentication (hook or clients table) → store / remove the binding → 200
 *
 * Each step throws a `RegisterAnswer` to end the request with a deliberate status code.
 */
import { performance } from 'node:perf_hooks';
import type { Db } from '@sbc/db';
import type { RegistrationStore } from '@sbc/redis';
import { prefetchReplayClaim } from '@sbc/auth-hook';
import {
  batchWritesThisTurn,
  requestLog,
  rewriteContactExpires,
  type AlertSink,
  type Logger,
  type SourceBanPolicy,
  type SrfRequest,
  type SrfResponse,
} from '@sbc/service';
import type { RegisterResult, RegistrarMetrics } from '../metrics.js';
import { findAccount } from './account.js';
import { authenticate, type AuthStepOptions } from './authenticate.js';
import { negotiateExpires, removeBinding, storeBinding } from './binding.js';
import { findCachedBinding } from './cache.js';
import { DigestRefusedAnswer, RegisterAnswer, RegistrarFaultError } from './errors.js';
import { parseRegister } from './parse.js';

export interface RegisterOptions {
  /** JAMBONES_HOSTING. */
  hosting: boolean;
  /** SBC_REGISTER_CACHED_REFRESH: the no-auth refresh shortcut of jambonz. */
  cachedRefresh: boolean;
  /** SBC_NAT_EXPIRES (30). */
  natExpires: number;
  /** SBC_RETRY_AFTER. */
  retryAfterSeconds: number;
}

export interface RegisterHandlerDeps {
  db: Db;
  registrations: RegistrationStore;
  logger: Logger;
  metrics: RegistrarMetrics;
  alerts: AlertSink;
  auth: AuthStepOptions;
  options: RegisterOptions;
  /** Counts refused credentials against their source IP (and bans it past the limit). */
  bans?: SourceBanPolicy;
  /** This SBC's private SIP address, once the engine told us its addresses. */
  privateSipAddress: () => string | undefined;
  /** ms since the epoch (tests pin it). */
  clock?: () => number;
}

function send(res: SrfResponse, status: number, reason: string | undefined, headers: Record<string, string>) {
  batchWritesThisTurn(res.socket);
  if (reason) res.send(status, reason, { headers });
  else res.send(status, { headers });
}

/** The srf handler for REGISTER. It never rejects: every failure becomes an answer. */
export function createRegisterHandler(deps: RegisterHandlerDeps) {
  const { db, registrations: store, metrics, alerts, options } = deps;
  const clock = deps.clock ?? Date.now;

  return async function handleRegister(req: SrfRequest, res: SrfResponse): Promise<void> {
    const started = performance.now();
    const now = clock();
    const bindings: Record<string, unknown> = {};
    const log = requestLog(deps.logger, req.get('Call-ID') ?? 'unknown', bindings);
    const finish = (result: RegisterResult, reason: string): void => {
      metrics.registrations.inc({ result, reason });
      metrics.registerDuration.observe({ result }, (performance.now() - started) / 1000);
    };
    try {
      const registration = parseRegister(req);
      bindings.aor = registration.aor;
      const source = { address: req.source_address, port: req.source_port };
      const replayGuard = prefetchReplayClaim(req.get('Authorization'), registration.realm, deps.auth, now);

      if (options.cachedRefresh) {
        const cached = await findCachedBinding(store, registration, source, { ...options, now });
        if (cached) {
          send(res, 200, undefined, {
            Contact: rewriteContactExpires(registration.contact, options.natExpires),
            Expires: String(options.natExpires),
          });
          log.debug({ expiryTime: cached.record.expiryTime }, 'refresh answered from the stored binding');
          finish('cached', 'refresh');
          return;
        }
      }

      const account = await findAccount(db, store, registration, options, alerts);
      const who = await authenticate(
        db,
        req,
        registration,
        account,
        { ...deps.auth, replayGuard },
        { log, metrics, alerts, now },
      );

      if (registration.type === 'unregister') {
        const removed = await removeBinding(store, registration, options);
        const headers: Record<string, string> = { Expires: '0' };
        if (!registration.wildcard) headers.Contact = registration.contact;
        send(res, 200, undefined, headers);
        log.info({ username: who.username, removed, wildcard: registration.wildcard }, 'unregistered');
        finish('unregistered', registration.wildcard ? 'wildcard' : 'expires_0');
        return;
      }

      const expiry = negotiateExpires(registration.expires, who.grant, req.protocol, options.natExpires);
      await storeBinding(
        store,
        registration,
        who.grant,
        {
          address: source.address,
          port: source.port,
          protocol: req.protocol,
          sbcAddress: req.server?.hostport ?? '',
          privateSbcAddress: deps.privateSipAddress(),
        },
        expiry,
        { retryAfterSeconds: options.retryAfterSeconds, now },
      );
      send(res, 200, undefined, {
        Contact: rewriteContactExpires(registration.contact, expiry.returned),
        Expires: String(expiry.returned),
      });
      log.info(
        { username: who.username, via: who.via, contact: registration.contactUri, ...expiry },
        'registered',
      );
      finish('registered', who.via);
    } catch (err) {
      const answer =
        err instanceof RegisterAnswer
          ? err
          : new RegistrarFaultError(err instanceof Error ? err.message : String(err), { cause: err });
      const headers = answer.headers();
      if (answer.xReason) headers['X-Reason'] = answer.xReason;
      try {
        send(res, answer.status, answer.reasonPhrase, headers);
      } catch (sendErr) {
        log.warn({ err: sendErr }, 'could not send the answer');
      }
      if (answer instanceof RegistrarFaultError)
        log.error({ err: answer.cause ?? answer }, 'REGISTER failed');
      else if (answer.status >= 500)
        log.warn({ err: answer.message, status: answer.status }, 'REGISTER failed');
      else log.debug({ status: answer.status, reason: answer.reason }, 'REGISTER refused');
      if (answer instanceof DigestRefusedAnswer)
        deps.bans?.refused(req.source_address, 'REGISTER', answer.refusal);
      finish(answer.result, answer.reason);
    }
  };
}
