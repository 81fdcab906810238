import { lookupGatewaysForOptionsPing, updateSipGateway, type CarrierGateway, type Db } from '@sbc/db';
import type { GatewayBlacklist } from '@sbc/redis';
import { createPeriodicTask, sendRequest, type AlertSink, type Logger, type Srf } from '@sbc/service';
import type { AppMetrics } from './metrics.js';

/** Where the OPTIONS ping to a gateway goes, as jambonz builds it. */
export interface PingTarget {
  /** `sip:<ipv4>[:port]`, or `sips:<ipv4>` for TLS with use_sips_scheme (no port, as jambonz). */
  uri: string;
  /** `sip:<ipv4>[:port when ipv4 is an IP literal];transport=<t>`. */
  proxy: string;
  /** `<ipv4>[:port];transport=<protocol>`: the alert text and the metric label. */
  label: string;
}

export function pingTarget(
  gateway: Pick<CarrierGateway, 'ipv4' | 'port' | 'protocol' | 'use_sips_scheme'>,
): PingTarget {
  const protocol = gateway.protocol ?? 'udp';
  const transport = protocol.split('/')[0] ?? 'udp';
  const sips = protocol.includes('tls') && gateway.use_sips_scheme;
  const isIpLiteral = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(gateway.ipv4);
  const port = gateway.port ?? undefined;
  return {
    uri: sips ? `sips:${gateway.ipv4}` : `sip:${gateway.ipv4}${port ? `:${port}` : ''}`,
    proxy: `sip:${gateway.ipv4}${isIpLiteral && port ? `:${port}` : ''};transport=${transport}`,
    label: `${gateway.ipv4}${port ? `:${port}` : ''};transport=${protocol}`,
  };
}

/** The answer to one ping: a final status, or none (`status` 408 after the round's timeout, 0 on a send error). */
export interface PingResult {
  ok: boolean;
  status: number;
  reason: string;
  error?: string;
}

/** Longest wait for an answer (RFC 3261 Timer F: the engine itself gives up after 32 s). */
const MAX_PING_WAIT_MS = 32_000;

export interface CarrierPinger {
  /** One round now: resolves with each gateway's result. */
  runRound(): Promise<Map<string, PingResult>>;
  start(): void;
  /** SEND_OPTIONS_PING_INTERVAL changed: a round now (unless one is under way), then at the new interval. */
  reschedule(): void;
  stop(): Promise<void>;
}

/**
 * OPTIONS pings to carrier gateways (jambonz lib/sip-trunk-options-ping.js), every
 * SEND_OPTIONS_PING_INTERVAL, to every gateway with `send_options_ping`, `outbound` and `is_active`:
 * - 200: DEL `blacklist-sip-gateway:<sid>`;
 * - anything else, no answer within the interval (at most 32 s), or a send error: SET the key with
 *   OPTIONS_PING_TTL (renewed while the gateway keeps failing, so it stays listed until it answers),
 *   and one alert when this starts the episode (the key did not exist: decided atomically in Redis,
 *   so one alert per episode across all instances);
 * - a code in OPTIONS_RESPONSE_REMOVE also sets `send_options_ping = 0` in MySQL, plus an alert.
 * Every instance pings, as in jambonz (there is no leader for pings); they share the blacklist.
 * Rounds never overlap and are skipped while the SIP engine is not connected (a ping we cannot send
 * says nothing about the carrier).
 */
