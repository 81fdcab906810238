import {
  clusterIdEnv,
  configVariables,
  digestAuthEnv,
  sourceBansEnv,
  drachtioEnv,
  encryptionEnv,
  envVar,
  group,
  httpPortEnv,
  k8sEnv,
  logLevelEnv,
  loadConfig,
  mysqlEnv,
  networkCidrEnv,
  redisEnv,
  timeSeriesEnv,
  type ConfigOf,
  type Env,
  type HostPort,
  type Parser,
} from '@sbc/service';

/** `JAMBONES_FEATURE_SERVERS=127.0.1.10:5070,127.0.1.11`: feature servers as `host[:port]`. */
const parseServerList: Parser<string[]> = (raw) => {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.find((s) => !/^(\[[0-9a-f:.]+\]|[^\s:/[\]]+)(:\d{1,5})?$/i.test(s));
  if (bad !== undefined) return { ok: false, problem: `is not a list of host[:port] (${bad}?)` };
  return { ok: true, value: items };
};

/** `JAMBONES_RTPENGINES=127.0.0.1:22222,127.0.0.5:22222`: several engines, unlike jambonz's single one. */
function rtpengineList(defaultPort: number): Parser<HostPort[]> {
  return (raw) => {
    const value: HostPort[] = [];
    for (const item of raw.split(',').map((s) => s.trim())) {
      if (item === '') continue;
      const m = /^(?:\[([0-9a-f:.]+)\]|([^\s:/[\]]+))(?::(\d{1,5}))?$/i.exec(item);
      const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
      if (!m || port < 1 || port > 65535)
        return { ok: false, problem: `is not a list of host[:port] (${item}?)` };
      value.push({ host: m[1] ?? m[2] ?? '', port });
    }
    if (value.length === 0) return { ok: false, problem: 'is empty' };
    return { ok: true, value };
  };
}

/** The codec mask of jambonz: JAMBONES_ACCEPT_AND_TRANSCODE, else g729 with JAMBONES_ACCEPT_G729. */
const parseCodecList: Parser<string[]> = (raw) => {
  const codecs = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!codecs.every((c) => /^[A-Za-z0-9._-]+$/.test(c)))
    return { ok: false, problem: 'is not a comma-separated list of codec names' };
  return { ok: true, value: codecs };
};

/**
 * Every variable sbc-inbound reads: jambonz sbc-inbound's names, meanings and defaults (reference
 * §2.14), plus ours (SBC_*), all listed in README.md.
 */
