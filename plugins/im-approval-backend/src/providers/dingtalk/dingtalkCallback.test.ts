import {
  WxBizMsgCrypt,
  type ImCallbackRequest,
} from '@im-approval/plugin-im-approval-node';
import {
  DingtalkCallbackVerifier,
  dingtalkApprovalEvent,
} from './dingtalkCallback';
import { callbackRejection } from '../__testUtils__/providerTestUtils';

// DingTalk's official callback-crypto sample (im-protocols.md 2.9, vector 1).
const OFFICIAL = {
  secrets: {
    token: 'mryue',
    encodingAesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
    receiveId: 'ding6ccabc44d2c8d38b',
  },
  signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
  timestamp: '1608001896814',
  nonce: 'WL4PK6yA',
  encrypt:
    '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
};

const secrets = {
  token: 'cb-token',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  receiveId: 'dingappkey',
};
const now = new Date('2026-11-21T08:00:00Z');
const options = { now, maxAgeSeconds: 300 };

function request(
  payload: object,
  {
    crypt = new WxBizMsgCrypt(secrets),
    timestamp = String(now.getTime()),
    tamper = false,
  } = {},
): ImCallbackRequest {
  const sealed = crypt.seal(JSON.stringify(payload), timestamp, 'n0nce');
  const encrypt = tamper
    ? `${sealed.encrypt.slice(0, 10)}${sealed.encrypt[10] === 'A' ? 'B' : 'A'}${sealed.encrypt.slice(11)}`
    : sealed.encrypt;
  return {
    method: 'POST',
    headers: {},
    query: { signature: sealed.signature, timestamp, nonce: 'n0nce' },
    rawBody: Buffer.from(JSON.stringify({ encrypt })),
  };
}

const taskFinished = {
  EventType: 'bpms_task_change',
  processInstanceId: 'PI-1',
  processCode: 'PROC',
  taskId: 7,
  staffId: 'alice',
  type: 'finish',
  result: 'agree',
  remark: 'ok',
  eventId: 'evt-1',
};

describe('DingtalkCallbackVerifier', () => {
  it("accepts DingTalk's official check_url sample and answers with the encrypted success", () => {
    const verifier = new DingtalkCallbackVerifier(OFFICIAL.secrets);
    const before = Date.now();
    const result = verifier.verify(
      {
        method: 'POST',
        headers: {},
        query: {
          signature: OFFICIAL.signature,
          timestamp: OFFICIAL.timestamp,
          nonce: OFFICIAL.nonce,
        },
        rawBody: Buffer.from(JSON.stringify({ encrypt: OFFICIAL.encrypt })),
      },
      { now: new Date(Number(OFFICIAL.timestamp)), maxAgeSeconds: 300 },
    );
    expect(result.events).toEqual([]);
    expect(result.reply).toMatchObject({
      status: 200,
      contentType: 'application/json',
    });
    const reply = JSON.parse(result.reply.body);
    const crypt = new WxBizMsgCrypt(OFFICIAL.secrets);
    expect(
      crypt.open({
        signature: reply.msg_signature,
        timestamp: reply.timeStamp,
        nonce: reply.nonce,
        encrypt: reply.encrypt,
      }),
    ).toBe('success');
    // A real millisecond timestamp, not a constant.
    expect(Number(reply.timeStamp)).toBeGreaterThanOrEqual(before);
    expect(Number(reply.timeStamp)).toBeLessThanOrEqual(Date.now());
  });

  it.each([
    ['bpms_task_change', taskFinished],
    [
      'bpms_instance_change',
      {
        ...taskFinished,
        EventType: 'bpms_instance_change',
        type: 'finish',
        eventId: 'evt-2',
      },
    ],
  ])(
    'returns the instance of a %s event, keyed by its eventId, with the encrypted success',
    (_, payload) => {
      const result = new DingtalkCallbackVerifier(secrets).verify(
        request(payload),
        options,
      );
      expect(result.events).toEqual([
        { eventId: payload.eventId, instanceId: 'PI-1' },
      ]);
      const reply = JSON.parse(result.reply.body);
      expect(
        new WxBizMsgCrypt(secrets).open({
          signature: reply.msg_signature,
          timestamp: reply.timeStamp,
          nonce: reply.nonce,
          encrypt: reply.encrypt,
        }),
      ).toBe('success');
    },
  );

  it('answers other events with success and applies nothing', () => {
    const result = new DingtalkCallbackVerifier(secrets).verify(
      request({ EventType: 'user_add_org', UserId: ['x'] }),
      options,
    );
    expect(result.events).toEqual([]);
    expect(result.reply.status).toBe(200);
  });

  it('accepts the older msg_signature/timeStamp query names', () => {
    const signed = request(taskFinished);
    const { signature, timestamp, nonce } = signed.query;
    const result = new DingtalkCallbackVerifier(secrets).verify(
      {
        ...signed,
        query: { msg_signature: signature, timeStamp: timestamp, nonce },
      },
      options,
    );
    expect(result.events).toHaveLength(1);
  });

  it.each([
    [
      'a forged signature (another token)',
      () =>
        request(taskFinished, {
          crypt: new WxBizMsgCrypt({ ...secrets, token: 'guess' }),
        }),
      401,
      /signature does not match/,
    ],
    [
      'a tampered ciphertext',
      () => request(taskFinished, { tamper: true }),
      401,
      /signature does not match/,
    ],
    [
      'another app (wrong receiveId)',
      () =>
        request(taskFinished, {
          crypt: new WxBizMsgCrypt({ ...secrets, receiveId: 'dingotherapp' }),
        }),
      400,
      /another receiveId/,
    ],
    [
      'a stale timestamp',
      () =>
        request(taskFinished, { timestamp: String(now.getTime() - 301_000) }),
      401,
      /stale/,
    ],
    [
      'a missing signature',
      () => ({ ...request(taskFinished), query: {} }),
      401,
      /missing/,
    ],
    [
      'a plain JSON body',
      () => ({
        ...request(taskFinished),
        rawBody: Buffer.from(JSON.stringify(taskFinished)),
      }),
      400,
      /encrypted body/,
    ],
    ['a GET', () => ({ ...request(taskFinished), method: 'GET' }), 400, /POST/],
  ])('rejects %s', (_, build, status, message) => {
    const error = callbackRejection(() =>
      new DingtalkCallbackVerifier(secrets).verify(build(), options),
    );
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
  });
});

