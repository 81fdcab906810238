import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The engine's Prometheus metrics (names per Prometheus conventions, `sbc_sip_engine_` prefix). */
export class EngineMetrics {
  readonly registry = new Registry();
  readonly messagesIn = new Counter({
    name: 'sbc_sip_engine_messages_received_total',
    help: 'SIP messages received from the network, by method (requests) or status (responses)',
    labelNames: ['kind', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly messagesOut = new Counter({
    name: 'sbc_sip_engine_messages_sent_total',
    help: 'SIP messages sent to the network, by method (requests) or status (responses)',
    labelNames: ['kind', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly parseErrors = new Counter({
    name: 'sbc_sip_engine_parse_errors_total',
    help: 'Malformed SIP messages received, by transport',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly retransmissions = new Counter({
    name: 'sbc_sip_engine_retransmissions_total',
    help: 'Retransmissions sent by the transaction layer',
    labelNames: ['kind', 'method'] as const,
    registers: [this.registry],
  });
  readonly rejectedNoApp = new Counter({
    name: 'sbc_sip_engine_requests_without_app_total',
    help: 'New requests answered by the engine because no app was routed for their method',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });
  readonly edgeDropped = new Counter({
    name: 'sbc_sip_engine_edge_dropped_total',
    help: 'Messages and connections refused at the edge: reason blacklist, rate_limited, spammer, connection_limit, connection_timeout',
    labelNames: ['reason', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly rateBans = new Counter({
    name: 'sbc_sip_engine_rate_bans_total',
    help: 'Sources banned by the per-source rate limiter',
    registers: [this.registry],
  });
  readonly blacklistSize = new Gauge({
    name: 'sbc_sip_engine_blacklist_size',
    help: 'IPs in the Redis blacklist as last read',
    registers: [this.registry],
  });
  readonly rateBannedSources = new Gauge({
    name: 'sbc_sip_engine_rate_banned_sources',
    help: 'Sources banned by the rate limiter right now',
    registers: [this.registry],
  });
  readonly activeTransactions = new Gauge({
    name: 'sbc_sip_engine_active_transactions',
    help: 'Live SIP transactions',
    labelNames: ['side'] as const,
    registers: [this.registry],
  });
  readonly activeDialogs = new Gauge({
    name: 'sbc_sip_engine_active_dialogs',
    help: 'Live dialogs',
    registers: [this.registry],
  });
  readonly appConnections = new Gauge({
    name: 'sbc_sip_engine_app_connections',
    help: 'Connected drachtio apps',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'sbc_sip_engine_' });
  }
}
