import type { DigestCredentials } from './digest-credentials.js';
import { verifyDigestResponse } from './digest-response.js';
import type { AuthGrant } from './hook-answer.js';

/**
 * A `clients` row (jambonz schema) with its password already decrypted (@sbc/db decrypts the
 * stored `{iv, content}` JSON). TINYINT flags may come as 0/1 or booleans.
 */
export interface ClientRow {
  client_sid?: string;
  account_sid?: string;
  username: string | null;
  /** The decrypted password. */
  password: string | null;
  is_active: boolean | number;
  allow_direct_app_calling?: boolean | number | null;
  allow_direct_queue_calling?: boolean | number | null;
  allow_direct_user_calling?: boolean | number | null;
}

export type LocalCredentialsResult =
  | { kind: 'ok'; grant: AuthGrant; client: ClientRow }
  | { kind: 'fail'; reason: 'unknown-user' | 'inactive-client' | 'invalid-password' };

/**
 * Verifies digest credentials against a `clients` row (accounts without a registration hook).
 * The grant carries the row's allow_direct_* flags. Every algorithm we implement works here,
 * not only MD5.
 */
export function verifyClientCredentials(
  client: ClientRow | null | undefined,
  credentials: DigestCredentials,
  request: { method: string },
): LocalCredentialsResult {
  if (!client || client.username !== credentials.username) return { kind: 'fail', reason: 'unknown-user' };
  if (!client.is_active) return { kind: 'fail', reason: 'inactive-client' };
  if (
    client.password === null ||
    !verifyDigestResponse(credentials, { method: request.method, password: client.password })
  ) {
    return { kind: 'fail', reason: 'invalid-password' };
  }
  const grant: AuthGrant = {};
  for (const flag of [
    'allow_direct_app_calling',
    'allow_direct_queue_calling',
    'allow_direct_user_calling',
  ] as const) {
    const value = client[flag];
    if (value !== undefined && value !== null) grant[flag] = Boolean(value);
  }
  return { kind: 'ok', grant, client };
}
