import { randomUUID } from 'node:crypto';
import type { Db } from '../db.js';
import { DbQueryError } from '../errors.js';
import type { SbcAddress } from '../types.js';

export interface SbcAddressInput {
  ipv4: string;
  /** SIP port (default 5060). */
  port?: number;
  tls_port?: number | null;
  wss_port?: number | null;
  service_provider_sid?: string | null;
}

/** Lock conflicts between SBCs registering the same address at the same moment: try again. */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_DUP_ENTRY']);

/**
 * Records (or refreshes) this SBC's public address: updates tls_port, wss_port and last_updated of
 * the rows with this ipv4 and port, or inserts one. jambonz relies on ON DUPLICATE KEY with a
 * unique (ipv4, port) key that its own schema lacks; this works with or without that key.
 */
export async function addSbcAddress(db: Db, input: SbcAddressInput): Promise<void> {
  const port = input.port ?? 5060;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.transaction(async (tx) => {
        const existing = await tx.select<{ sbc_address_sid: string }>(
          'SELECT sbc_address_sid FROM sbc_addresses WHERE ipv4 = ? AND port = ? FOR UPDATE',
          [input.ipv4, port],
        );
        if (existing.length > 0) {
          await tx.execute(
            'UPDATE sbc_addresses SET tls_port = ?, wss_port = ?, last_updated = NOW() WHERE ipv4 = ? AND port = ?',
            [input.tls_port ?? null, input.wss_port ?? null, input.ipv4, port],
          );
          return;
        }
        await tx.execute(
          `INSERT INTO sbc_addresses (sbc_address_sid, ipv4, port, tls_port, wss_port, service_provider_sid, last_updated)
           VALUES (?, ?, ?, ?, ?, ?, NOW())`,
          [
            randomUUID(),
            input.ipv4,
            port,
            input.tls_port ?? null,
            input.wss_port ?? null,
            input.service_provider_sid ?? null,
          ],
        );
      });
      return;
    } catch (err) {
      const retry =
        err instanceof DbQueryError && err.code !== undefined && RETRYABLE.has(err.code) && attempt < 5;
      if (!retry) throw err;
    }
  }
}

/** Deletes addresses not refreshed for `deadSeconds` (DEAD_SBC_IN_SECOND, default 3600) or never; returns how many. */
export async function cleanSbcAddresses(db: Db, deadSeconds = 3600): Promise<number> {
  const result = await db.execute(
    'DELETE FROM sbc_addresses WHERE last_updated IS NULL OR last_updated < NOW() - INTERVAL ? SECOND',
    [deadSeconds],
  );
  return result.affectedRows;
}

/** Every SBC address, ordered by ipv4 and port (not cached: it changes under our feet). */
export async function listSbcAddresses(db: Db): Promise<SbcAddress[]> {
  return db.select<SbcAddress>(
    `SELECT sbc_address_sid, ipv4, port, tls_port, wss_port, service_provider_sid, last_updated
       FROM sbc_addresses ORDER BY ipv4, port, sbc_address_sid`,
  );
}
