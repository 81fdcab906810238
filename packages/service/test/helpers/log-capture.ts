import type { DestinationStream } from 'pino';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A pino destination that keeps every line, parsed, and lets a test wait for one. */
export class LogCapture implements DestinationStream {
  readonly lines: LogLine[] = [];
  private readonly watchers = new Set<{
    test: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }>();

  write(chunk: string): void {
    for (const text of chunk.split('\n')) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as LogLine;
      this.lines.push(line);
      for (const watcher of this.watchers) {
        if (watcher.test(line)) {
          this.watchers.delete(watcher);
          watcher.resolve(line);
        }
      }
    }
  }

  /** The first line (already written or still to come) that passes `test`. */
  waitFor(test: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.watchers.add({ test, resolve }));
  }

  /** Waits for a line with this exact message. */
  waitForMsg(msg: string): Promise<LogLine> {
    return this.waitFor((line) => line.msg === msg);
  }

  messages(): string[] {
    return this.lines.map((line) => String(line.msg));
  }
}
