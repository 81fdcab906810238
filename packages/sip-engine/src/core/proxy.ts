/**
 * Stateful proxying for `srf.proxyRequest` (PROTOCOL.md §3.5, RFC 3261 §16): the request an app was
 * given goes on to one target after the other (serial) or to all at once (simultaneous), each a client
 * transaction of its own; provisionals and every 2xx go back to the caller at once, the best final
 * response when no target answered 2xx (§16.7). With `recordRoute` the engine stays in the dialog and
 * relays its later requests; with `followRedirects` the Contacts of a 3xx become further targets.
 */
import {
  responseTo,
  serializeMessage,
  tryParseNameAddr,
  type SipHeadersContract,
  type SipRequest,
  type SipResponse,
} from '@sbc/sip';
import type { AppConnection } from '../control/app-connection.js';
import { stackTime } from '../control/wire.js';
import type { ClientTransaction, ServerTransaction } from '../transaction/types.js';
import type { Inbound, LocalEndpoint, Peer } from '../transport/types.js';
import { dropServerOwnedHeaders } from './app-message.js';
import { cancelOf, IGNORE_RESPONSES } from './cancel-request.js';
import { clearPendingTimer, hostOf, type EngineContext, type NetTxn } from './context.js';
import { destinationOf } from './destination.js';

/** The `proxy` command's options (PROTOCOL.md §3.5). */
export interface ProxyOptions {
  recordRoute: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  /** Give up on a target that sent no provisional within this long. */
  provisionalTimeoutMs: number | undefined;
  /** Give up on a target that sent no final response within this long. */
  finalTimeoutMs: number | undefined;
  targets: string[];
  /** Headers the app asked to add to the forwarded request. */
  headers: SipHeadersContract | undefined;
}

/** `2s`, `1500ms`, or a number of seconds; undefined when empty or unreadable. */
export function parseProxyTimeout(text: string | undefined): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/i.exec(text ?? '');
  if (!match) return undefined;
  const value = Number(match[1]);
  return match[2]?.toLowerCase() === 'ms' ? value : value * 1000;
}

/** The `proxy` command's tokens (after id and command): txnId, rr, full, follow, fork, timeouts, targets. */
export function parseProxyTokens(tokens: readonly string[]): { txnId: string; options: ProxyOptions } {
  const [, , txnId = '', rr = '', , follow = '', fork = '', provisional, final, ...targets] = tokens;
  return {
    txnId,
    options: {
      recordRoute: rr === 'remainInDialog',
      followRedirects: follow === 'followRedirects',
      simultaneous: fork === 'simultaneous',
      provisionalTimeoutMs: parseProxyTimeout(provisional),
      finalTimeoutMs: parseProxyTimeout(final),
      targets: targets.filter((t) => t !== ''),
      headers: undefined,
    },
  };
}

/** `<sip:host:port;transport=…;lr>` of a listener: the Record-Route we add, and the Route that comes back. */
function recordRouteFor(endpoint: LocalEndpoint): string {
  const transport = endpoint.protocol === 'udp' ? '' : `;transport=${endpoint.protocol}`;
  return `<sip:${hostOf(endpoint.advertisedAddress)}:${endpoint.port}${transport};lr>`;
}

/**
 * A response on its way upstream: our Via (the top one) removed (RFC 3261 §16.7 step 3), which leaves
 * the Vias of the request we received; they are taken from that request, so that a downstream that
 * answered with the wrong Vias (a CANCEL's, say) still gets its response to the caller.
 */
function upstream(response: SipResponse, received: SipRequest): SipResponse {
  const headers = response.headers.clone();
  headers.remove('via');
  for (const via of received.headers.getAll('via').reverse()) headers.prepend('Via', via);
  return { ...response, headers };
}

/** RFC 3261 §16.6 step 3: one hop less, or 70 when the request had no (readable) Max-Forwards. */
function decrementMaxForwards(headers: SipHeadersContract): void {
  const value = Number(headers.get('max-forwards') ?? '71');
  headers.set('Max-Forwards', String(Number.isInteger(value) && value > 0 ? value - 1 : 70));
}

/** RFC 3261 §16.7 step 6: a 6xx first, else the lowest class (4xx before 5xx), 408 when there is none. */
function better(a: SipResponse | undefined, b: SipResponse): SipResponse {
  if (!a) return b;
  const rank = (r: SipResponse): number => (r.status >= 600 ? 0 : r.status >= 400 ? r.status / 100 : 9);
  return rank(b) < rank(a) ? b : a;
}