export const inboundSchema = {
  drachtio: drachtioEnv({ listenWhenK8s: true }),
  mysql: mysqlEnv(),
  redis: redisEnv(),
  logLevel: logLevelEnv(),
  httpPort: httpPortEnv(),
  instanceId: envVar.int('INSTANCE_ID', 'instance number of this app on the host', { min: 0 }).default(0),
  network: group(
    {
      k8s: k8sEnv(),
      cidrs: networkCidrEnv({ optional: true }),
    },
    (v, context) => {
      if (!v.k8s && v.cidrs === undefined) {
        context.problem(
          'JAMBONES_NETWORK_CIDR',
          'JAMBONES_NETWORK_CIDR is required unless K8S is set (private network of feature servers, as CIDRs, comma-separated)',
        );
      }
      return { k8s: v.k8s, cidrs: v.cidrs ?? [] };
    },
  ),
  privateVoipNetworkCidrs: envVar
    .cidrList(
      'PRIVATE_VOIP_NETWORK_CIDR',
      'callers inside these networks get direction private in rtpengine (system_information overrides it)',
    )
    .optional(),
  clusterId: clusterIdEnv(),
  encryption: encryptionEnv(),
  auth: digestAuthEnv(),
  bans: sourceBansEnv(),
  timeSeries: timeSeriesEnv({ required: false }),
  hosting: envVar
    .bool('JAMBONES_HOSTING', 'hosted platform: count calls per account and enforce subscriptions')
    .default(false),
  httpUserAgent: envVar
    .string('JAMBONES_HTTP_USER_AGENT_HEADER', 'User-Agent of requests to auth hooks')
    .optional(),
  sbcAccountSid: envVar
    .string('SBC_ACCOUNT_SID', 'dedicated SBC: device calls of other accounts get 404')
    .optional(),
  teamsProxyIps: envVar
    .list('MS_TEAMS_SIP_PROXY_IPS', 'extra source addresses treated as Microsoft Teams SIP proxies')
    .default([]),
  featureServers: group(
    {
      list: envVar
        .custom(
          'JAMBONES_FEATURE_SERVERS',
          'fixed feature servers host[:port] (else <cluster>:active-fs)',
          parseServerList,
        )
        .optional(),
      k8sServiceName: envVar
        .string('K8S_FEATURE_SERVER_SERVICE_NAME', 'K8S: feature server service (host[:port])')
        .optional(),
      k8sTransport: envVar
        .oneOf('K8S_FEATURE_SERVER_TRANSPORT', 'K8S: transport to the feature servers', ['udp', 'tcp'])
        .optional(),
      answerTimeoutMs: envVar
        .int(
          'SBC_FS_ANSWER_TIMEOUT_MS',
          'try the next feature server when one sends no response at all within this many ms',
          { min: 200, max: 32_000 },
        )
        .default(4000),
      maxAttempts: envVar
        .int('SBC_FS_MAX_ATTEMPTS', 'feature servers tried for one call (failover on 408, 5xx, timeout)', {
          min: 1,
          max: 10,
        })
        .default(3),
    },
    (v) => v,
  ),
  rtpengine: group(
    {
      list: envVar
        .custom(
          'JAMBONES_RTPENGINES',
          'rtpengines host[:port],… (NG port 22222); else <cluster>:active-rtp',
          rtpengineList(22222),
        )
        .optional(),
      protocol: envVar
        .oneOf('JAMBONES_NG_PROTOCOL', 'NG protocol to rtpengine (this SBC speaks udp)', ['udp'])
        .default('udp'),
      port: envVar.port('RTPENGINE_PORT', 'NG port of engines found in <cluster>:active-rtp').default(22222),
      k8sServiceName: envVar
        .hostPort('K8S_RTPENGINE_SERVICE_NAME', 'K8S: rtpengine service host:port, resolved in DNS', {
          defaultPort: 22222,
        })
        .optional(),
      dnsPollIntervalMs: envVar
        .int('RTPENGINE_DNS_POLL_INTERVAL', 'K8S: ms between DNS lookups of K8S_RTPENGINE_SERVICE_NAME', {
          min: 1000,
        })
        .default(10_000),
      localPort: envVar
        .int('JAMBONES_RTPENGINE_UDP_PORT', 'local UDP port of NG commands (+ INSTANCE_ID); 0: any', {
          min: 0,
          max: 65535,
        })
        .default(0),
      pingIntervalMs: envVar
        .int('RTPENGINE_PING_INTERVAL', 'ms between NG pings of each engine (clamped to 10–60 s)', {
          min: 1,
        })
        .default(20_000),
      timeoutMs: envVar
        .int('SBC_RTPENGINE_TIMEOUT_MS', 'an NG command without answer fails after this many ms', {
          min: 50,
          max: 10_000,
        })
        .default(1500),
      strictSource: envVar
        .bool('RTPENGINE_ENABLE_STRICT_SOURCE', 'strict source instead of media handover (rtpbleed)')
        .default(false),
      acceptAndTranscode: envVar
        .custom(
          'JAMBONES_ACCEPT_AND_TRANSCODE',
          'codecs accepted from callers and transcoded to PCMU/PCMA',
          parseCodecList,
        )
        .optional(),
      acceptG729: envVar
        .bool('JAMBONES_ACCEPT_G729', 'accept G.729 from callers and transcode it')
        .default(false),
      recordAllCalls: envVar
        .bool('JAMBONES_RECORD_ALL_CALLS', 'rtpengine records every call (record call: yes)')
        .default(false),
      recordingNoAnswerTimeoutSeconds: envVar
        .int(
          'JAMBONES_RECORDING_NO_ANSWER_TIMEOUT',
          'seconds a SIPREC recording command may take before its INFO is answered 400',
          { min: 1, max: 60 },
        )
        .default(2),
      dtmfListenPort: envVar
        .int(
          'DTMF_LISTEN_PORT',
          'UDP port (+ INSTANCE_ID) for the RFC 2833 events rtpengine sends with --dtmf-log-dest; 0: off',
          { min: 0, max: 65535 },
        )
        .default(22224),
      dtmfListenAddress: envVar
        .string('SBC_DTMF_LISTEN_ADDRESS', 'address of DTMF_LISTEN_PORT (only rtpengines may send to it)')
        .default('0.0.0.0'),
      fullMediaRelease: envVar
        .bool(
          'JAMBONES_ENABLE_FULL_MEDIA_RELEASE',
          'feature servers may take the SBC out of the media path (X-Reason: release-media-entirely)',
        )
        .default(false),
    },
    (v) => ({ ...v, pingIntervalMs: Math.min(60_000, Math.max(10_000, v.pingIntervalMs)) }),
  ),
  limits: {
    trackAccountCalls: envVar
      .bool('JAMBONES_TRACK_ACCOUNT_CALLS', 'count calls per account (incalls:account:<sid>)')
      .default(false),
    trackSpCalls: envVar
      .bool('JAMBONES_TRACK_SP_CALLS', 'count calls per service provider (incalls:sp:<sid>:)')
      .default(false),
    trackAppCalls: envVar
      .bool('JAMBONES_TRACK_APP_CALLS', 'count calls per application (incalls:app<sid>:)')
      .default(false),
    minCallLimit: envVar
      .int('MIN_CALL_LIMIT', 'no limit lookup while an account has at most this many calls', { min: 0 })
      .default(0),
    debugCallCounts: envVar
      .bool('JAMBONES_DEBUG_CALL_COUNTS', 'write debug:incalls:<account>:<call-id> keys (3 days)')
      .default(false),
  },
  teamsOutboundProxy: envVar
    .hostPort(
      'SBC_TEAMS_OUTBOUND_PROXY',
      'SIP proxy (host:port) for the INVITEs the SBC sends to Microsoft Teams itself (Teams transfer REFER); else DNS',
      { defaultPort: 5060 },
    )
    .optional(),
  trustedProxyCidrs: envVar
    .cidrList(
      'SBC_TRUSTED_PROXY_CIDRS',
      'SIP proxies in front of the SBC whose X-Forwarded-For names the caller (off: never trusted)',
    )
    .default([]),
  retryAfterSeconds: envVar
    .int('SBC_RETRY_AFTER', 'Retry-After of 503 answers (dependency down, draining)', { min: 1 })
    .default(30),
  drainGraceSeconds: envVar
    .int('SBC_DRAIN_GRACE_SECONDS', 'after SIGTERM, longest wait for calls to end before exiting', {
      min: 0,
    })
    .default(3600),
  systemInfoIntervalMs: envVar
    .int('SBC_SYSTEM_INFO_INTERVAL_MS', 'how often system_information is re-read', { min: 1000 })
    .default(20_000),
};

export type InboundConfig = ConfigOf<typeof inboundSchema>;

export function loadInboundConfig(env: Env): InboundConfig {
  return loadConfig(inboundSchema, env);
}

/** Name, default and meaning of every variable (for the README table). */
export function inboundVariables() {
  return configVariables(inboundSchema);
}
