import type { AppConnection } from './app-connection.js';

/**
 * Which authenticated app connections take new requests of which method (PROTOCOL.md §2.2): a set of
 * verbs per connection (srf re-sends routes, duplicates are normal), round-robin per verb.
 */
export class AppRegistry {
  private readonly connections = new Set<AppConnection>();
  private readonly cursor = new Map<string, number>();

  add(conn: AppConnection): void {
    this.connections.add(conn);
  }

  remove(conn: AppConnection): void {
    this.connections.delete(conn);
  }

  get size(): number {
    return this.connections.size;
  }

  all(): AppConnection[] {
    return [...this.connections];
  }

  /** The next connection registered for `method` (case-insensitive), optionally carrying `tag`. */
  select(method: string, tag?: string): AppConnection | undefined {
    const verb = method.toLowerCase();
    const candidates: AppConnection[] = [];
    for (const conn of this.connections) {
      if (conn.isOpen && conn.authenticated && conn.verbs.has(verb) && (!tag || conn.tags.includes(tag))) {
        candidates.push(conn);
      }
    }
    if (candidates.length === 0) return undefined;
    const next = (this.cursor.get(verb) ?? 0) % candidates.length;
    this.cursor.set(verb, next + 1);
    return candidates[next];
  }
}