interface Branch {
  target: string;
  ct: ClientTransaction | undefined;
  destination: Peer | undefined;
  provisional: boolean;
  /** The target sent its final response. */
  finalReceived: boolean;
  /** The proxy no longer waits for this branch (final response, failure or timeout). */
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  /** A CANCEL waits for the branch's first provisional (RFC 3261 §9.1). */
  cancelWhenProvisional: boolean;
  cancelSent: boolean;
}

/** One proxied request: its targets, branches, best response and the app waiting for the outcome. */
class ProxyRun {
  private readonly queue: string[];
  private readonly branches = new Set<Branch>();
  private readonly tried = new Set<string>();
  private best: SipResponse | undefined;
  private answered = false;
  private canceled = false;
  private done = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly net: NetTxn,
    private readonly options: ProxyOptions,
    private readonly conn: AppConnection,
    private readonly msgId: string,
  ) {
    this.queue = [...options.targets];
  }

  start(): void {
    this.next();
  }

  /** A CANCEL from the caller (RFC 3261 §16.10): no more targets, CANCEL to every pending branch. */
  cancel(): void {
    this.canceled = true;
    this.queue.length = 0;
    for (const branch of this.branches) this.cancelBranch(branch);
    this.maybeFinish();
  }

  /** Starts the next target (serial) or every remaining one (simultaneous), or finishes. */
  private next(): void {
    if (!this.answered && !this.canceled) {
      const count = this.options.simultaneous ? this.queue.length : this.branches.size === 0 ? 1 : 0;
      for (const target of this.queue.splice(0, count)) void this.startBranch(target);
    }
    this.maybeFinish();
  }

  private async startBranch(target: string): Promise<void> {
    this.tried.add(target);
    const branch: Branch = {
      target,
      ct: undefined,
      destination: undefined,
      provisional: false,
      finalReceived: false,
      settled: false,
      timer: undefined,
      cancelWhenProvisional: false,
      cancelSent: false,
    };
    this.branches.add(branch);
    const request = this.forwardedRequest(target);
    const route = request.headers.getAll('route')[0];
    branch.destination = await destinationOf(route ?? target);
    if (!branch.destination) {
      this.endBranch(branch, responseTo(request, 400, 'Unroutable Target'));
      return;
    }
    this.armTimer(branch, this.options.provisionalTimeoutMs ?? this.options.finalTimeoutMs);
    try {
      branch.ct = await this.ctx.transactions.sendRequest(request, branch.destination, {
        onResponse: (inbound) => this.onResponse(branch, inbound),
        onTimeout: () => this.endBranch(branch, responseTo(request, 408)),
        onTransportError: () => this.endBranch(branch, responseTo(request, 503)),
      });
    } catch {
      this.endBranch(branch, responseTo(request, 503));
      return;
    }
    if (this.canceled || this.answered || branch.settled) this.cancelBranch(branch);
  }

  /** RFC 3261 §16.6: the request for one target. */
  private forwardedRequest(target: string): SipRequest {
    const original = this.net.st.request.message;
    const headers = original.headers.clone();
    decrementMaxForwards(headers);
    // §16.4: a Route naming us was for us
    const routes = headers.getAll('route');
    if (routes[0] && isOwnRoute(this.ctx, routes[0])) {
      headers.remove('route');
      for (const route of routes.slice(1)) headers.append('Route', route);
    }
    if (this.options.recordRoute) {
      // §16.6 step 4: ours before any other Record-Route value
      const recordRoutes = headers.getAll('record-route');
      headers.remove('record-route');
      headers.append('Record-Route', recordRouteFor(this.net.st.request.local));
      for (const rr of recordRoutes) headers.append('Record-Route', rr);
    }
    const extra = this.options.headers;
    if (extra) for (const field of extra.fields()) headers.set(field.name, field.value);
    return { kind: 'request', method: original.method, uri: target, headers, body: original.body };
  }

  private onResponse(branch: Branch, inbound: Inbound<SipResponse>): void {
    const response = inbound.message;
    const status = response.status;
    if (status < 200) {
      if (!branch.provisional) {
        branch.provisional = true;
        if (!branch.settled) this.armTimer(branch, this.options.finalTimeoutMs);
        if (branch.cancelWhenProvisional) this.cancelBranch(branch);
      }
      // §16.7 step 5: provisionals other than 100 go upstream at once
      if (status > 100 && !branch.settled && !this.answered && !this.done)
        this.send(upstream(response, this.net.st.request.message));
      return;
    }
    branch.finalReceived = true;
    if (status < 300) {
      if (this.answered) {
        // RFC 6026 §7.2: a 2xx after the first (a retransmission, another fork) goes upstream statelessly
        this.ctx.transport
          .sendResponse(upstream(response, this.net.st.request.message), this.net.st.request.connectionId)
          .catch(() => undefined);
        return;
      }
      if (branch.settled || this.done) return;
      this.report(inbound);
      this.settle(branch);
      // §16.7 steps 9 and 10: the 2xx goes upstream, every other branch is canceled
      this.answered = true;
      this.send(upstream(response, this.net.st.request.message));
      for (const other of this.branches) this.cancelBranch(other);
      this.maybeFinish();
      return;
    }
    if (branch.settled) return;
    if (!this.answered) this.report(inbound);
    if (status < 400 && this.options.followRedirects && !this.canceled) {
      // §16.5: the Contacts of a redirect become targets (each once)
      for (const contact of response.headers.getAll('contact')) {
        const uri = tryParseNameAddr(contact)?.uri;
        if (uri && !this.tried.has(uri) && !this.queue.includes(uri)) this.queue.push(uri);
      }
    }
    this.endBranch(branch, response);
  }

  private settle(branch: Branch): void {
    branch.settled = true;
    this.clearTimer(branch);
    this.branches.delete(branch);
  }

  private endBranch(branch: Branch, response: SipResponse): void {
    if (branch.settled) return;
    this.settle(branch);
    this.best = better(this.best, response);
    this.next();
  }

  /** No target left and none pending: the best response goes upstream (§16.7 step 6). */
  private maybeFinish(): void {
    if (this.done || this.branches.size > 0 || (this.queue.length > 0 && !this.canceled && !this.answered)) {
      return;
    }
    this.done = true;
    if (!this.answered) {
      const request = this.net.st.request.message;
      const final = this.canceled ? responseTo(request, 487) : this.best;
      this.send(final ? upstream(final, request) : responseTo(request, 408));
    }
    this.ctx.netTxns.delete(this.net.id);
    this.net.proxy = undefined;
    this.conn.reply(this.msgId, ['OK', 'done']);
  }

  /** Answers the caller through the server transaction. */
  private send(response: SipResponse): void {
    if (response.status >= 200) this.net.finalSent = true;
    this.net.st.respond(response).catch(() => undefined);
  }

  /** Tells the app a target's final response (`continue`: more replies follow). */
  private report(inbound: Inbound<SipResponse>): void {
    if (!this.conn.isOpen) return;
    const raw = serializeMessage(inbound.message);
    const source = inbound.source;
    this.conn.reply(
      this.msgId,
      [
        'OK',
        'network',
        String(raw.length),
        source.protocol,
        source.address,
        String(source.port),
        stackTime(),
      ].concat(['', '', 'continue']),
      raw.toString('utf8'),
    );
  }

  private cancelBranch(branch: Branch): void {
    // only an INVITE is worth canceling, and only until its final response
    if (branch.finalReceived || branch.cancelSent || this.net.st.method !== 'INVITE') return;
    const ct = branch.ct;
    if (!ct || !branch.provisional || !branch.destination) {
      branch.cancelWhenProvisional = true;
      return;
    }
    branch.cancelSent = true;
    this.ctx.transactions
      .sendRequest(cancelOf(ct.request), branch.destination, IGNORE_RESPONSES, { branch: ct.id })
      .catch(() => undefined);
  }

  /** A target that stays silent too long is given up: CANCEL (once it can be sent) and the next target. */
  private armTimer(branch: Branch, ms: number | undefined): void {
    this.clearTimer(branch);
    if (ms === undefined) return;
    branch.timer = setTimeout(() => {
      this.cancelBranch(branch);
      this.endBranch(branch, responseTo(this.net.st.request.message, 408));
    }, ms).unref();
  }

  private clearTimer(branch: Branch): void {
    if (branch.timer) clearTimeout(branch.timer);
    branch.timer = undefined;
  }
}

