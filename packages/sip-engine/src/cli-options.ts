import { readFileSync } from 'node:fs';
import type { EngineConfig } from './core/context.js';
import { readDrachtioConfig } from './edge/config-file.js';
import type { EdgeConfig } from './edge/guard.js';
import { edgeConfigFrom, type EdgeFlags } from './edge/options.js';
import type { TransportProtocol } from './transport/types.js';

/** drachtio-server's log levels, mapped onto pino's. */
const LOG_LEVELS: Record<string, string> = {
  notice: 'info',
  error: 'error',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
};

export interface CliOptions {
  engine: EngineConfig;
  /** Edge protection (spammers, blacklist, rate and connection limits), built into an EdgeGuard by the CLI. */
  edge: EdgeConfig;
  logLevel: string;
  /** host (optional) and port for `/metrics` (drachtio `--prometheus-scrape-port`). */
  prometheus?: { host: string; port: number };
}

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export const USAGE = `Usage: sbc-sip-engine [OPTIONS]

A drachtio-compatible SIP engine. Takes drachtio-server's flags:
  -c, --contact URI                 SIP address to listen on, repeatable, e.g. "sip:127.0.0.1:5060;transport=udp,tcp",
                                    "sip:127.0.0.1:8080;transport=ws", "sip:*;transport=udp" (all interfaces)
      --external-ip IP              advertised address for the --contact before it
      --address IP                  address for app connections (default 0.0.0.0)
  -p, --port PORT                   TCP port for app connections (default 9022)
      --tls-port PORT               TLS port for app connections (needs --key-file/--cert-file)
      --secret SECRET               shared secret apps authenticate with (default admin)
  -l, --loglevel LEVEL              notice, error, warning, info, debug (default info)
      --http-handler tcp://HOST:PORT  outbound mode: dial the app listening there for every new request
      --key-file FILE / --cert-file FILE  TLS key and certificate (SIP tls/wss contacts, --tls-port)
      --prometheus-scrape-port [HOST:]PORT  serve /metrics
      --user-agent-options-auto-respond UA  answer OPTIONS from this User-Agent with 200 when no app is routed
  -f, --file FILE                   drachtio-server XML config file: its <sip><spammers> and <sip><blacklist> are read
      --blacklist-redis-address HOST  Redis holding a set of blacklisted IPs (their traffic is dropped)
      --blacklist-redis-port PORT   (default 6379)
      --blacklist-redis-key KEY     the set's key
      --blacklist-redis-password P
      --blacklist-redis-sentinels HOST:PORT,…  --blacklist-redis-master NAME  the Redis through Sentinel instead
      --blacklist-refresh-secs S    how often the set is read again (default 300)
Beyond drachtio-server (0 turns a limit off):
      --rate-limit-requests N       messages a source may send per window before it is banned (default 1000)
      --rate-limit-window-secs S    (default 2)
      --rate-limit-ban-secs S       how long a banned source is dropped (default 300)
      --edge-allow CIDR[,CIDR…]     sources exempt from the rate and connection limits, repeatable
                                    (JAMBONES_NETWORK_CIDR, the private network, is always exempt)
      --max-connections-per-source N  TCP/TLS/WS/WSS connections one source may hold (default 250)
      --connection-idle-secs S      close connections silent this long (default 3600)
      --incomplete-message-secs S   close inbound connections that hold an unfinished message, or have not
                                    sent their first one, this long (default 20)
Environment: DRACHTIO_SECRET, DRACHTIO_ADMIN_ADDRESS, DRACHTIO_ADMIN_TCP_PORT, DRACHTIO_ADMIN_TLS_PORT,
DRACHTIO_LOGLEVEL, DRACHTIO_HTTP_HANDLER_URI, DRACHTIO_TLS_KEY_FILE, DRACHTIO_TLS_CERT_FILE,
DRACHTIO_PROMETHEUS_SCRAPE_PORT, DRACHTIO_USER_AGENT_OPTIONS_AUTO_RESPOND, DRACHTIO_CONFIG_FILE_PATH,
DRACHTIO_BLACKLIST_REDIS_{ADDRESS,PORT,KEY,PASSWORD,SENTINELS,MASTER,REFRESH_SECS};
SBC_SIP_ENGINE_{RATE_LIMIT_REQUESTS,RATE_LIMIT_WINDOW_SECS,RATE_LIMIT_BAN_SECS,EDGE_ALLOW,
MAX_CONNECTIONS_PER_SOURCE,CONNECTION_IDLE_SECS,INCOMPLETE_MESSAGE_SECS}, JAMBONES_NETWORK_CIDR
(flags win over the environment).`;

