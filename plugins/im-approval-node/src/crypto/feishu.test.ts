import * as lark from '@larksuiteoapi/node-sdk';
import { feishuDecrypt, feishuEncrypt, feishuSignature } from './feishu';
import { safeEqual } from './safeEqual';

describe('Feishu event crypto', () => {
  it('decrypts the official sample vector', () => {
    expect(
      feishuDecrypt('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk='),
    ).toBe('hello world');
  });

  it('round-trips text of every length up to three blocks, with a fresh IV each time', () => {
    for (let length = 0; length <= 48; length++) {
      const text = 'é'.repeat(length);
      const encrypted = feishuEncrypt('an encrypt key', text);
      expect(feishuDecrypt('an encrypt key', encrypted)).toBe(text);
    }
    expect(feishuEncrypt('k', 'same')).not.toBe(feishuEncrypt('k', 'same'));
  });

  it('produces what the official SDK decrypts', () => {
    const encrypted = feishuEncrypt('sdk key', '{"challenge":"c"}');
    expect(new lark.AESCipher('sdk key').decrypt(encrypted)).toBe(
      '{"challenge":"c"}',
    );
  });

  it('refuses text encrypted under another key or cut short', () => {
    const encrypted = feishuEncrypt(
      'right key',
      'a message long enough to span blocks',
    );
    expect(() => feishuDecrypt('wrong key', encrypted)).toThrow();
    expect(() => feishuDecrypt('right key', encrypted.slice(0, 20))).toThrow(
      /invalid length/,
    );
  });

  it('keeps each of many keys apart, however many have been used', () => {
    const keys = Array.from({ length: 100 }, (_, i) => `key ${i}`);
    const sealed = keys.map(key => feishuEncrypt(key, `under ${key}`));
    // A wrong key mostly fails the padding check; when the padding happens to hold, the text is noise.
    const openedWith = (key: string, text: string) => {
      try {
        return feishuDecrypt(key, text);
      } catch {
        return undefined;
      }
    };
    for (const round of [1, 2])
      keys.forEach((key, i) => {
        expect(feishuDecrypt(key, sealed[i])).toBe(`under ${key}`);
        expect(openedWith(keys[(i + round) % 100], sealed[i])).not.toBe(
          `under ${key}`,
        );
      });
  });

  it('signs timestamp, nonce, key and the raw body, byte for byte', () => {
    const body = Buffer.from('{"encrypt":"abc"}');
    const signature = feishuSignature('1700000000', 'nonce', 'key', body);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(feishuSignature('1700000000', 'nonce', 'key', body.toString())).toBe(
      signature,
    );
    expect(
      feishuSignature('1700000000', 'nonce', 'key', '{"encrypt": "abc"}'),
    ).not.toBe(signature);
    expect(feishuSignature('1700000001', 'nonce', 'key', body)).not.toBe(
      signature,
    );
    expect(safeEqual(signature, signature)).toBe(true);
    expect(
      safeEqual(
        signature,
        signature.replace(/.$/, c => (c === '0' ? '1' : '0')),
      ),
    ).toBe(false);
    expect(safeEqual(signature, signature.slice(1))).toBe(false);
  });
});