/** True when a Route header value names one of our listeners. */
function isOwnRoute(ctx: EngineContext, route: string): boolean {
  const uri = tryParseNameAddr(route)?.uri ?? route;
  const match = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(uri.trim());
  if (!match) return false;
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = match[2] ? Number(match[2]) : undefined;
  return ctx.transport.endpoints.some(
    (e) =>
      (e.advertisedAddress === host || e.address === host) &&
      (port === undefined ? e.port === 5060 || e.port === 5061 : e.port === port),
  );
}

/** The `proxy` command and the requests that come back through a Record-Route we added. */
export class StatefulProxy {
  constructor(private readonly ctx: EngineContext) {}

  /** PROTOCOL.md §3.5: proxy the request the app was given. */
  start(
    conn: AppConnection,
    msgId: string,
    tokens: readonly string[],
    headers: SipHeadersContract | undefined,
  ): void {
    const { txnId, options } = parseProxyTokens(tokens);
    const net = this.ctx.netTxns.get(txnId);
    if (!net || net.finalSent || net.canceled || net.proxy) {
      conn.reply(msgId, ['NOK', `Unknown transaction id: ${txnId}`]);
      return;
    }
    const request = net.st.request.message;
    if (request.headers.get('max-forwards')?.trim() === '0') {
      net.finalSent = true;
      net.st.respond(responseTo(request, 483)).catch(() => undefined);
      this.ctx.netTxns.delete(net.id);
      conn.reply(msgId, ['NOK', 'Rejected with 483 Too Many Hops due to Max-Forwards value of 0']);
      return;
    }
    if (options.targets.length === 0) {
      net.finalSent = true;
      net.st.respond(responseTo(request, 500)).catch(() => undefined);
      this.ctx.netTxns.delete(net.id);
      conn.reply(msgId, ['NOK', 'error proxying request to ']);
      return;
    }
    if (headers) dropServerOwnedHeaders(headers);
    for (const name of ['from', 'to', 'call-id', 'cseq', 'max-forwards']) headers?.remove(name);
    // from here the proxy answers the caller, not the app
    clearPendingTimer(net);
    net.conn = undefined;
    const run = new ProxyRun(this.ctx, net, { ...options, headers }, conn, msgId);
    net.proxy = run;
    run.start();
  }

