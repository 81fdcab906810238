import { createRequire } from 'node:module';
import type { SipError, Srf } from './types.js';

interface SrfModule {
  new (tags?: string | string[]): Srf;
  SipError: new (status: number, reason?: string) => SipError;
}

// drachtio-srf is CommonJS.
const require = createRequire(import.meta.url);
const SrfClass = require('drachtio-srf') as SrfModule;

/**
 * A real drachtio-srf instance. `tags` (≤ 20, each ≤ 32 of `[A-Za-z0-9-_+@:]`) let a drachtio
 * HTTP router pick this app with `{"action":"route","data":{"tag":…}}`.
 */
export function createSrf(tags?: string | string[]): Srf {
  return new SrfClass(tags);
}

/** srf's `SipError` class (a non-2xx final response), for `instanceof` and for rejecting like srf does. */
export const SipErrorClass: new (status: number, reason?: string) => SipError = SrfClass.SipError;

export function isSipError(err: unknown): err is SipError {
  return err instanceof SrfClass.SipError;
}