/**
 * `sip:HOST[:PORT][;transport=udp,tcp,…]` → one listen spec per transport (drachtio's `--contact`).
 * `*` as host binds every interface.
 */
export function parseContact(contact: string): EngineConfig['sip'] {
  const match = /^sips?:(\[[^\]]+\]|[^:;]+)(?::(\d+))?((?:;[^;]*)*)$/i.exec(contact.trim());
  if (!match) throw new CliUsageError(`--contact ${contact}: expected sip:host[:port][;transport=udp,tcp,…]`);
  const rawHost = match[1]!.replace(/^\[|\]$/g, '');
  const address = rawHost === '*' ? '0.0.0.0' : rawHost;
  const params = new Map(
    (match[3] ?? '')
      .split(';')
      .filter(Boolean)
      .map((p) => {
        const [k, v = ''] = p.split('=');
        return [k!.toLowerCase(), v] as const;
      }),
  );
  const transports = (params.get('transport') ?? 'udp').split(',').map((t) => t.trim().toLowerCase());
  const specs: EngineConfig['sip'] = [];
  for (const transport of transports) {
    if (!['udp', 'tcp', 'tls', 'ws', 'wss'].includes(transport)) {
      throw new CliUsageError(`--contact ${contact}: unknown transport ${transport}`);
    }
    const protocol = transport as TransportProtocol;
    const defaultPort = protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
    specs.push({ protocol, address, port: match[2] ? Number(match[2]) : defaultPort });
  }
  return specs;
}

function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535)
    throw new CliUsageError(`${flag} ${value}: not a port`);
  return port;
}