  /** A request whose top Route is ours: one we Record-Routed (RFC 3261 §16.4). */
  routesThroughUs(request: SipRequest): boolean {
    const top = request.headers.getAll('route')[0];
    return top !== undefined && isOwnRoute(this.ctx, top);
  }

  /** A request in a Record-Routed dialog: our Route removed, on to the next Route or its Request-URI. */
  async relay(st: ServerTransaction): Promise<void> {
    const request = this.nextHopRequest(st.request.message);
    const destination = await destinationOf(request.headers.getAll('route')[0] ?? request.uri);
    if (!destination) {
      st.respond(responseTo(st.request.message, 404, 'Unroutable')).catch(() => undefined);
      return;
    }
    let answered = false;
    const back = (response: SipResponse): void => {
      if (response.status >= 200) {
        if (answered) {
          this.ctx.transport.sendResponse(response, st.request.connectionId).catch(() => undefined);
          return;
        }
        answered = true;
      }
      st.respond(response).catch(() => undefined);
    };
    await this.ctx.transactions
      .sendRequest(request, destination, {
        onResponse: (inbound) => {
          if (inbound.message.status > 100) back(upstream(inbound.message, st.request.message));
        },
        onTimeout: () => back(responseTo(st.request.message, 408)),
        onTransportError: () => back(responseTo(st.request.message, 503)),
      })
      .catch(() => back(responseTo(st.request.message, 503)));
  }

  /** An ACK in a Record-Routed dialog: relayed statelessly (it has no transaction). */
  async relayAck(ack: Inbound<SipRequest>): Promise<void> {
    const request = this.nextHopRequest(ack.message);
    const destination = await destinationOf(request.headers.getAll('route')[0] ?? request.uri);
    if (destination) await this.ctx.transactions.sendStateless(request, destination).catch(() => undefined);
  }

  private nextHopRequest(original: SipRequest): SipRequest {
    const headers = original.headers.clone();
    const routes = headers.getAll('route');
    headers.remove('route');
    for (const route of routes.slice(1)) headers.append('Route', route);
    decrementMaxForwards(headers);
    return { ...original, headers };
  }
}
