import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DbDataError } from './errors.js';

/**
 * How jambonz encrypts `clients.password` (and other secrets): AES-256 with a key made from
 * ENCRYPTION_SECRET (jambonz falls back to JWT_SECRET when it is unset; the app decides which one
 * to pass), stored as JSON `{"iv": "<hex>", "content": "<hex>"}`.
 */
export interface PasswordCipherOptions {
  /** ENCRYPTION_SECRET (or JWT_SECRET when that is what the platform used). */
  encryptionSecret: string;
  /** LEGACY_CRYPTO: data written by old jambonz versions uses AES-256-CTR instead of AES-256-CBC. */
  legacyCrypto?: boolean;
}

/** A process uses one secret: its key is derived once (a SHA-256 per decrypted password otherwise). */
let lastKey: { secret: string | undefined; key: Buffer } = { secret: undefined, key: Buffer.alloc(0) };

/**
 * The key is the first 32 characters of the base64 SHA-256 of the secret, used as 32 bytes of
 * text: the base64 string itself is the key, it is never decoded.
 */
function keyFor(secret: string): Buffer {
  if (secret === lastKey.secret) return lastKey.key;
  const base64 = createHash('sha256').update(secret).digest('base64');
  lastKey = { secret, key: Buffer.from(base64.slice(0, 32), 'utf8') };
  return lastKey.key;
}

function algorithmFor(options: PasswordCipherOptions): 'aes-256-ctr' | 'aes-256-cbc' {
  return options.legacyCrypto ? 'aes-256-ctr' : 'aes-256-cbc';
}

function checkSecret(options: PasswordCipherOptions): void {
  if (!options.encryptionSecret) throw new DbDataError('encryptionSecret is empty');
}

/** Encrypts a password the way jambonz stores it; a fresh random IV each time. */
export function encryptPassword(plain: string, options: PasswordCipherOptions): string {
  checkSecret(options);
  const iv = randomBytes(16);
  const cipher = createCipheriv(algorithmFor(options), keyFor(options.encryptionSecret), iv);
  const content = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return JSON.stringify({ iv: iv.toString('hex'), content: content.toString('hex') });
}

const HEX = /^(?:[0-9a-f]{2})*$/i;

/** Decrypts a value written by jambonz (or by `encryptPassword`); DbDataError when it cannot. */
export function decryptPassword(stored: string, options: PasswordCipherOptions): string {
  checkSecret(options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch (err) {
    throw new DbDataError('encrypted value is not JSON', { cause: err });
  }
  const { iv, content } = (parsed ?? {}) as { iv?: unknown; content?: unknown };
  if (
    typeof iv !== 'string' ||
    typeof content !== 'string' ||
    iv.length !== 32 ||
    !HEX.test(iv) ||
    !HEX.test(content)
  ) {
    throw new DbDataError('encrypted value is not {"iv": <32 hex digits>, "content": <hex>}');
  }
  try {
    const decipher = createDecipheriv(
      algorithmFor(options),
      keyFor(options.encryptionSecret),
      Buffer.from(iv, 'hex'),
    );
    const plain = Buffer.concat([decipher.update(Buffer.from(content, 'hex')), decipher.final()]);
    // CBC with the wrong key still ends in a valid padding block about once in 256 (and CTR never
    // checks anything): what comes out is then random bytes, which a stored secret never is.
    const text = STRICT_UTF8.decode(plain);
    if (CONTROL_CHARACTER.test(text)) throw new Error('control characters in the decrypted value');
    return text;
  } catch (err) {
    // CBC with the wrong key (or CTR data read as CBC) mostly ends in a bad padding block.
    throw new DbDataError('cannot decrypt value (wrong encryption secret or legacy setting?)', {
      cause: err,
    });
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
