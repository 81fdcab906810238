/**
 * The sbc-inbound app, built from its dependencies (tests build the same thing index.ts runs):
 *
 * - new INVITEs: src/handler.ts (read → classify → authenticate → limits → feature server →
 *   rtpengine → connect), then src/call.ts for what happens inside a connected call;
 * - this SBC's addresses: the private one in `<cluster>:active-sip`, the public ones in `sbc_addresses`;
 * - `system_information` re-read periodically (private_network_cidr, log_level);
 * - draining: leave `active-sip`, refuse new calls with 503, let connected calls end.
 */
import { NonceManager } from '@sbc/auth-hook';
import { lookupSystemInformation, type Db } from '@sbc/db';
import { CallCounters, EphemeralGateways, NonceStore, ServerSets, SourceBans, type Redis } from '@sbc/redis';
import { lookup } from 'node:dns/promises';
import type { Socket } from 'node:net';
import {
  batchWritesThisTurn,
  createLogAlertSink,
  createPeriodicTask,
  createSourceBanPolicy,
  parseNetworks,
  privateSipAddress,
  type EngineInfo,
  type Logger,
  type LogLevel,
  type NetworkSet,
  type Metrics,
  type PeriodicTask,
  type SourceBansConfig,
  type Srf,
  type SrfRequest,
  type SrfResponse,
} from '@sbc/service';
import type { DeviceAuthOptions } from './authenticate.js';
import type { ConnectedCall } from './call.js';
import { teamsProxyNetworks } from './classify/index.js';
import type { InboundConfig } from './config.js';
import { FeatureServerSelector, type FeatureServerSource } from './feature-servers.js';
import { createInviteHandler, type InviteHandlerOptions } from './handler.js';
import { CallDirectory } from './call-directory.js';
import { DtmfEvents } from './media/dtmf-events.js';
import { RtpenginePool, type RtpenginePoolOptions } from './media/rtpengines.js';
import { createInboundMetrics, type InboundMetrics } from './metrics.js';
import { logRecords, type Records } from './records.js';
import { SbcAddresses } from './addresses.js';
import type { RouteDeps } from './route.js';

export interface InboundOptions {
  clusterId: string;
  networkCidrs: readonly string[];
  privateVoipNetworkCidrs: readonly string[];
  trustedProxyCidrs: readonly string[];
  teamsProxyIps: readonly string[];
  sbcAccountSid: string | undefined;
  featureServers: {
    list?: readonly string[];
    k8sServiceName?: string;
    k8sTransport?: 'udp' | 'tcp';
    k8s: boolean;
  };
  rtpengines: {
    list?: readonly { host: string; port: number }[];
    /** K8S_RTPENGINE_SERVICE_NAME: the engines are the addresses this name resolves to. */
    k8sService?: { host: string; port: number };
    dnsPollIntervalMs: number;
    port: number;
    localPort: number;
    pingIntervalMs: number;
    timeoutMs: number;
    refreshIntervalMs: number;
    /** Where rtpengine's `--dtmf-log-dest` events are received (DTMF_LISTEN_PORT), unless off. */
    dtmfEvents?: { host: string; port: number };
  };
  invite: InviteHandlerOptions;
  auth: DeviceAuthOptions;
  /** Bans of sources that fail authentication (SBC_AUTH_FAILURE_LIMIT, …). */
  bans: SourceBansConfig;
  systemInfoIntervalMs: number;
  sbcAddresses: { keepAliveMs: number; deadSeconds: number; record: boolean };
}

