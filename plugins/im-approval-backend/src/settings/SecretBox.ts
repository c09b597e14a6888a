import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretsKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/** A secret as stored: the id of the key that encrypted it, beside the AES-256-GCM output (base64). */
export interface EncryptedSecret {
  keyId: string;
  iv: string;
  authTag: string;
  ciphertext: string;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;

/**
 * Encrypts secrets with the current key (the first) and decrypts with whichever configured key a
 * secret names, so keys can be rotated. The associated data binds a ciphertext to where it is
 * stored (integration and field): moved elsewhere, it no longer decrypts.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;

  constructor(keys: SecretsKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== 32)
        throw new Error(
          `Secrets key "${id}" must be 32 bytes, not ${key.length}`,
        );
    }
    this.keys = new Map(keys.map(({ id, key }) => [id, key]));
    this.currentKeyId = keys[0].id;
  }

  readonly currentKeyId: string;

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  encrypt(plaintext: string, associatedData: string): EncryptedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(
      ALGORITHM,
      this.keys.get(this.currentKeyId)!,
      iv,
    );
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
    ]);
    return {
      keyId: this.currentKeyId,
      iv: iv.toString('base64'),
      authTag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  /** Throws when the key is not configured or the secret (or where it is stored) was changed. */
  decrypt(secret: EncryptedSecret, associatedData: string): string {
    const key = this.keys.get(secret.keyId);
    if (!key) {
      throw new Error(
        `the secret was encrypted with key "${secret.keyId}", which imApproval.secretsKeys does not list`,
      );
    }
    try {
      const decipher = createDecipheriv(
        ALGORITHM,
        key,
        Buffer.from(secret.iv, 'base64'),
      );
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(secret.authTag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(secret.ciphertext, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new Error(
        `the secret does not decrypt with key "${secret.keyId}": it was altered, or the key is not the one it was encrypted with`,
      );
    }
  }
}
