import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ImCallbackRejectedError } from '../errors';
import { WxBizMsgCrypt, wxBizMsgSignature } from './wxBizMsgCrypt';

// The official vectors (im-protocols.md sections 2.9 and 3.9), then properties no vector covers.

const DINGTALK_CHECK_URL = {
  options: {
    token: 'mryue',
    encodingAesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
    receiveId: 'ding6ccabc44d2c8d38b',
  },
  message: {
    signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
    timestamp: '1608001896814',
    nonce: 'WL4PK6yA',
    encrypt:
      '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
  },
  plaintext: '{"EventType":"check_url"}',
};

const DINGTALK_SUCCESS = {
  options: {
    token: 'tokenxxxx',
    encodingAesKey: 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus',
    receiveId: 'dingxxxxxx',
  },
  message: {
    signature: 'f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc',
    timestamp: '1605695694141',
    nonce: 'WelUQl6bCqcBa2fM',
    encrypt:
      'X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9TRaqsQ==',
  },
  plaintext: 'success',
};

const WECOM_OPTIONS = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  receiveId: 'wx5823bf96d3bd56c7',
};

const WECOM_URL_CHECK = {
  options: WECOM_OPTIONS,
  message: {
    signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    encrypt:
      'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  },
  plaintext: '1616140317555161061',
};

const WECOM_EVENT = {
  options: WECOM_OPTIONS,
  message: {
    signature: '477715d11cdb4164915debcba66cb864d751f3e6',
    timestamp: '1409659813',
    nonce: '1372623149',
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  },
};

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

/** Flips one bit of the ciphertext's n-th byte from the end, keeping it base64. */
function flipByte(encrypt: string, fromEnd: number): string {
  const raw = Buffer.from(encrypt, 'base64');
  raw[raw.length - fromEnd] ^= 0x01;
  return raw.toString('base64');
}

/** Re-encrypts a sample's plaintext with another padding, as a sender padding to 16 would. */
function repad(
  options: { encodingAesKey: string },
  encrypt: string,
  pad: (plain: Buffer) => Buffer,
): string {
  const key = Buffer.from(`${options.encodingAesKey}=`, 'base64');
  const decipher = createDecipheriv(
    'aes-256-cbc',
    key,
    key.subarray(0, 16),
  ).setAutoPadding(false);
  const padded = Buffer.concat([
    decipher.update(Buffer.from(encrypt, 'base64')),
    decipher.final(),
  ]);
  const plain = padded.subarray(0, padded.length - padded[padded.length - 1]);
  const cipher = createCipheriv(
    'aes-256-cbc',
    key,
    key.subarray(0, 16),
  ).setAutoPadding(false);
  return Buffer.concat([cipher.update(pad(plain)), cipher.final()]).toString(
    'base64',
  );
}

describe('WxBizMsgCrypt', () => {
  describe.each([
    ['DingTalk check_url', DINGTALK_CHECK_URL],
    ['DingTalk encrypted success reply', DINGTALK_SUCCESS],
    ['WeCom URL check echostr', WECOM_URL_CHECK],
  ])('the official %s vector', (_name, vector) => {
    const crypt = new WxBizMsgCrypt(vector.options);

    it('has the published signature and decrypts to the published plaintext', () => {
      const { signature, timestamp, nonce, encrypt } = vector.message;
      expect(
        wxBizMsgSignature(vector.options.token, timestamp, nonce, encrypt),
      ).toBe(signature);
      expect(crypt.verify(vector.message)).toBe(true);
      expect(crypt.open(vector.message)).toBe(vector.plaintext);
    });

    it('is refused with another receiveId, token or key', () => {
      expect(() =>
        new WxBizMsgCrypt({ ...vector.options, receiveId: 'another' }).open(
          vector.message,
        ),
      ).toThrow(/another receiveId/);
      expect(() =>
        new WxBizMsgCrypt({ ...vector.options, token: 'other' }).open(
          vector.message,
        ),
      ).toThrow(/signature/);
      expect(() =>
        new WxBizMsgCrypt({ ...vector.options, encodingAesKey: KEY }).decrypt(
          vector.message.encrypt,
        ),
      ).toThrow(ImCallbackRejectedError);
    });
  });

  it('decrypts the official WeCom XML event, padded with 30 bytes', () => {
    const crypt = new WxBizMsgCrypt(WECOM_EVENT.options);
    const raw = Buffer.from(WECOM_EVENT.message.encrypt, 'base64');
    const key = Buffer.from(`${WECOM_OPTIONS.encodingAesKey}=`, 'base64');
    const last = createDecipheriv(
      'aes-256-cbc',
      key,
      raw.subarray(raw.length - 32, raw.length - 16),
    )
      .setAutoPadding(false)
      .update(raw.subarray(raw.length - 16));
    expect(last[15]).toBe(30);

    const xml = crypt.open(WECOM_EVENT.message);
    expect(xml).toMatch(/^<xml>/);
    expect(/<Content><!\[CDATA\[(.*?)\]\]><\/Content>/.exec(xml)?.[1]).toBe(
      'hello',
    );
    expect(xml).toContain(
      '<ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>',
    );
  });

  it('round-trips messages of every length from 0 to 64 bytes, ASCII and multi-byte', () => {
    const crypt = new WxBizMsgCrypt({
      token: 't',
      encodingAesKey: KEY,
      receiveId: 'ding123',
    });
    for (let length = 0; length <= 64; length += 1) {
      const ascii = 'x'.repeat(length);
      const encrypted = crypt.encrypt(ascii);
      const blocks = Buffer.from(encrypted, 'base64').length;
      // 16 random + 4 length + message + 7 receiveId, padded to a whole 32-byte block (pad 1..32).
      expect(blocks).toBe(Math.ceil((27 + length + 1) / 32) * 32);
      expect(crypt.decrypt(encrypted)).toBe(ascii);

      const multiByte =
        'é'.repeat(Math.floor(length / 2)) + (length % 2 ? 'a' : '');
      expect(Buffer.byteLength(multiByte)).toBe(length);
      expect(crypt.decrypt(crypt.encrypt(multiByte))).toBe(multiByte);
    }
  });

  it('draws a fresh random prefix each time and takes a given one', () => {
    const crypt = new WxBizMsgCrypt({
      token: 't',
      encodingAesKey: KEY,
      receiveId: 'corp',
    });
    expect(crypt.encrypt('same')).not.toBe(crypt.encrypt('same'));
    const random = Buffer.alloc(16, 7);
    expect(crypt.encrypt('same', random)).toBe(crypt.encrypt('same', random));
    expect(() => crypt.encrypt('same', Buffer.alloc(15))).toThrow(/16 bytes/);
  });

  it('accepts the 16-byte padding other senders use, and every pad value from 1 to 32', () => {
    const crypt = new WxBizMsgCrypt(DINGTALK_CHECK_URL.options);
    const { encrypt } = DINGTALK_CHECK_URL.message;
    const to16 = repad(DINGTALK_CHECK_URL.options, encrypt, plain => {
      const pad = 16 - (plain.length % 16);
      return Buffer.concat([plain, Buffer.alloc(pad, pad)]);
    });
    expect(Buffer.from(to16, 'base64').length).not.toBe(
      Buffer.from(encrypt, 'base64').length,
    );
    expect(crypt.decrypt(to16)).toBe(DINGTALK_CHECK_URL.plaintext);

    // The plaintext is 16 + 4 + message + 20 (the receiveId) bytes; size the message so each pad ends a block.
    for (let pad = 1; pad <= 32; pad += 1) {
      const message = 'm'.repeat((32 - ((40 + pad) % 32)) % 32);
      const withPad = repad(
        DINGTALK_CHECK_URL.options,
        crypt.encrypt(message),
        plain => Buffer.concat([plain, Buffer.alloc(pad, pad)]),
      );
      expect(crypt.decrypt(withPad)).toBe(message);
    }
  });

  it('rejects pad bytes of 0, above 32, or not all alike', () => {
    const crypt = new WxBizMsgCrypt(DINGTALK_CHECK_URL.options);
    const { encrypt } = DINGTALK_CHECK_URL.message;
    // The plaintext is 65 bytes: 15 or 31 bytes of padding end an AES block.
    const padWith = (tail: number[]) =>
      repad(DINGTALK_CHECK_URL.options, encrypt, plain =>
        Buffer.concat([plain, Buffer.from(tail)]),
      );
    expect(() => crypt.decrypt(padWith(Array(15).fill(0)))).toThrow(/padding/);
    expect(() => crypt.decrypt(padWith(Array(31).fill(33)))).toThrow(/padding/);
    expect(() => crypt.decrypt(padWith([14, ...Array(14).fill(15)]))).toThrow(
      /padding/,
    );
    expect(crypt.decrypt(padWith(Array(15).fill(15)))).toBe(
      DINGTALK_CHECK_URL.plaintext,
    );
  });

  it('rejects a tampered ciphertext, signature, timestamp or nonce', () => {
    const crypt = new WxBizMsgCrypt(DINGTALK_CHECK_URL.options);
    const { message } = DINGTALK_CHECK_URL;
    const tampered = { ...message, encrypt: flipByte(message.encrypt, 40) };
    expect(crypt.verify(tampered)).toBe(false);
    expect(() => crypt.open(tampered)).toThrow(
      expect.objectContaining({ status: 401 }),
    );
    // Even with a matching signature a flipped byte garbles a block: the receiveId or padding no longer checks.
    for (const fromEnd of [1, 17, 33, 48]) {
      expect(() => crypt.decrypt(flipByte(message.encrypt, fromEnd))).toThrow(
        expect.objectContaining({ status: 400 }),
      );
    }
    expect(
      crypt.verify({
        ...message,
        signature: message.signature.replace(/^./, '1'),
      }),
    ).toBe(false);
    expect(
      crypt.verify({ ...message, signature: message.signature.slice(1) }),
    ).toBe(false);
    expect(
      crypt.verify({ ...message, signature: message.signature.toUpperCase() }),
    ).toBe(true);
    expect(crypt.verify({ ...message, timestamp: '1608001896815' })).toBe(
      false,
    );
    expect(crypt.verify({ ...message, nonce: 'WL4PK6yB' })).toBe(false);
  });

  it('rejects what is not base64 of whole blocks, and lengths that do not fit', () => {
    const crypt = new WxBizMsgCrypt({
      token: 't',
      encodingAesKey: KEY,
      receiveId: 'r',
    });
    expect(() => crypt.decrypt('')).toThrow(/whole AES blocks/);
    expect(() => crypt.decrypt('not base64!')).toThrow(/whole AES blocks/);
    expect(() => crypt.decrypt(Buffer.alloc(20).toString('base64'))).toThrow(
      /whole AES blocks/,
    );
    expect(() =>
      crypt.decrypt(crypt.encrypt('abc').replace(/=*$/, '')),
    ).toThrow(/whole AES blocks/);

    const key = Buffer.from(`${KEY}=`, 'base64');
    const forge = (plain: Buffer) => {
      const pad = 32 - (plain.length % 32);
      const cipher = createCipheriv(
        'aes-256-cbc',
        key,
        key.subarray(0, 16),
      ).setAutoPadding(false);
      return Buffer.concat([
        cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
        cipher.final(),
      ]).toString('base64');
    };
    const lengthOf = (n: number) =>
      Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    expect(() => crypt.decrypt(forge(Buffer.alloc(10)))).toThrow(/too short/);
    expect(() =>
      crypt.decrypt(
        forge(
          Buffer.concat([Buffer.alloc(16), lengthOf(100), Buffer.from('abcr')]),
        ),
      ),
    ).toThrow(/length exceeds/);
    expect(() =>
      crypt.decrypt(
        forge(
          Buffer.concat([
            Buffer.alloc(16),
            lengthOf(2),
            Buffer.from([0xc3, 0x28]),
            Buffer.from('r'),
          ]),
        ),
      ),
    ).toThrow(/UTF-8/);
    expect(
      crypt.decrypt(
        forge(
          Buffer.concat([Buffer.alloc(16), lengthOf(3), Buffer.from('abcr')]),
        ),
      ),
    ).toBe('abc');
  });

  it('refuses a malformed EncodingAESKey when configured', () => {
    expect(
      () =>
        new WxBizMsgCrypt({
          token: 't',
          encodingAesKey: `${KEY}=`,
          receiveId: 'r',
        }),
    ).toThrow(/43 characters/);
    expect(
      () =>
        new WxBizMsgCrypt({
          token: 't',
          encodingAesKey: KEY.slice(1),
          receiveId: 'r',
        }),
    ).toThrow(/43 characters/);
    expect(
      () =>
        new WxBizMsgCrypt({
          token: 't',
          encodingAesKey: `${KEY.slice(1)}-`,
          receiveId: 'r',
        }),
    ).toThrow(/43 characters/);
  });

  it('seals what it opens, signed over the four sorted values', () => {
    const crypt = new WxBizMsgCrypt({
      token: 'tok',
      encodingAesKey: KEY,
      receiveId: 'dingapp',
    });
    const sealed = crypt.seal('success', '1700000000123', 'n0nce');
    expect(sealed.signature).toBe(
      wxBizMsgSignature('tok', '1700000000123', 'n0nce', sealed.encrypt),
    );
    expect(
      wxBizMsgSignature('tok', 'n0nce', '1700000000123', sealed.encrypt),
    ).toBe(sealed.signature);
    expect(crypt.open(sealed)).toBe('success');
  });
});
