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

/**
 * A reader of the webhook whose columns are `<prefix>webhook_sid`, `<prefix>url`, … in a joined row
 * (undefined when no webhook or no URL). Column names are built once, not per row.
 */
export function webhookReader(prefix: string): (row: Record<string, unknown>) => Webhook | undefined {
  const column = (name: keyof Webhook) => `${prefix}${name}`;
  const [sidKey, urlKey, methodKey, usernameKey, passwordKey] = [
    column('webhook_sid'),
    column('url'),
    column('method'),
    column('username'),
    column('password'),
  ] as const;
  return (row) => {
    const url = row[urlKey];
    const sid = row[sidKey];
    if (typeof url !== 'string' || url === '' || typeof sid !== 'string') return undefined;
    return {
      webhook_sid: sid,
      url,
      method: row[methodKey] === 'GET' ? 'GET' : 'POST',
      username: (row[usernameKey] as string | null | undefined) ?? null,
      password: (row[passwordKey] as string | null | undefined) ?? null,
    };
  };
}

/** The `names` columns of a joined row, in that order: the main table's part of it. */
export function pick<T>(row: Record<string, unknown>, names: readonly (keyof T & string)[]): T {
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = row[name];
  return out as T;
}