describe('dingtalkApprovalEvent', () => {
  it('keys events without an eventId on what identifies the change', () => {
    expect(
      dingtalkApprovalEvent('bpms_task_change', {
        ...taskFinished,
        eventId: undefined,
      }),
    ).toEqual({
      eventId: 'bpms_task_change:PI-1:7:finish:agree',
      instanceId: 'PI-1',
    });
    expect(
      dingtalkApprovalEvent('bpms_task_change', taskFinished, 'from-header')
        ?.eventId,
    ).toBe('from-header');
    expect(dingtalkApprovalEvent('chat_update', taskFinished)).toBeUndefined();
    expect(
      dingtalkApprovalEvent('bpms_task_change', { type: 'finish' }),
    ).toBeUndefined();
  });
});

describe('DingTalk callback variants', () => {
  it('takes a timestamp in seconds as well as in milliseconds, and keeps the freshness window for both', () => {
    const verifier = new DingtalkCallbackVerifier(secrets);
    const seconds = String(Math.floor(now.getTime() / 1000));
    expect(
      verifier.verify(request(taskFinished, { timestamp: seconds }), options)
        .events,
    ).toEqual([{ eventId: 'evt-1', instanceId: 'PI-1' }]);
    const staleSeconds = String(Math.floor(now.getTime() / 1000) - 600);
    expect(
      callbackRejection(() =>
        verifier.verify(
          request(taskFinished, { timestamp: staleSeconds }),
          options,
        ),
      ).status,
    ).toBe(401);
  });

  it('takes the older query names msg_signature and timeStamp', () => {
    const built = request(taskFinished, {
      timestamp: String(Math.floor(now.getTime() / 1000)),
    });
    const { signature, timestamp, nonce } = built.query;
    const older = {
      ...built,
      query: { msg_signature: signature, timeStamp: timestamp, nonce },
    };
    expect(
      new DingtalkCallbackVerifier(secrets).verify(older, options).events,
    ).toHaveLength(1);
  });

  it('decrypts for the CorpId of an older corp-level registration when that is the receiveId, and refuses the AppKey then', () => {
    const corp = { ...secrets, receiveId: 'dingcorp123' };
    const sealedForCorp = request(taskFinished, {
      crypt: new WxBizMsgCrypt(corp),
    });
    expect(
      new DingtalkCallbackVerifier(corp).verify(sealedForCorp, options).events,
    ).toHaveLength(1);
    expect(
      callbackRejection(() =>
        new DingtalkCallbackVerifier(secrets).verify(sealedForCorp, options),
      ).status,
    ).toBe(400);
  });
});
