import { randomBytes } from 'node:crypto';
import { SecretBox } from './SecretBox';

const oldKey = { id: 'old', key: randomBytes(32) };
const newKey = { id: 'new', key: randomBytes(32) };

describe('SecretBox', () => {
  it('round-trips a secret, never storing the plaintext, with a fresh IV each time', () => {
    const box = new SecretBox([newKey]);
    const first = box.encrypt('app-secret-ü', 'feishu-main/appSecret');
    const second = box.encrypt('app-secret-ü', 'feishu-main/appSecret');
    expect(first.keyId).toBe('new');
    expect(JSON.stringify(first)).not.toContain('app-secret');
    expect(first.iv).not.toBe(second.iv);
    expect(box.decrypt(first, 'feishu-main/appSecret')).toBe('app-secret-ü');
  });

  it('detects a changed ciphertext, tag or IV, and a secret moved to another place', () => {
    const box = new SecretBox([newKey]);
    const secret = box.encrypt('app-secret', 'feishu-main/appSecret');
    const flipped = Buffer.from(secret.ciphertext, 'base64');
    flipped[0] ^= 1;
    expect(() =>
      box.decrypt(
        { ...secret, ciphertext: flipped.toString('base64') },
        'feishu-main/appSecret',
      ),
    ).toThrow(/altered/);
    expect(() =>
      box.decrypt(
        { ...secret, authTag: randomBytes(16).toString('base64') },
        'feishu-main/appSecret',
      ),
    ).toThrow(/altered/);
    expect(() =>
      box.decrypt(
        { ...secret, iv: randomBytes(12).toString('base64') },
        'feishu-main/appSecret',
      ),
    ).toThrow(/altered/);
    expect(() => box.decrypt(secret, 'other/appSecret')).toThrow(/altered/);
  });

  it('rotates: decrypts with any configured key and encrypts with the first', () => {
    const before = new SecretBox([oldKey]).encrypt('app-secret', 'x/appSecret');
    const rotated = new SecretBox([newKey, oldKey]);
    expect(rotated.decrypt(before, 'x/appSecret')).toBe('app-secret');
    expect(rotated.encrypt('app-secret', 'x/appSecret').keyId).toBe('new');
    expect(() =>
      new SecretBox([newKey]).decrypt(before, 'x/appSecret'),
    ).toThrow('key "old", which imApproval.secretsKeys does not list');
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(
      () => new SecretBox([{ id: 'short', key: randomBytes(16) }]),
    ).toThrow('Secrets key "short" must be 32 bytes, not 16');
  });
});