export function createCarrierPinger(deps: {
  srf: Srf;
  db: Db;
  /** Pool for the UPDATE (JAMBONES_MYSQL_WRITE_*), else `db`. */
  writeDb?: Db;
  blacklist: GatewayBlacklist;
  alerts: AlertSink;
  metrics: AppMetrics;
  logger: Logger;
  /** SEND_OPTIONS_PING_INTERVAL now, in ms (it can change at run time). */
  intervalMs: () => number;
  /** OPTIONS_PING_TTL now. */
  ttlSeconds: () => number;
  /** OPTIONS_RESPONSE_REMOVE now. */
  removeCodes: () => readonly number[];
  isEngineConnected: () => boolean;
}): CarrierPinger {
  const log = deps.logger.child({ component: 'carrier-ping' });
  const labelled = new Map<string, { sip_gateway_sid: string; gateway: string }>();
  let halted = false;
  let skippedLogged = false;
  let everConnected = false;
  /** Ends the pings still waiting for an answer (on stop). */
  let abort = new AbortController();

  const ping = async (target: PingTarget): Promise<PingResult> => {
    const outcome = await sendRequest(
      deps.srf,
      target.uri,
      { method: 'OPTIONS', proxy: target.proxy },
      { timeoutMs: Math.min(deps.intervalMs(), MAX_PING_WAIT_MS), signal: abort.signal },
    );
    switch (outcome.kind) {
      case 'response':
        return { ok: outcome.res.status === 200, status: outcome.res.status, reason: outcome.res.reason };
      case 'timeout':
        return { ok: false, status: 408, reason: 'no answer' };
      case 'aborted':
        return { ok: false, status: -1, reason: 'stopped' };
      case 'error':
        return { ok: false, status: 0, reason: 'not sent', error: outcome.message };
    }
  };

  const handle = async (gateway: CarrierGateway, target: PingTarget, result: PingResult): Promise<void> => {
    const sid = gateway.sip_gateway_sid;
    const where = { sip_gateway_sid: sid, voip_carrier_sid: gateway.voip_carrier_sid, gateway: target.label };
    deps.metrics.gatewayPings.inc({ result: result.ok ? 'ok' : 'failed' });
    deps.metrics.gatewayUp.set({ sip_gateway_sid: sid, gateway: target.label }, result.ok ? 1 : 0);
    if (result.ok) {
      if (await deps.blacklist.clear(sid))
        log.info(where, `carrier gateway ${target.label} answers OPTIONS again`);
      return;
    }
    const carrier = gateway.carrier;
    const started = await deps.blacklist.set(sid, deps.ttlSeconds());
    if (started) {
      deps.alerts.alert({
        alert_type: 'options-ping-failed',
        message:
          result.status === 0
            ? `Options ping ${target.label} unsuccessfully, error: ${result.error ?? result.reason}`
            : `Options ping ${target.label} unsuccessfully, received: ${result.status}`,
        account_sid: carrier.account_sid,
        service_provider_sid: carrier.service_provider_sid,
        detail: { voip_carrier_sid: gateway.voip_carrier_sid, sip_gateway_sid: sid },
      });
    } else {
      log.debug({ ...where, status: result.status }, 'carrier gateway still fails OPTIONS');
    }
    if (deps.removeCodes().includes(result.status)) {
      await updateSipGateway(deps.writeDb ?? deps.db, sid, { send_options_ping: false });
      deps.metrics.gatewayUp.remove({ sip_gateway_sid: sid, gateway: target.label });
      labelled.delete(sid);
      deps.alerts.alert({
        alert_type: 'options-ping-disabled',
        message: `Disabling Options ping for ${gateway.ipv4} in carrier ${carrier.name}(${carrier.voip_carrier_sid})`,
        account_sid: carrier.account_sid,
        service_provider_sid: carrier.service_provider_sid,
        detail: { voip_carrier_sid: gateway.voip_carrier_sid, sip_gateway_sid: sid },
      });
    }
  };

  const runRound = async (): Promise<Map<string, PingResult>> => {
    const results = new Map<string, PingResult>();
    const gateways = await lookupGatewaysForOptionsPing(deps.db);
    const current = new Set(gateways.map((g) => g.sip_gateway_sid));
    for (const [sid, labels] of labelled) {
      if (!current.has(sid)) {
        deps.metrics.gatewayUp.remove(labels);
        labelled.delete(sid);
      }
    }
    await Promise.all(
      gateways.map(async (gateway) => {
        const target = pingTarget(gateway);
        labelled.set(gateway.sip_gateway_sid, {
          sip_gateway_sid: gateway.sip_gateway_sid,
          gateway: target.label,
        });
        const result = await ping(target);
        if (halted) return;
        results.set(gateway.sip_gateway_sid, result);
        try {
          await handle(gateway, target, result);
        } catch (err) {
          log.error(
            { err, sip_gateway_sid: gateway.sip_gateway_sid },
            'cannot record the result of an OPTIONS ping',
          );
        }
      }),
    );
    return results;
  };

  const task = createPeriodicTask({
    intervalMs: deps.intervalMs(),
    run: async () => {
      if (!deps.isEngineConnected()) {
        // Before the first connection this is just start-up; after it, the engine went away.
        if (everConnected && !skippedLogged)
          log.warn('SIP engine not connected: carrier OPTIONS pings skipped until it is');
        skippedLogged = everConnected;
        return everConnected ? deps.intervalMs() : Math.min(deps.intervalMs(), 1000);
      }
      everConnected = true;
      skippedLogged = false;
      await runRound();
      return deps.intervalMs();
    },
    onError: (err) => log.error({ err }, 'carrier OPTIONS ping round failed'),
  });

  return {
    runRound,
    start() {
      if (task.started) return;
      halted = false;
      abort = new AbortController();
      task.start(0);
    },
    reschedule() {
      if (task.started) void task.runNow();
    },
    async stop() {
      halted = true;
      abort.abort();
      await task.stop();
    },
  };
}