/** Flags (drachtio-server's) over environment variables (drachtio-server's names) over defaults. */
export function parseCliOptions(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const sip: EngineConfig['sip'] = [];
  let address = env.DRACHTIO_ADMIN_ADDRESS ?? '0.0.0.0';
  let port: number | undefined = env.DRACHTIO_ADMIN_TCP_PORT
    ? parsePort(env.DRACHTIO_ADMIN_TCP_PORT, 'DRACHTIO_ADMIN_TCP_PORT')
    : undefined;
  let tlsPort: number | undefined = env.DRACHTIO_ADMIN_TLS_PORT
    ? parsePort(env.DRACHTIO_ADMIN_TLS_PORT, 'DRACHTIO_ADMIN_TLS_PORT')
    : undefined;
  let secret = env.DRACHTIO_SECRET ?? 'admin';
  let level = env.DRACHTIO_LOGLEVEL ?? 'info';
  let handler = env.DRACHTIO_HTTP_HANDLER_URI;
  let keyFile = env.DRACHTIO_TLS_KEY_FILE;
  let certFile = env.DRACHTIO_TLS_CERT_FILE;
  let scrape = env.DRACHTIO_PROMETHEUS_SCRAPE_PORT;
  let autoRespond = env.DRACHTIO_USER_AGENT_OPTIONS_AUTO_RESPOND;
  let configFile = env.DRACHTIO_CONFIG_FILE_PATH;
  const edge: EdgeFlags = {
    blacklist: {
      redisAddress: env.DRACHTIO_BLACKLIST_REDIS_ADDRESS,
      redisPort: env.DRACHTIO_BLACKLIST_REDIS_PORT,
      redisKey: env.DRACHTIO_BLACKLIST_REDIS_KEY,
      redisPassword: env.DRACHTIO_BLACKLIST_REDIS_PASSWORD,
      redisSentinels: env.DRACHTIO_BLACKLIST_REDIS_SENTINELS,
      redisMaster: env.DRACHTIO_BLACKLIST_REDIS_MASTER,
      refreshSecs: env.DRACHTIO_BLACKLIST_REDIS_REFRESH_SECS,
    },
    rateLimitRequests: env.SBC_SIP_ENGINE_RATE_LIMIT_REQUESTS,
    rateLimitWindowSecs: env.SBC_SIP_ENGINE_RATE_LIMIT_WINDOW_SECS,
    rateLimitBanSecs: env.SBC_SIP_ENGINE_RATE_LIMIT_BAN_SECS,
    allow: env.SBC_SIP_ENGINE_EDGE_ALLOW ? [env.SBC_SIP_ENGINE_EDGE_ALLOW] : [],
    maxConnectionsPerSource: env.SBC_SIP_ENGINE_MAX_CONNECTIONS_PER_SOURCE,
    connectionIdleSecs: env.SBC_SIP_ENGINE_CONNECTION_IDLE_SECS,
    incompleteMessageSecs: env.SBC_SIP_ENGINE_INCOMPLETE_MESSAGE_SECS,
  };

  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [name, inline] = flag.includes('=')
      ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)]
      : [flag, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new CliUsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '-c':
      case '--contact':
        sip.push(...parseContact(value()));
        break;
      case '--external-ip': {
        const ip = value();
        const last = sip.at(-1);
        if (!last) throw new CliUsageError('--external-ip must follow the --contact it applies to');
        const lastContact = sip.filter((s) => s.address === last.address && s.port === last.port);
        for (const spec of lastContact) spec.externalAddress = ip;
        break;
      }
      case '--address':
        address = value();
        break;
      case '-p':
      case '--port':
        port = parsePort(value(), name);
        break;
      case '--tls-port':
        tlsPort = parsePort(value(), name);
        break;
      case '--secret':
        secret = value();
        break;
      case '-l':
      case '--loglevel':
        level = value();
        break;
      case '--http-handler':
        handler = value();
        break;
      case '--key-file':
        keyFile = value();
        break;
      case '--cert-file':
        certFile = value();
        break;
      case '--prometheus-scrape-port':
        scrape = value();
        break;
      case '--user-agent-options-auto-respond':
        autoRespond = value();
        break;
      case '-f':
      case '--file':
        configFile = value();
        break;
      case '--blacklist-redis-address':
        edge.blacklist.redisAddress = value();
        break;
      case '--blacklist-redis-port':
        edge.blacklist.redisPort = value();
        break;
      case '--blacklist-redis-key':
        edge.blacklist.redisKey = value();
        break;
      case '--blacklist-redis-password':
        edge.blacklist.redisPassword = value();
        break;
      case '--blacklist-redis-sentinels':
        edge.blacklist.redisSentinels = value();
        break;
      case '--blacklist-redis-master':
        edge.blacklist.redisMaster = value();
        break;
      case '--blacklist-refresh-secs':
        edge.blacklist.refreshSecs = value();
        break;
      case '--rate-limit-requests':
        edge.rateLimitRequests = value();
        break;
      case '--rate-limit-window-secs':
        edge.rateLimitWindowSecs = value();
        break;
      case '--rate-limit-ban-secs':
        edge.rateLimitBanSecs = value();
        break;
      case '--edge-allow':
        edge.allow.push(value());
        break;
      case '--max-connections-per-source':
        edge.maxConnectionsPerSource = value();
        break;
      case '--connection-idle-secs':
        edge.connectionIdleSecs = value();
        break;
      case '--incomplete-message-secs':
        edge.incompleteMessageSecs = value();
        break;
      default:
        throw new CliUsageError(`unknown option ${flag}`);
    }
  }

  const logLevel = LOG_LEVELS[level];
  if (!logLevel)
    throw new CliUsageError(`--loglevel ${level}: expected notice, error, warning, info or debug`);
  if (handler && !/^(tcp|tls):\/\/.+:\d+\/?$/.test(handler)) {
    throw new CliUsageError(
      `--http-handler ${handler}: only tcp://host:port and tls://host:port are supported`,
    );
  }
  if ((keyFile && !certFile) || (!keyFile && certFile))
    throw new CliUsageError('--key-file and --cert-file go together');
  const tls = keyFile && certFile ? { key: readFileSync(keyFile), cert: readFileSync(certFile) } : undefined;
  if (!tls && (tlsPort !== undefined || sip.some((s) => s.protocol === 'tls' || s.protocol === 'wss'))) {
    throw new CliUsageError('TLS and WSS need --key-file and --cert-file');
  }
  if (sip.length === 0) sip.push(...parseContact('sip:*;transport=udp,tcp'));
  if (port === undefined && tlsPort === undefined) port = 9022;

  let prometheus: CliOptions['prometheus'];
  if (scrape) {
    const [h, p] = scrape.includes(':') ? scrape.split(':') : ['0.0.0.0', scrape];
    prometheus = { host: h || '0.0.0.0', port: parsePort(p ?? '', '--prometheus-scrape-port') };
  }
  const split = (list: readonly string[]): string[] =>
    list
      .flatMap((l) => l.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
  let edgeConfig: EdgeConfig;
  try {
    edgeConfig = edgeConfigFrom(
      { ...edge, allow: split(edge.allow) },
      configFile ? readDrachtioConfig(configFile) : undefined,
      split(env.JAMBONES_NETWORK_CIDR ? [env.JAMBONES_NETWORK_CIDR] : []),
    );
  } catch (err) {
    throw new CliUsageError(err instanceof Error ? err.message : String(err));
  }
  return {
    logLevel,
    prometheus,
    edge: edgeConfig,
    engine: {
      sip,
      control: { address, port, tlsPort, secret },
      outboundHandler: handler,
      optionsAutoRespondUserAgent: autoRespond,
      tls,
    },
  };
}
