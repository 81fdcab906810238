import { decryptPassword, type PasswordCipherOptions } from '../crypto.js';
import type { Db } from '../db.js';
import { DbDataError } from '../errors.js';
import type { Client } from '../types.js';

const SELECT_CLIENT = `SELECT client_sid, account_sid, username, password, is_active,
    allow_direct_app_calling, allow_direct_queue_calling, allow_direct_user_calling
  FROM clients WHERE account_sid = ? AND username = ?`;

/**
 * The SIP client (`clients` row) `username` of an account, with its password decrypted the jambonz
 * way (see `decryptPassword`). Inactive clients are returned too (check `is_active`). When several
 * rows match, the first one is used, as jambonz does. Rejects with DbDataError when the stored
 * password cannot be decrypted with these options.
 */
export async function lookupClientByAccountAndUsername(
  db: Db,
  accountSid: string,
  username: string,
  cipher: PasswordCipherOptions,
): Promise<Client | undefined> {
  const rows = await db.cachedSelect<Client>(SELECT_CLIENT, [accountSid, username]);
  const row = rows[0];
  if (!row) return undefined;
  if (row.password === null || row.password === '') return { ...row, password: null };
  try {
    return { ...row, password: decryptPassword(row.password, cipher) };
  } catch (err) {
    throw new DbDataError(`clients ${row.client_sid}: password: ${(err as Error).message}`, { cause: err });
  }
}