/** The app's options from its environment configuration. */
export function inboundOptions(config: InboundConfig): InboundOptions {
  const r = config.rtpengine;
  const fs = config.featureServers;
  return {
    clusterId: config.clusterId,
    networkCidrs: config.network.cidrs,
    privateVoipNetworkCidrs: config.privateVoipNetworkCidrs ?? [],
    trustedProxyCidrs: config.trustedProxyCidrs,
    teamsProxyIps: config.teamsProxyIps,
    sbcAccountSid: config.sbcAccountSid,
    featureServers: {
      ...(fs.list !== undefined && { list: fs.list }),
      ...(fs.k8sServiceName !== undefined && { k8sServiceName: fs.k8sServiceName }),
      ...(fs.k8sTransport !== undefined && { k8sTransport: fs.k8sTransport }),
      k8s: config.network.k8s,
    },
    rtpengines: {
      ...(r.list !== undefined && { list: r.list }),
      ...(r.k8sServiceName !== undefined && { k8sService: r.k8sServiceName }),
      dnsPollIntervalMs: r.dnsPollIntervalMs,
      port: r.port,
      localPort: r.localPort === 0 ? 0 : r.localPort + config.instanceId,
      pingIntervalMs: r.pingIntervalMs,
      timeoutMs: r.timeoutMs,
      refreshIntervalMs: 30_000,
      ...(r.dtmfListenPort !== 0 && {
        dtmfEvents: { host: r.dtmfListenAddress, port: r.dtmfListenPort + config.instanceId },
      }),
    },
    invite: {
      limits: { ...config.limits, hosting: config.hosting, retryAfterSeconds: config.retryAfterSeconds },
      media: {
        strictSource: r.strictSource,
        acceptAndTranscode: r.acceptAndTranscode ?? (r.acceptG729 ? ['g729'] : undefined),
        recordAllCalls: r.recordAllCalls,
      },
      recordingNoAnswerTimeoutMs: r.recordingNoAnswerTimeoutSeconds * 1000,
      ...(config.teamsOutboundProxy && {
        teamsOutboundProxy: `${config.teamsOutboundProxy.host}:${config.teamsOutboundProxy.port}`,
      }),
      fullMediaRelease: r.fullMediaRelease,
      maxAttempts: fs.maxAttempts,
      answerTimeoutMs: fs.answerTimeoutMs,
      retryAfterSeconds: config.retryAfterSeconds,
    },
    auth: {
      ...config.auth,
      httpUserAgent: config.httpUserAgent,
      encryptionSecret: config.encryption.secret,
      legacyCrypto: config.encryption.legacyCrypto,
      retryAfterSeconds: config.retryAfterSeconds,
    },
    bans: config.bans,
    systemInfoIntervalMs: config.systemInfoIntervalMs,
    // jambonz: a dedicated SBC (SBC_ACCOUNT_SID) does not publish its address.
    sbcAddresses: { keepAliveMs: 900_000, deadSeconds: 3600, record: config.sbcAccountSid === undefined },
  };
}

/**
 * Where the rtpengines come from when JAMBONES_RTPENGINES is unset (reference §2.8): the addresses
 * K8S_RTPENGINE_SERVICE_NAME resolves to (re-read every RTPENGINE_DNS_POLL_INTERVAL), else the IPs in
 * `<cluster>:active-rtp` (kept by sbc-options, re-read every 30 s) on RTPENGINE_PORT.
 */
function rtpengineSource(
  options: InboundOptions['rtpengines'],
  sets: ServerSets,
): Pick<RtpenginePoolOptions, 'members' | 'refreshIntervalMs'> {
  const service = options.k8sService;
  if (service) {
    return {
      refreshIntervalMs: options.dnsPollIntervalMs,
      members: async () =>
        // IPv4: rtpengine-client speaks NG over a udp4 socket.
        (await lookup(service.host, { all: true, family: 4 })).map(({ address }) => ({
          host: address,
          port: service.port,
        })),
    };
  }
  return {
    refreshIntervalMs: options.refreshIntervalMs,
    members: async () => (await sets.members('active-rtp')).map((ip) => ({ host: ip, port: options.port })),
  };
}

const batched = new WeakSet<Socket>();

/**
 * srf middleware: from the first INVITE on, every read from an engine connection holds the writes
 * it causes until the end of that turn (@sbc/service batchWritesThisTurn), so the provisional
 * responses, the 200, the ACK and the BYEs srf sends for many calls go out in few system calls.
 */
function batchEngineWrites(req: SrfRequest, _res: SrfResponse, next: () => void): void {
  const socket = req.socket;
  if (!batched.has(socket)) {
    batched.add(socket);
    // Before srf's own listener, so that the writes its dispatch makes are held too.
    socket.prependListener('data', () => batchWritesThisTurn(socket));
  }
  next();
}

