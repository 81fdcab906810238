import { ConfigError } from './errors.js';

/** The parts of `process` that `exitOnConfigError` uses (inject a fake in tests). */
export interface ExitTarget {
  readonly stderr: { write(text: string): unknown };
  exit(code: number): never | void;
}

/**
 * For an app's entry point: returns what `load` returns, or, when it throws a `ConfigError`, writes the
 * error's lines to stderr and exits with status 1. Other errors are rethrown.
 *
 * ```ts
 * const config = exitOnConfigError(() => loadConfig(schema, process.env));
 * ```
 */
export function exitOnConfigError<T>(load: () => T, target: ExitTarget = process): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    target.stderr.write(`${err.message}\n`);
    target.exit(1);
    // Only reached with an injected target whose exit returns.
    throw err;
  }
}
