import type { Webhook } from './types.js';

/** `alias.col1, alias.col2, …` for a SELECT list (names come from this package, never from input). */
export function columns<T>(alias: string, names: readonly (keyof T & string)[], prefix = ''): string {
  return names.map((name) => `${alias}.${name}${prefix ? ` AS ${prefix}${name}` : ''}`).join(', ');
}

export const WEBHOOK_COLUMNS = [
  'webhook_sid',
  'url',
  'method',
  'username',
  'password',
] as const satisfies readonly (keyof Webhook)[];

/** Picks `<prefix>webhook_sid`, `<prefix>url`, … out of a joined row; undefined when no webhook or no URL. */
export function webhookFrom(row: Record<string, unknown>, prefix: string): Webhook | undefined {
  const url = row[`${prefix}url`];
  const sid = row[`${prefix}webhook_sid`];
  if (typeof url !== 'string' || url === '' || typeof sid !== 'string') return undefined;
  const method = row[`${prefix}method`];
  return {
    webhook_sid: sid,
    url,
    method: method === 'GET' ? 'GET' : 'POST',
    username: (row[`${prefix}username`] as string | null | undefined) ?? null,
    password: (row[`${prefix}password`] as string | null | undefined) ?? null,
  };
}

/** Removes `<prefix>…` keys from a joined row, leaving the main table's columns. */
export function withoutPrefixed<T>(row: Record<string, unknown>, prefixes: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (!prefixes.some((p) => key.startsWith(p))) out[key] = value;
  }
  return out as T;
}
