/**
 * Step 5: which feature servers may take the call, in the order to try them (reference §2.6).
 * `<cluster>:active-fs` minus `<cluster>:drained-fs` (jambonz leaves draining to sbc-options; we
 * also skip drained servers here, so a drain takes effect on the next call, not the next OPTIONS),
 * JAMBONES_FEATURE_SERVERS, or the K8S service. Round robin across calls.
 */
import type { ServerSets } from '@sbc/redis';
import { InboundAnswer } from './answers.js';

/** 480: no feature server is available (jambonz's answer). */
export class NoFeatureServerError extends InboundAnswer {
  override readonly name = 'NoFeatureServerError';
  readonly status = 480;
  readonly outcome = 'unavailable';
  readonly reason = 'no_feature_server';
}

export type FeatureServerSource =
  | { kind: 'static'; servers: readonly string[] }
  | { kind: 'k8s'; serviceName: string; transport: 'udp' | 'tcp' | undefined }
  | { kind: 'redis'; sets: ServerSets };

export class FeatureServerSelector {
  private next = 0;

  constructor(private readonly source: FeatureServerSource) {}

  /**
   * The servers to try, the round-robin choice first (`host:port` or a K8S service with
   * `;transport=`). Rejects with NoFeatureServerError when there is none; a Redis failure rejects
   * with that error (the caller maps it).
   */
  async candidates(): Promise<string[]> {
    const servers = await this.list();
    if (servers.length === 0) throw new NoFeatureServerError('no feature server is available');
    const start = this.next++ % servers.length;
    return [...servers.slice(start), ...servers.slice(0, start)];
  }

  private async list(): Promise<string[]> {
    switch (this.source.kind) {
      case 'static':
        return [...this.source.servers];
      case 'k8s': {
        const { serviceName, transport } = this.source;
        return [transport ? `${serviceName};transport=${transport}` : serviceName];
      }
      case 'redis':
        // Sorted: every SBC walks the same order, so round robin spreads calls evenly.
        return (await this.source.sets.availableFeatureServers()).sort();
    }
  }
}

/**
 * Where the INVITE goes (reference §2.6): with an IP in the caller's Request-URI the host becomes
 * the feature server; with a domain, the Request-URI keeps it and the INVITE is sent through the
 * feature server as a proxy.
 */
export function featureServerTarget(
  requestUri: { user: string | undefined; host: string; hostIsIp: boolean },
  featureServer: string,
): { uri: string; proxy?: string } {
  const user = requestUri.user ? `${requestUri.user}@` : '';
  const [hostport, ...params] = featureServer.split(';');
  const suffix = params.length > 0 ? `;${params.join(';')}` : '';
  if (requestUri.hostIsIp) return { uri: `sip:${user}${hostport}${suffix}` };
  const host = requestUri.host.includes(':') ? `[${requestUri.host}]` : requestUri.host;
  return { uri: `sip:${user}${host}`, proxy: `sip:${hostport}${suffix}` };
}
