import type { AppConnection } from '../control/app-connection.js';
import { ControlServer } from '../control/control-server.js';
import type { AppMessage } from '../control/wire.js';
import { DialogTable } from '../dialog/dialog.js';
import { EngineMetrics } from '../metrics.js';
import { createTransactionLayer } from '../transaction/index.js';
import type { ServerTransaction, TimerConfig, TransactionLayerApi } from '../transaction/types.js';
import { createTransportLayer } from '../transport/index.js';
import type { Inbound, TransportLayer } from '../transport/types.js';
import type { SipRequest, SipResponse } from '@sbc/sip';
import { parseAppSip } from './app-message.js';
import { AppRequests } from './app-requests.js';
import { AppResponses } from './app-responses.js';
import type { AppTxn, EngineConfig, EngineContext, EngineLogger, NetTxn } from './context.js';
import { NetworkRequests } from './network-requests.js';

const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };

export interface EngineOptions extends EngineConfig {
  logger: EngineLogger;
  metrics?: EngineMetrics;
}

/**
 * The SIP engine: transport → transactions → (this) → drachtio apps on the control channel.
 * Incoming requests go to the app routed for their method; what apps send goes out through the
 * transaction layer, with dialog state kept here (spec §5, §6).
 */
export class Engine {
  readonly metrics: EngineMetrics;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayerApi;
  readonly control: ControlServer;
  readonly dialogs = new DialogTable();
  private readonly netTxns = new Map<string, NetTxn>();
  private readonly appTxns = new Map<string, AppTxn>();
  private readonly network: NetworkRequests;
  private readonly requests: AppRequests;
  private readonly responses: AppResponses;
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
        // drachtio forces rport on received requests (spec §6: NTATAG_SERVER_RPORT(2)).
        forceRport: true,
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
        onRequest: (st: ServerTransaction) => this.network.onRequest(st),
        onAck: (ack: Inbound<SipRequest>) => this.network.onAck(ack),
        onCancel: (cancel, invite) => this.network.onCancel(cancel, invite),
        onStrayResponse: (response: Inbound<SipResponse>) => this.requests.onStrayResponse(response),
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
        onSip: (conn, msg) => this.onAppSip(conn, msg),
        onProxy: (conn, msg) => conn.reply(msg.id, ['NOK', 'proxy is not supported by this engine']),
        onDisconnect: (conn) => this.onAppGone(conn),
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
    this.network = new NetworkRequests(ctx);
    this.requests = new AppRequests(ctx);
    this.responses = new AppResponses(ctx, this.requests);
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
    this.requests.stop();
    await this.transport.stop();
  }

  /** `proto/host:port` per listener, advertised and local (spec §3.1). */
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

  /** The `sip` command: response (§3.4a), in-dialog request (b), CANCEL (c) or new request (d). */
  private onAppSip(conn: AppConnection, msg: AppMessage): void {
    const [, , txnId = '', dialogId = '', routeUri] = msg.tokens;
    const message = parseAppSip(msg.sip);
    if (!message) {
      conn.reply(msg.id, ['NOK', 'invalid SIP message']);
      return;
    }
    const fail = (err: unknown): void => {
      this.logger.error({ err, txnId, dialogId }, 'app sip command failed');
      conn.reply(msg.id, ['NOK', `Server error: ${(err as Error).message}`]);
    };
    if (message.kind === 'response') {
      if (!txnId) {
        conn.refuse(msg.id, 'transaction id missing');
        return;
      }
      this.responses.respond(conn, msg.id, txnId, message).catch(fail);
    } else if (dialogId) {
      this.requests.sendInDialog(conn, msg.id, dialogId, message).catch(fail);
    } else if (txnId && message.method === 'CANCEL') {
      this.requests.cancel(conn, msg.id, txnId, message);
    } else if (!txnId) {
      this.requests.sendNew(conn, msg.id, routeUri, message).catch(fail);
    } else {
      conn.reply(msg.id, ['NOK', `Server error: ${message.method} with a transaction id and no dialog id`]);
    }
  }

  private onAppGone(conn: AppConnection): void {
    this.dialogs.orphan(conn);
    this.network.appGone(conn);
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