export interface InboundDeps {
  srf: Srf;
  db: Db;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  options: InboundOptions;
  /** Where CDRs, alerts and call counts go (default: the log). */
  records?: Records;
}

export interface InboundApp {
  readonly metrics: InboundMetrics;
  readonly rtpengines: RtpenginePool;
  readonly calls: ReadonlyMap<string, ConnectedCall>;
  /** The listener of rtpengine's DTMF events, once started (unless DTMF_LISTEN_PORT is 0). */
  readonly dtmfEvents: DtmfEvents | undefined;
  /** Pings the rtpengines, listens for their DTMF events and starts the periodic tasks. */
  start(): Promise<void>;
  /** The engine (re)connected: note the private address, join `active-sip`, record public addresses. */
  engineConnected(engine: EngineInfo): Promise<void>;
  readonly draining: boolean;
  /** Leaves `active-sip` and answers new INVITEs 503 from now on. */
  drain(): Promise<void>;
  /** Resolves when no call is left, or after `graceMs` (with the number still up). */
  callsEnded(graceMs: number): Promise<number>;
  /** Hangs up every call still up. */
  hangUpAll(reason: string): Promise<void>;
  stop(): Promise<void>;
}

export function createInbound(deps: InboundDeps): InboundApp {
  const { srf, db, redis, logger, options } = deps;
  const metrics = createInboundMetrics(deps.metrics);
  const records = deps.records ?? logRecords(logger, createLogAlertSink(logger, deps.metrics));
  const sets = new ServerSets(redis, { clusterId: options.clusterId });
  const calls = new Map<string, ConnectedCall>();
  let privateAddress: string | undefined;
  let draining = false;
  let privateVoip: NetworkSet = parseNetworks([...options.privateVoipNetworkCidrs]);
  const trustedProxies = parseNetworks([...options.trustedProxyCidrs]);
  const teams = teamsProxyNetworks(options.teamsProxyIps);

  const rtpengines = new RtpenginePool({
    ...(options.rtpengines.list && { engines: options.rtpengines.list }),
    ...rtpengineSource(options.rtpengines, sets),
    pingIntervalMs: options.rtpengines.pingIntervalMs,
    timeoutMs: options.rtpengines.timeoutMs,
    localPort: options.rtpengines.localPort,
    logger,
    observe: (command, _engine, seconds, ok) =>
      metrics.rtpengineDuration.observe({ command, result: ok ? 'ok' : 'timeout' }, seconds),
  });

  const directory = new CallDirectory(redis, {
    clusterId: options.clusterId,
    holds: (callId) => [...calls.values()].some((call) => call.callerDialog.callId === callId),
    logger,
  });
  let dtmfEvents: DtmfEvents | undefined;
  const openDtmfEvents = async (at: { host: string; port: number }) => {
    dtmfEvents = await DtmfEvents.open({
      ...at,
      isRtpengine: (address) => rtpengines.engines().some((engine) => engine.host === address),
      logger,
      observe: (outcome) => metrics.dtmfEvents.inc({ outcome }),
    });
    logger.info({ port: dtmfEvents.port }, 'listening for rtpengine DTMF events');
  };

  const fs = options.featureServers;
  const source: FeatureServerSource =
    fs.k8s && fs.k8sServiceName
      ? { kind: 'k8s', serviceName: fs.k8sServiceName, transport: fs.k8sTransport }
      : fs.list
        ? { kind: 'static', servers: fs.list }
        : { kind: 'redis', sets };

  const route: RouteDeps = {
    db,
    ephemeralGateways: new EphemeralGateways(redis),
    isTeams: (address) => teams.contains(address),
    sbcAccountSid: options.sbcAccountSid,
    retryAfterSeconds: options.invite.retryAfterSeconds,
  };
  const nonces = new NonceManager({
    secret: options.auth.nonceSecret,
    maxAgeSeconds: options.auth.nonceMaxAgeSeconds,
  });
  const bans = createSourceBanPolicy({
    store: new SourceBans(redis, { key: options.bans.key }),
    config: options.bans,
    // a trusted proxy carries many devices' INVITEs: never banned for one of them
    exempt: parseNetworks([...options.networkCidrs, ...options.trustedProxyCidrs, ...options.bans.allow]),
    metrics: deps.metrics,
    alerts: records,
    logger,
  });
  // An engine connection that closes takes its calls with it (a restarted engine forgets its
  // dialogs; no BYE will come): release their rtpengine sessions and counters and write their CDRs.
  srf.on('close', () => {
    const lost = [...calls.values()].filter((call) => call.engineLost);
    if (lost.length === 0) return;
    logger.warn({ calls: lost.length }, 'SIP engine connection closed: ending its calls');
    for (const call of lost) void call.hangUp('engine connection lost');
  });
  srf.invite(
    batchEngineWrites,
    createInviteHandler({
      srf,
      logger,
      metrics,
      records,
      route,
      auth: {
        db,
        options: options.auth,
        nonces,
        replayGuard: new NonceStore(redis),
        bans,
        metrics,
        records,
        route,
      },
      limits: { db, redis, counters: new CallCounters(redis) },
      featureServers: new FeatureServerSelector(source),
      rtpengines,
      options: options.invite,
      isTrustedProxy: (address) => trustedProxies.contains(address),
      isPrivateVoip: (address) => privateVoip.contains(address),
      privateSipAddress: () => privateAddress,
      host: () => addresses.publicAddress() ?? privateAddress,
      draining: () => draining,
      calls,
      callOwner: (callId) => directory.ownerOf(callId),
      ...(options.rtpengines.dtmfEvents && {
        dtmfEvents: {
          subscribe: (callId, tag, handler) =>
            dtmfEvents?.subscribe(callId, tag, handler) ?? (() => undefined),
        },
      }),
    }),
  );

  const addresses = new SbcAddresses(db, sets, logger, options.sbcAddresses);
  let currentPrivateVoip = options.privateVoipNetworkCidrs.join(',');
  const systemInfo: PeriodicTask = createPeriodicTask({
    intervalMs: options.systemInfoIntervalMs,
    onError: (err) => logger.warn({ err }, 'cannot read system_information'),
    run: async () => {
      const info = await lookupSystemInformation(db);
      const cidrs = info?.private_network_cidr?.trim();
      if (cidrs && cidrs !== currentPrivateVoip) {
        privateVoip = parseNetworks(cidrs);
        currentPrivateVoip = cidrs;
        logger.info({ privateNetworkCidr: cidrs }, 'private VoIP network from system_information');
      }
      const level = info?.log_level as LogLevel | null | undefined;
      if (level && level !== logger.level) {
        logger.level = level;
        logger.info({ level }, 'log level from system_information');
      }
    },
  });

  return {
    metrics,
    rtpengines,
    calls,
    get draining() {
      return draining;
    },
    get dtmfEvents() {
      return dtmfEvents;
    },
    async start() {
      if (options.rtpengines.dtmfEvents) await openDtmfEvents(options.rtpengines.dtmfEvents);
      await rtpengines.start();
      directory
        .start()
        .catch((err: unknown) => logger.warn({ err: String(err) }, 'call directory not subscribed'));
      systemInfo.start(0);
      bans.start();
    },
    async engineConnected(engine) {
      privateAddress = privateSipAddress(engine, options.networkCidrs);
      logger.info({ hostports: engine.hostports, privateSipAddress: privateAddress }, 'SIP engine addresses');
      await addresses.start(engine, options.networkCidrs, !draining);
    },
    async drain() {
      if (draining) return;
      draining = true;
      logger.info({ calls: calls.size }, 'draining: leaving active-sip, refusing new calls');
      await addresses.leave();
    },
    async callsEnded(graceMs) {
      const deadline = Date.now() + graceMs;
      while (calls.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(250, deadline - Date.now())));
      }
      return calls.size;
    },
    async hangUpAll(reason) {
      await Promise.all([...calls.values()].map((call) => call.hangUp(reason)));
    },
    async stop() {
      await Promise.all([systemInfo.stop(), bans.stop()]);
      await addresses.stop();
      dtmfEvents?.close();
      directory.stop();
      rtpengines.close();
    },
  };
}
