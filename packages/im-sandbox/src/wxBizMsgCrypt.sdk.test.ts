import {
  WxBizMsgCrypt,
  wxBizMsgSignature,
} from '@im-approval/plugin-im-approval-node';
import * as wecom from '@wecom/crypto';

// The shared DingTalk/WeCom callback crypto against WeCom's official implementation, which this
// package has as a dev dependency: each side must read what the other writes.

const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const CORP_ID = 'wx5823bf96d3bd56c7';
const crypt = new WxBizMsgCrypt({
  token: 'QDG6eK',
  encodingAesKey: KEY,
  receiveId: CORP_ID,
});

describe('WxBizMsgCrypt and @wecom/crypto', () => {
  it('read each other for messages of every length from 0 to 64 bytes', () => {
    for (let length = 0; length <= 64; length += 1) {
      const message =
        '审'.repeat(Math.floor(length / 3)) + 'x'.repeat(length % 3);
      expect(Buffer.byteLength(message)).toBe(length);

      const ours = wecom.decrypt(KEY, crypt.encrypt(message));
      expect(ours).toMatchObject({ message, id: CORP_ID });
      expect(crypt.decrypt(wecom.encrypt(KEY, message, CORP_ID))).toBe(message);
    }
  });

  it('produce the same ciphertext from the same random prefix', () => {
    const random = Buffer.from('0123456789abcdef');
    expect(
      crypt.encrypt('<xml><Event>sys_approval_change</Event></xml>', random),
    ).toBe(
      wecom.encrypt(
        KEY,
        '<xml><Event>sys_approval_change</Event></xml>',
        CORP_ID,
        random,
      ),
    );
  });

  it('sign alike', () => {
    const encrypt = wecom.encrypt(KEY, 'hello', CORP_ID);
    expect(
      wxBizMsgSignature('QDG6eK', '1409659813', '1372623149', encrypt),
    ).toBe(wecom.getSignature('QDG6eK', '1409659813', '1372623149', encrypt));
  });

  it('agree that a message for another corp is not ours', () => {
    expect(() =>
      crypt.decrypt(wecom.encrypt(KEY, 'hello', 'wwanothercorp')),
    ).toThrow(/another receiveId/);
  });
});
