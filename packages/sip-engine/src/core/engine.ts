import { ControlServer } from '../control/control-server.js';
import { DialogTable } from '../dialog/dialog-table.js';
import { EngineMetrics } from '../metrics.js';
import { createTransactionLayer } from '../transaction/index.js';
import type { ServerTransaction, TimerConfig, TransactionLayerApi } from '../transaction/types.js';
import { createTransportLayer } from '../transport/index.js';
import type { Inbound, TransportLayer } from '../transport/types.js';
import type { SipRequest, SipResponse } from '@sbc/sip';
import { AppControl } from './app-control.js';
import type { AppTxn, EngineConfig, EngineContext, EngineLogger, NetTxn } from './context.js';
import { StatefulProxy } from './proxy.js';
import { UserAgentClient } from './uac.js';
import { UserAgentServer } from './uas.js';

const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };

export interface EngineOptions extends EngineConfig {
  logger: EngineLogger;
  metrics?: EngineMetrics;
}

/**
 * The SIP engine: transport → transactions → (this) → drachtio apps on the control channel.
 * Incoming requests go to the app routed for their method; what apps send goes out through the
 * transaction layer, with dialog state kept here (PROTOCOL.md §5, §6).
 */
export class Engine {
  readonly metrics: EngineMetrics;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayerApi;
  readonly control: ControlServer;
  readonly dialogs = new DialogTable();
  private readonly netTxns = new Map<string, NetTxn>();
  private readonly appTxns = new Map<string, AppTxn>();
  private readonly uas: UserAgentServer;
  private readonly uac: UserAgentClient;
  private readonly apps: AppControl;
  private readonly logger: EngineLogger;

  constructor(private readonly options: EngineOptions) {
    this.logger = options.logger;
    this.metrics = options.metrics ?? new EngineMetrics();
    const metrics = this.metrics;
    this.transport = createTransportLayer(
      options.sip.map((s) => ({
        protocol: s.protocol,
        address: s.address,
        port: s.port,
        externalAddress: s.externalAddress,
      })),
      {
        logger: options.logger,
        tls: options.tls,
        // drachtio forces rport on received requests (PROTOCOL.md §6: NTATAG_SERVER_RPORT(2)).
        forceRport: true,
        edge: options.edge,
        observer: {
          parseError: (protocol: string) => metrics.parseErrors.inc({ protocol }),
          messageIn: (m: SipRequest | SipResponse) => counterFor(metrics.messagesIn, m).inc(),
          messageOut: (m: SipRequest | SipResponse) => counterFor(metrics.messagesOut, m).inc(),
        },
      },
    );
    this.transactions = createTransactionLayer(
      this.transport,
      {
        onRequest: (st: ServerTransaction) => this.uas.onRequest(st),
        onAck: (ack: Inbound<SipRequest>) => this.uas.onAck(ack),
        onCancel: (cancel, invite) => this.uas.onCancel(cancel, invite),
        onStrayResponse: (response: Inbound<SipResponse>) => this.uac.onStrayResponse(response),
      },
      {
        timers: { ...DEFAULT_TIMERS, ...options.timers },
        observer: {
          retransmission: (kind, method) => metrics.retransmissions.inc({ kind, method }),
        },
      },
    );
    this.control = new ControlServer(
      { ...options.control, tls: options.tls, logger: options.logger },
      {
        hostports: () => this.hostports(),
        onSip: (conn, msg) => this.apps.onSip(conn, msg),
        onProxy: (conn, msg) => this.apps.onProxy(conn, msg),
        onDisconnect: (conn) => this.apps.onDisconnect(conn),
      },
    );
    const ctx: EngineContext = {
      config: options,
      timers: { ...DEFAULT_TIMERS, ...options.timers },
      transport: this.transport,
      transactions: this.transactions,
      control: this.control,
      dialogs: this.dialogs,
      netTxns: this.netTxns,
      appTxns: this.appTxns,
      logger: options.logger,
      metrics,
    };
    this.uac = new UserAgentClient(ctx);
    const proxy = new StatefulProxy(ctx);
    this.uas = new UserAgentServer(ctx, {
      endDialog: (dialog, reason) => this.uac.endDialog(dialog, reason),
      proxy,
    });
    this.apps = new AppControl(options.logger, this.dialogs, this.uas, this.uac, proxy);
    this.transport.onMessage((inbound) => this.transactions.receive(inbound));
  }

  /** Binds every SIP listener and the control channel. */
  async start(): Promise<{ control: { address: string; port?: number; tlsPort?: number } }> {
    await this.transport.start();
    const control = await this.control.listen();
    for (const e of this.transport.endpoints) {
      this.logger.info(
        { protocol: e.protocol, address: e.address, port: e.port, advertised: e.advertisedAddress },
        'SIP listening',
      );
    }
    return { control };
  }

  async stop(): Promise<void> {
    await this.control.close();
    this.transactions.stop();
    this.uac.stop();
    await this.transport.stop();
  }

  /** `proto/host:port` per listener, advertised and local (PROTOCOL.md §3.1). */
  hostports(): { hostports: string; localHostports: string } {
    const format = (host: string, port: number, protocol: string): string =>
      `${protocol}/${host.includes(':') ? `[${host}]` : host}:${port}`;
    const endpoints = this.transport.endpoints;
    return {
      hostports: endpoints.map((e) => format(e.advertisedAddress, e.port, e.protocol)).join(','),
      localHostports: endpoints.map((e) => format(e.address, e.port, e.protocol)).join(','),
    };
  }

  /** Gauges read at scrape time. */
  refreshGauges(): void {
    const counts = this.transactions.counts();
    this.metrics.activeTransactions.set({ side: 'client' }, counts.client);
    this.metrics.activeTransactions.set({ side: 'server' }, counts.server);
    this.metrics.activeDialogs.set(this.dialogs.size);
    this.metrics.appConnections.set(this.control.apps.size);
  }
}

type MessageCounter = EngineMetrics['messagesIn'];
const counterChildren = new WeakMap<MessageCounter, Map<string, ReturnType<MessageCounter['labels']>>>();

/** The counter child for a message's labels, looked up once per kind/method/status (hot path). */
function counterFor(
  counter: MessageCounter,
  m: SipRequest | SipResponse,
): ReturnType<MessageCounter['labels']> {
  const cseq = m.kind === 'response' ? (m.headers.get('cseq') ?? '') : '';
  const method = m.kind === 'request' ? m.method : cseq.slice(cseq.lastIndexOf(' ') + 1).trim();
  const status = m.kind === 'response' ? String(m.status) : '';
  const key = `${m.kind}|${method}|${status}`;
  let children = counterChildren.get(counter);
  if (!children) {
    children = new Map<string, ReturnType<MessageCounter['labels']>>();
    counterChildren.set(counter, children);
  }
  let child = children.get(key);
  if (!child) {
    child = counter.labels({ kind: m.kind, method, status });
    if (children.size < 1000) children.set(key, child);
  }
  return child;
}
