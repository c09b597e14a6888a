import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { ImCallbackRejectedError } from '../errors';
import { safeEqual } from './safeEqual';

// The callback encryption DingTalk and WeCom share (WeCom's "WXBizMsgCrypt"): AES-256-CBC under
// the decoded EncodingAESKey with its first 16 bytes as IV, a plaintext of
// random(16) ‖ uint32be(length) ‖ message ‖ receiveId, PKCS#7 over 32-byte blocks, and a SHA-1
// signature over the sorted token, timestamp, nonce and ciphertext.

/**
 * The per-app secrets: WeCom's receiveId is the CorpID; DingTalk's is the AppKey (corp or suite key for older registrations).
 *
 * @public
 */
export interface WxBizMsgCryptOptions {
  token: string;
  /** 43 characters of base64 without its trailing "=". */
  encodingAesKey: string;
  receiveId: string;
}

/**
 * What a callback carries in its query (and, for the ciphertext, its body).
 *
 * @public
 */
export interface SignedMessage {
  signature: string;
  timestamp: string;
  nonce: string;
  encrypt: string;
}

const BLOCK = 32;
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const rejected = (reason: string) =>
  new ImCallbackRejectedError(400, `cannot decrypt the callback: ${reason}`);

/** Parses an EncodingAESKey once; throws a message naming what is wrong with it. */
function parseKey(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) {
    throw new Error(
      'the EncodingAESKey must be 43 characters of base64 (A-Z, a-z, 0-9, + and /)',
    );
  }
  return Buffer.from(`${encodingAesKey}=`, 'base64');
}

/**
 * hex SHA-1 over the four values sorted and joined, as both platforms sign callbacks and replies.
 *
 * @public
 */
export function wxBizMsgSignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
): string {
  return createHash('sha1')
    .update([token, timestamp, nonce, encrypt].sort().join(''), 'utf8')
    .digest('hex');
}

/** @public */
export class WxBizMsgCrypt {
  private readonly key: Buffer;
  private readonly iv: Buffer;
  private readonly token: string;
  private readonly receiveId: Buffer;

  constructor(options: WxBizMsgCryptOptions) {
    this.key = parseKey(options.encodingAesKey);
    this.iv = this.key.subarray(0, 16);
    this.token = options.token;
    this.receiveId = Buffer.from(options.receiveId, 'utf8');
  }

  /** base64 ciphertext of the message for this receiveId, padded to 32-byte blocks as the platforms do. */
  encrypt(message: string, random: Buffer = randomBytes(RANDOM_BYTES)): string {
    if (random.length !== RANDOM_BYTES)
      throw new Error(`the random prefix must be ${RANDOM_BYTES} bytes`);
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(body.length);
    const plain = Buffer.concat([random, length, body, this.receiveId]);
    const pad = BLOCK - (plain.length % BLOCK);
    const cipher = createCipheriv(
      'aes-256-cbc',
      this.key,
      this.iv,
    ).setAutoPadding(false);
    return Buffer.concat([
      cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
      cipher.final(),
    ]).toString('base64');
  }

  /**
   * The message inside a ciphertext. Throws ImCallbackRejectedError (400) unless it is well-formed
   * base64 of whole AES blocks, padded with 1..32 bytes (senders pad to 16 or 32), with a length
   * that fits, UTF-8 text and exactly this receiveId after it.
   */
  decrypt(encrypted: string): string {
    const raw = Buffer.from(encrypted, 'base64');
    if (
      raw.length === 0 ||
      raw.length % 16 !== 0 ||
      raw.toString('base64') !== encrypted
    ) {
      throw rejected('the ciphertext is not base64 of whole AES blocks');
    }
    const decipher = createDecipheriv(
      'aes-256-cbc',
      this.key,
      this.iv,
    ).setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(raw), decipher.final()]);
    const pad = padded[padded.length - 1];
    if (
      pad < 1 ||
      pad > BLOCK ||
      pad > padded.length ||
      padded.subarray(padded.length - pad).some(byte => byte !== pad)
    ) {
      throw rejected(
        'the plaintext padding is invalid (wrong key or tampered ciphertext)',
      );
    }
    const plain = padded.subarray(0, padded.length - pad);
    if (plain.length < RANDOM_BYTES + LENGTH_BYTES)
      throw rejected('the plaintext is too short');
    const length = plain.readUInt32BE(RANDOM_BYTES);
    const start = RANDOM_BYTES + LENGTH_BYTES;
    if (length > plain.length - start)
      throw rejected('the message length exceeds the plaintext');
    const receiveId = plain.subarray(start + length);
    if (
      receiveId.length !== this.receiveId.length ||
      !timingSafeEqual(receiveId, this.receiveId)
    ) {
      throw rejected('the message is addressed to another receiveId');
    }
    try {
      return strictUtf8.decode(plain.subarray(start, start + length));
    } catch {
      throw rejected('the message is not UTF-8 text');
    }
  }

  signature(timestamp: string, nonce: string, encrypt: string): string {
    return wxBizMsgSignature(this.token, timestamp, nonce, encrypt);
  }

  /** Constant-time check of a signature against this app's token. */
  verify(message: SignedMessage): boolean {
    return safeEqual(
      this.signature(message.timestamp, message.nonce, message.encrypt),
      message.signature.toLowerCase(),
    );
  }

  /** Verifies, then decrypts: ImCallbackRejectedError 401 for a bad signature, 400 for a bad ciphertext. */
  open(message: SignedMessage): string {
    if (!this.verify(message))
      throw new ImCallbackRejectedError(
        401,
        'the callback signature does not match',
      );
    return this.decrypt(message.encrypt);
  }

  /** Encrypts and signs a message (a callback, or the encrypted reply DingTalk expects). */
  seal(message: string, timestamp: string, nonce: string): SignedMessage {
    const encrypt = this.encrypt(message);
    return {
      signature: this.signature(timestamp, nonce, encrypt),
      timestamp,
      nonce,
      encrypt,
    };
  }
}
