import { createDecipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DbDataError, decryptPassword, encryptPassword } from '../src/index.js';

/*
 * Reference values made with OpenSSL (an implementation independent of ours), following jambonz's
 * recipe: key = first 32 characters of base64(sha256(secret)), used as text.
 *   K=$(printf %s 'jambonz-test-secret' | openssl dgst -sha256 -binary | base64 | cut -c1-32)
 *   printf %s 'p@ss word 1234' | openssl enc -aes-256-cbc -K $(printf %s "$K" | xxd -p -c 256) \
 *     -iv 000102030405060708090a0b0c0d0e0f -nosalt | xxd -p -c 256        (and -aes-256-ctr)
 */
const SECRET = 'jambonz-test-secret';
const IV = '000102030405060708090a0b0c0d0e0f';
const PLAIN = 'p@ss word 1234';
const CBC = JSON.stringify({ iv: IV, content: 'e0402a5193418fce95145e22221c8e16' });
const CTR = JSON.stringify({ iv: IV, content: '5c312152b7aae24081551308053d' });

describe('client password encryption (jambonz format)', () => {
  it('decrypts a value encrypted the jambonz way (AES-256-CBC)', () => {
    expect(decryptPassword(CBC, { encryptionSecret: SECRET })).toBe(PLAIN);
  });

  it('decrypts a LEGACY_CRYPTO value (AES-256-CTR) when told to', () => {
    expect(decryptPassword(CTR, { encryptionSecret: SECRET, legacyCrypto: true })).toBe(PLAIN);
  });

  it('round-trips with a fresh IV each time, in both modes', () => {
    for (const legacyCrypto of [false, true]) {
      const options = { encryptionSecret: 'another secret', legacyCrypto };
      const a = encryptPassword('hunter2 ünïcode', options);
      const b = encryptPassword('hunter2 ünïcode', options);
      expect(a).not.toBe(b);
      expect(Object.keys(JSON.parse(a) as object)).toEqual(['iv', 'content']);
      expect(decryptPassword(a, options)).toBe('hunter2 ünïcode');
      expect(decryptPassword(b, options)).toBe('hunter2 ünïcode');
    }
  });

  it('rejects a wrong secret, a non-legacy read of CBC data, and malformed values with DbDataError', () => {
    expect(() => decryptPassword(CBC, { encryptionSecret: 'wrong' })).toThrow(DbDataError);
    expect(() => decryptPassword('plain', { encryptionSecret: SECRET })).toThrow(/not JSON/);
    expect(() => decryptPassword('{"iv":"00","content":"ab"}', { encryptionSecret: SECRET })).toThrow(
      DbDataError,
    );
    expect(() => decryptPassword('null', { encryptionSecret: SECRET })).toThrow(DbDataError);
    expect(() => decryptPassword(CBC, { encryptionSecret: '' })).toThrow(/encryptionSecret is empty/);
    expect(() => encryptPassword('x', { encryptionSecret: '' })).toThrow(DbDataError);
  });

  it('rejects a wrong secret even when its last block happens to unpad (about 1 in 256 values)', () => {
    // Values encrypted with another secret until one decrypts under ours without a padding error.
    const key = Buffer.from(createHash('sha256').update(SECRET).digest('base64').slice(0, 32), 'utf8');
    let unpadded: string | undefined;
    for (let i = 0; i < 20_000 && !unpadded; i++) {
      const stored = encryptPassword(PLAIN, { encryptionSecret: 'another secret' });
      const { iv, content } = JSON.parse(stored) as { iv: string; content: string };
      try {
        const decipher = createDecipheriv('aes-256-cbc', key, Buffer.from(iv, 'hex'));
        decipher.update(Buffer.from(content, 'hex'));
        decipher.final();
        unpadded = stored;
      } catch {
        // a bad padding block: the common case
      }
    }
    expect(unpadded).toBeDefined();
    expect(() => decryptPassword(unpadded!, { encryptionSecret: SECRET })).toThrow(DbDataError);
  });
});
