import {
  canonicalHeaderKey,
  SipHeaders,
  tagOf,
  tryParseNameAddr,
  DEFAULT_PARSE_LIMITS,
  parseMessage,
  newTag,
  serializeMessage,
  topVia,
  type ParseLimits,
  type SipHeadersContract,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import {
  defaultAdvertisedAddress,
  defaultPort,
  familyOf,
  isLoopback,
  isReliable,
  normalizeAddress,
  peerKey,
  protocolOfViaTransport,
} from './addresses.js';
import { asError, type Connection, type LayerContext } from './context.js';
import {
  NoEndpointError,
  PeerUnreachableError,
  TransportConfigError,
  TransportError,
  UnroutableResponseError,
} from './errors.js';
import type {
  EdgeGate,
  TransportLayerOptions,
  TransportLogger,
  TransportObserver,
  TransportTlsOptions,
} from './options.js';
import { openStreamConnection, StreamListener } from './stream.js';
import type {
  Inbound,
  ListenSpec,
  LocalEndpoint,
  Peer,
  SendResult,
  TransportLayer,
  TransportProtocol,
} from './types.js';
import { UdpListener } from './udp.js';
import { stampTopVia } from './via-stamp.js';
import { WsListener } from './websocket.js';

type Listener = UdpListener | StreamListener | WsListener;

const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The reason phrase of a stateless 400 / 505 for a message the parser refused. */
function badRequestPhrase(status: number, reason: string): string {
  return status === 505 ? 'Version Not Supported' : reasonPhraseOf(reason);
}

/** Printable ASCII for a reason phrase built from a parser reason. */
function reasonPhraseOf(reason: string): string {
  let out = '';
  for (const ch of reason) {
    const c = ch.charCodeAt(0);
    out += c >= 32 && c < 127 ? ch : ' ';
  }
  out = out.trim().slice(0, 120);
  return out ? `Bad Request (${out})` : 'Bad Request';
}

class SipTransportLayer implements TransportLayer, LayerContext {
  readonly limits: ParseLimits;
  readonly logger: TransportLogger | undefined;
  readonly observer: TransportObserver;
  private readonly tls: TransportTlsOptions | undefined;
  private readonly edge: EdgeGate | undefined;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly forceRport: boolean;
  private readonly listeners: Listener[] = [];
  private readonly udpById = new Map<string, UdpListener>();
  private readonly connections = new Map<string, Connection>();
  private readonly byPeer = new Map<string, Connection>();
  /** Inbound connections counted by the edge gate (given back when they close). */
  private readonly counted = new WeakSet<Connection>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  private readonly handlers: ((inbound: Inbound) => void)[] = [];
  private readonly endpointList: LocalEndpoint[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private connectionSeq = 0;
  private started = false;

  constructor(specs: readonly ListenSpec[], options: TransportLayerOptions) {
    this.limits = { ...DEFAULT_PARSE_LIMITS, ...options.limits };
    this.logger = options.logger;
    this.observer = options.observer ?? {};
    this.tls = options.tls;
    this.edge = options.edge;
    this.idleTimeoutMs = options.edge?.idleTimeoutMs ?? options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.forceRport = options.forceRport ?? false;
    specs.forEach((spec, index) => {
      const endpoint: LocalEndpoint = {
        protocol: spec.protocol,
        address: spec.address,
        port: spec.port,
        advertisedAddress: spec.externalAddress ?? defaultAdvertisedAddress(spec.address),
      };
      this.endpointList.push(endpoint);
      if (spec.protocol === 'udp') {
        const listener = new UdpListener(`udp#${index}`, endpoint, this);
        this.udpById.set(listener.id, listener);
        this.listeners.push(listener);
      } else if (spec.protocol === 'tcp' || spec.protocol === 'tls') {
        this.listeners.push(new StreamListener(endpoint, this, this.tls));
      } else {
        this.listeners.push(new WsListener(endpoint, this, this.tls));
      }
    });
  }

  get endpoints(): readonly LocalEndpoint[] {
    return this.endpointList;
  }

  async start(): Promise<void> {
    if (this.started) return;
    for (const e of this.endpointList) {
      if ((e.protocol === 'tls' || e.protocol === 'wss') && !this.tls) {
        throw new TransportConfigError(
          `${e.protocol} listener ${e.address}:${e.port} needs a key and certificate`,
        );
      }
    }
    await this.edge?.start?.();
    const results = await Promise.allSettled(this.listeners.map((l) => l.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(this.listeners.map((l) => l.stop()));
      await this.edge?.stop?.();
      throw failed.reason;
    }
    this.started = true;
    const shortest = Math.min(this.idleTimeoutMs, this.edge?.incompleteMessageTimeoutMs ?? Infinity);
    const interval = Math.max(250, Math.min(shortest / 2, 30_000));
    this.sweepTimer = setInterval(() => this.sweepIdle(), interval);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const conn of [...this.connections.values()]) conn.close();
    this.connections.clear();
    this.byPeer.clear();
    await Promise.all(this.listeners.map((l) => l.stop()));
    await this.edge?.stop?.();
    this.started = false;
  }

  onMessage(handler: (inbound: Inbound) => void): void {
    this.handlers.push(handler);
  }

  // ---- LayerContext ------------------------------------------------------------------------------

  nextConnectionId(protocol: TransportProtocol): string {
    return `${protocol}-${++this.connectionSeq}`;
  }

  admitConnection(address: string, protocol: TransportProtocol): boolean {
    return this.edge?.admit(address, protocol) ?? true;
  }

  register(conn: Connection): void {
    if (!conn.outbound && this.edge) {
      if (!this.edge.connectionOpened(conn.peer.address, conn.protocol)) {
        this.logger?.debug(
          { connection: conn.id, peer: conn.peer },
          'connection refused: too many from there',
        );
        conn.close();
        return;
      }
      this.counted.add(conn);
    }
    this.connections.set(conn.id, conn);
    this.byPeer.set(peerKey(conn.protocol, conn.peer.address, conn.peer.port), conn);
    this.logger?.debug({ connection: conn.id, peer: conn.peer, outbound: conn.outbound }, 'connection open');
  }

  unregister(conn: Connection): void {
    if (this.counted.delete(conn)) this.edge?.connectionClosed(conn.peer.address);
    this.connections.delete(conn.id);
    const key = peerKey(conn.protocol, conn.peer.address, conn.peer.port);
    if (this.byPeer.get(key) === conn) this.byPeer.delete(key);
    this.logger?.debug({ connection: conn.id, peer: conn.peer }, 'connection closed');
  }

  socketError(protocol: TransportProtocol, err: unknown, detail: object): void {
    const error = asError(err);
    this.logger?.warn({ ...detail, protocol, err: error }, 'socket error');
    try {
      this.observer.socketError?.(protocol, error);
    } catch {
      // observers must not break the socket path
    }
  }

  receive(data: Buffer, source: Peer, local: LocalEndpoint, connectionId: string): void {
    const edge = this.edge;
    if (edge && !edge.admit(source.address, source.protocol)) {
      // a source banned while its connection was open loses the connection too
      if (source.protocol !== 'udp') this.connections.get(connectionId)?.close();
      return;
    }
    try {
      const result = parseMessage(data, this.limits);
      if (!result.ok) {
        this.countParseError(source.protocol, result.reason, source);
        const respondable = result.respondable;
        if (respondable && respondable.method !== 'ACK') {
          const status = respondable.status ?? 400;
          this.sendStatelessError(
            respondable.headers,
            status,
            badRequestPhrase(status, result.reason),
            source,
            connectionId,
          );
        }
        return;
      }
      const message = result.message;
      if (edge && message.kind === 'request' && this.isScanner(message, source, connectionId)) return;
      if (message.kind === 'request') stampTopVia(message, source, this.forceRport);
      this.observer.messageIn?.(message);
      const inbound: Inbound = { message, raw: data, source, local, connectionId, receivedAt: Date.now() };
      for (const handler of this.handlers) {
        try {
          handler(inbound);
        } catch (err) {
          this.logger?.error({ err: asError(err) }, 'message handler threw');
        }
      }
    } catch (err) {
      this.logger?.error({ err: asError(err), source }, 'error handling an inbound message');
    }
  }

  streamFailed(conn: Connection, reason: string, head: Buffer | undefined): void {
    this.countParseError(conn.protocol, reason, conn.peer);
    if (head) {
      // answer 400 when the header section names a request we can answer, then close (RFC 3261 §18.3)
      const parsed = parseMessage(Buffer.concat([head, Buffer.from('\r\n')]), this.limits);
      const headers = parsed.ok
        ? parsed.message.kind === 'request' && parsed.message.method !== 'ACK'
          ? parsed.message.headers
          : undefined
        : parsed.respondable && parsed.respondable.method !== 'ACK'
          ? parsed.respondable.headers
          : undefined;
      if (headers)
        this.sendStatelessError(headers, 400, badRequestPhrase(400, reason), conn.peer, conn.id, true);
      else conn.close();
    } else {
      conn.close();
    }
  }

  /**
   * A request outside a dialog (no To-tag) from a scanner (the spammer list): answered 603 Decline
   * (drachtio's `reject`) or dropped (`discard`); an ACK is never answered.
   */
  private isScanner(request: SipRequest, source: Peer, connectionId: string): boolean {
    const to = request.headers.get('to');
    if (to !== undefined && tagOf(to) !== undefined) return false;
    const action = this.edge?.screen(request, source);
    if (action === undefined) return false;
    if (action === 'reject' && request.method !== 'ACK')
      this.sendStatelessError(request.headers, 603, 'Decline', source, connectionId);
    return true;
  }

  private countParseError(protocol: TransportProtocol, reason: string, source: Peer): void {
    this.logger?.debug({ protocol, reason, source }, 'unusable SIP message');
    try {
      this.observer.parseError?.(protocol, reason);
    } catch {
      // observers must not break the socket path
    }
  }

  /** A stateless 400/505/603 copying Via, From, To, Call-ID and CSeq, sent back where the request came from. */
  private sendStatelessError(
    request: SipHeadersContract,
    status: number,
    reasonPhrase: string,
    source: Peer,
    connectionId: string,
    closeAfter = false,
  ): void {
    const headers = new SipHeaders();
    for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
      for (const field of request.fields()) {
        if (canonicalHeaderKey(field.name) !== name) continue;
        let value = field.value;
        if (name === 'to' && tryParseNameAddr(value) && tagOf(value) === undefined)
          value = `${value};tag=${newTag()}`;
        headers.append(field.name, value);
        if (name !== 'via') break; // one of each single-valued header, even when the request repeated it
      }
    }
    const response: SipResponse = {
      kind: 'response',
      status,
      reason: reasonPhrase,
      headers,
      body: Buffer.alloc(0),
    };
    const raw = serializeMessage(response);
    const conn = this.connections.get(connectionId);
    const sent = conn
      ? conn.send(raw)
      : (this.udpById.get(connectionId)?.sendTo(raw, source.port, source.address) ?? Promise.resolve());
    sent
      .then(() => {
        this.observer.messageOut?.(response);
        if (closeAfter) conn?.close(true);
      })
      .catch((err: unknown) => {
        this.socketError(source.protocol, err, { source, status });
        if (closeAfter) conn?.close();
      });
  }

  // ---- sending -----------------------------------------------------------------------------------

  endpointFor(destination: Peer): LocalEndpoint {
    const candidates = this.endpointList.filter((e) => e.protocol === destination.protocol);
    if (candidates.length === 0) throw new NoEndpointError(`no ${destination.protocol} listener`);
    const family = familyOf(destination.address);
    const sameFamily = candidates.filter((e) => familyOf(e.address) === family);
    const target = normalizeAddress(destination.address);
    const exact = sameFamily.find((e) => normalizeAddress(e.address) === target);
    if (exact) return exact;
    const loopback = isLoopback(destination.address);
    return sameFamily.find((e) => isLoopback(e.address) === loopback) ?? sameFamily[0] ?? candidates[0]!;
  }

  async sendRequest(request: SipRequest, destination: Peer): Promise<SendResult> {
    const raw = serializeMessage(request);
    const result = await this.sendTo(raw, destination, undefined);
    this.observer.messageOut?.(request);
    return result;
  }

  async sendResponse(response: SipResponse, connectionId?: string): Promise<SendResult> {
    const raw = serializeMessage(response);
    const result = await this.routeResponse(raw, response.headers, connectionId);
    this.observer.messageOut?.(response);
    return result;
  }

  async resend(sent: SendResult): Promise<void> {
    const { raw, destination, connectionId } = sent;
    if (destination.protocol === 'udp') {
      const listener = connectionId !== undefined ? this.udpById.get(connectionId) : undefined;
      await (listener ?? this.udpListenerFor(destination)).sendTo(raw, destination.port, destination.address);
      return;
    }
    const conn = connectionId !== undefined ? this.connections.get(connectionId) : undefined;
    await (conn?.open ? conn : await this.connectionTo(destination)).send(raw);
  }

  /** RFC 3261 §18.2.2 with RFC 3581 §4. */
  private async routeResponse(
    raw: Buffer,
    headers: SipHeadersContract,
    connectionId?: string,
  ): Promise<SendResult> {
    const conn = connectionId !== undefined ? this.connections.get(connectionId) : undefined;
    if (conn?.open) {
      await conn.send(raw);
      return { raw, destination: conn.peer, local: conn.local, connectionId: conn.id };
    }
    const via = topVia(headers);
    if (!via) throw new UnroutableResponseError('response without a valid top Via');
    const protocol = protocolOfViaTransport(via.transport);
    if (!protocol) throw new UnroutableResponseError(`response over unsupported transport ${via.transport}`);
    const received = via.params.get('received') ?? undefined;
    const rportValue = via.params.get('rport');
    const rport = rportValue ? Number(rportValue) : undefined;
    const sentByPort = via.port ?? defaultPort(protocol);
    if (isReliable(protocol)) {
      // the request's connection is gone: reuse one to the same peer, else open one to received / sent-by
      const host = received ?? via.host;
      for (const port of rport !== undefined ? [rport, sentByPort] : [sentByPort]) {
        const existing = this.byPeer.get(peerKey(protocol, host, port));
        if (existing?.open) {
          await existing.send(raw);
          return { raw, destination: existing.peer, local: existing.local, connectionId: existing.id };
        }
      }
      return this.sendTo(raw, { protocol, address: host, port: sentByPort }, undefined);
    }
    const maddr = via.params.get('maddr');
    let destination: Peer;
    if (maddr) destination = { protocol, address: maddr, port: sentByPort };
    else if (received) destination = { protocol, address: received, port: rport ?? sentByPort };
    else destination = { protocol, address: via.host, port: rport ?? sentByPort };
    return this.sendTo(
      raw,
      destination,
      connectionId !== undefined ? this.udpById.get(connectionId) : undefined,
    );
  }

  private async sendTo(raw: Buffer, destination: Peer, udp: UdpListener | undefined): Promise<SendResult> {
    if (destination.protocol === 'udp') {
      const listener = udp ?? this.udpListenerFor(destination);
      await listener.sendTo(raw, destination.port, destination.address);
      return { raw, destination, local: listener.endpoint, connectionId: listener.id };
    }
    const conn = await this.connectionTo(destination);
    await conn.send(raw);
    return { raw, destination: conn.peer, local: conn.local, connectionId: conn.id };
  }

  private udpListenerFor(destination: Peer): UdpListener {
    const endpoint = this.endpointFor(destination);
    for (const listener of this.udpById.values()) if (listener.endpoint === endpoint) return listener;
    throw new NoEndpointError('no udp listener');
  }

  /** An open connection to the peer: reused when there is one, else opened (TCP/TLS only). */
  private connectionTo(destination: Peer): Promise<Connection> {
    const key = peerKey(destination.protocol, destination.address, destination.port);
    const existing = this.byPeer.get(key);
    if (existing?.open) return Promise.resolve(existing);
    const protocol = destination.protocol;
    if (protocol !== 'tcp' && protocol !== 'tls') {
      return Promise.reject(
        new PeerUnreachableError(
          `no ${protocol} connection from ${destination.address}:${destination.port} (WebSocket peers must connect to us)`,
        ),
      );
    }
    const pending = this.connecting.get(key);
    if (pending) return pending;
    let local: LocalEndpoint;
    try {
      local = this.endpointFor(destination);
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const opening: Promise<Connection> = openStreamConnection({ ...destination, protocol }, local, this, {
      tls: this.tls,
      timeoutMs: this.connectTimeoutMs,
    })
      .then((conn) => {
        if (!this.started) {
          conn.close();
          throw new PeerUnreachableError('transport layer stopped while connecting');
        }
        this.register(conn);
        return conn;
      })
      .finally(() => this.connecting.delete(key));
    this.connecting.set(key, opening);
    return opening;
  }

  private sweepIdle(): void {
    const now = Date.now();
    const incompleteMs = this.edge?.incompleteMessageTimeoutMs;
    for (const conn of this.connections.values()) {
      if (now - conn.lastActivity > this.idleTimeoutMs) {
        this.logger?.debug({ connection: conn.id, peer: conn.peer }, 'closing idle connection');
        conn.close(true);
      } else if (
        incompleteMs !== undefined &&
        conn.waitingSince !== undefined &&
        now - conn.waitingSince > incompleteMs
      ) {
        this.logger?.debug(
          { connection: conn.id, peer: conn.peer },
          'closing a connection without a complete message in time',
        );
        conn.close();
      }
    }
  }
}

/**
 * Creates the transport layer for `specs` (not yet listening: call `start()`). See TransportLayer for what
 * it does with every message; `options` carries limits, TLS material, logger and metric hooks.
 */
export function createTransportLayer(
  specs: readonly ListenSpec[],
  options: TransportLayerOptions = {},
): TransportLayer {
  if (specs.length === 0) throw new TransportError('at least one listen spec is needed');
  return new SipTransportLayer(specs, options);
}
