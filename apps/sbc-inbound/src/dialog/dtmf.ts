/**
 * DTMF carried in SIP INFO (reference §2.9): `Signal=<digit>` and `Duration=<ms>` lines
 * (`application/dtmf-relay`, and jambonz's `X-Reason: Dtmf` INFO from feature servers), or a bare
 * digit (`application/dtmf`).
 */

/** jambonz's default when the INFO says no `Duration=`. */
export const DEFAULT_DTMF_DURATION_MS = 250;

/** Content types of DTMF INFO from callers. */
export const DTMF_CONTENT_TYPES = ['application/dtmf-relay', 'application/dtmf'] as const;

export interface Dtmf {
  /** `0`–`9`, `*`, `#`, `A`–`D`. */
  code: string;
  durationMs: number;
}

/** `application/dtmf-relay; charset=x` → `application/dtmf-relay`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

export function isDtmfContentType(contentType: string | undefined): boolean {
  return (DTMF_CONTENT_TYPES as readonly string[]).includes(mediaType(contentType));
}

/**
 * The DTMF of an INFO body; undefined when it names no digit (the INFO is answered 400). A body of
 * one bare digit is taken too (`application/dtmf`).
 */
export function parseDtmf(body: string | undefined): Dtmf | undefined {
  const text = body ?? '';
  const signal = /(?:^|\n)\s*Signal\s*=\s*([0-9*#A-Da-d])\s*(?:\r?\n|$)/i.exec(text);
  const bare = /^\s*([0-9*#A-Da-d])\s*$/.exec(text);
  const code = (signal ?? bare)?.[1]?.toUpperCase();
  if (code === undefined) return undefined;
  const duration = /(?:^|\n)\s*Duration\s*=\s*(\d+)\s*(?:\r?\n|$)/i.exec(text)?.[1];
  const durationMs = duration === undefined ? DEFAULT_DTMF_DURATION_MS : Number(duration);
  if (durationMs <= 0 || durationMs > 10_000) return undefined;
  return { code, durationMs };
}

/** The body of an `application/dtmf-relay` INFO carrying `dtmf` (what jambonz's feature servers read). */
export function dtmfRelayBody(dtmf: Dtmf): string {
  return `Signal=${dtmf.code}\r\nDuration=${dtmf.durationMs}\r\n`;
}
