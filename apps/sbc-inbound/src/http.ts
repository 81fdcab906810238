/**
 * jambonz sbc-inbound's own HTTP endpoints, kept so existing K8S pre-stop hooks and liveness probes
 * work unchanged (reference §2.12): `GET /` → `{"calls": N}`; `GET /system-health` → the same after
 * a Redis and a MySQL ping, HTTP 480 when either fails.
 */
import type { HealthServer } from '@sbc/service';

export function addJambonzRoutes(
  health: HealthServer,
  deps: { calls: () => number; ping: readonly (() => Promise<unknown>)[]; timeoutMs?: number },
): void {
  const timeoutMs = deps.timeoutMs ?? 2000;
  health.app.get('/', () => Promise.resolve({ calls: deps.calls() }));
  health.app.get('/system-health', async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(deps.ping.map((ping) => ping())), timeout]);
      return { calls: deps.calls() };
    } catch (err) {
      return reply
        .code(480)
        .send({ calls: deps.calls(), error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  });
}
