import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

// Feishu/Lark event encryption: AES-256-CBC under SHA-256(encrypt key), the IV prefixed to the
// ciphertext, standard 16-byte PKCS#7, all base64.

/** Callbacks arrive by the thousand under a handful of keys: each key is hashed and imported once. */
const keys = new Map<string, KeyObject>();
const MAX_KEYS = 64;

function keyOf(encryptKey: string): KeyObject {
  let key = keys.get(encryptKey);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = createSecretKey(
      createHash('sha256').update(encryptKey, 'utf8').digest(),
    );
    keys.set(encryptKey, key);
  }
  return key;
}

/** @public */
export function feishuEncrypt(encryptKey: string, plaintext: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv);
  return Buffer.concat([
    iv,
    cipher.update(plaintext, 'utf8'),
    cipher.final(),
  ]).toString('base64');
}

/**
 * Throws when the text was not encrypted under this key (bad padding) or is not base64 of IV‖blocks.
 *
 * @public
 */
export function feishuDecrypt(encryptKey: string, encrypted: string): string {
  const raw = Buffer.from(encrypted, 'base64');
  if (raw.length < 32 || raw.length % 16 !== 0) {
    throw new Error('encrypted payload has an invalid length');
  }
  const decipher = createDecipheriv(
    'aes-256-cbc',
    keyOf(encryptKey),
    raw.subarray(0, 16),
  );
  return Buffer.concat([
    decipher.update(raw.subarray(16)),
    decipher.final(),
  ]).toString('utf8');
}

/**
 * `X-Lark-Signature`: hex SHA-256 over timestamp ‖ nonce ‖ encrypt key ‖ the exact raw body.
 *
 * @public
 */
export function feishuSignature(
  timestamp: string,
  nonce: string,
  encryptKey: string,
  rawBody: Buffer | string,
): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey, 'utf8')
    .update(rawBody)
    .digest('hex');
}

/**
 * The headers Feishu signs a callback with, made now for `rawBody`: what the platform (and the
 * sandbox standing in for it) sends, and what a test sends in its place.
 *
 * @public
 */
export function feishuSignatureHeaders(
  encryptKey: string,
  rawBody: Buffer | string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const nonce = randomBytes(8).toString('hex');
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': feishuSignature(timestamp, nonce, encryptKey, rawBody),
  };
}
