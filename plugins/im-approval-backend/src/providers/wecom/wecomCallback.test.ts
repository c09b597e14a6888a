import {
  WxBizMsgCrypt,
  type ImCallbackRequest,
} from '@im-approval/plugin-im-approval-node';
import { WecomCallbackVerifier } from './wecomCallback';
import { callbackRejection } from '../__testUtils__/providerTestUtils';

// WeCom's official sample (im-protocols.md 3.9).
const OFFICIAL = {
  token: 'QDG6eK',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  receiveId: 'wx5823bf96d3bd56c7',
};
const OFFICIAL_URL_CHECK = {
  msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  timestamp: '1409659589',
  nonce: '263014780',
  echostr:
    'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
};
const OFFICIAL_EVENT = {
  msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6',
  timestamp: '1409659813',
  nonce: '1372623149',
  encrypt:
    'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
};

const secrets = {
  token: 'cb-token',
  encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  receiveId: 'wwcorp',
};
const now = new Date('2026-11-21T08:00:00Z');
const nowSeconds = String(Math.floor(now.getTime() / 1000));
const options = { now, maxAgeSeconds: 300 };

function approvalChange(spNo: string, spStatus: number, change = 2) {
  return (
    `<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1763712000</CreateTime>` +
    `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[sys_approval_change]]></Event><AgentID>1000002</AgentID>` +
    `<ApprovalInfo><SpNo>${spNo}</SpNo><SpName><![CDATA[Deploy]]></SpName><SpStatus>${spStatus}</SpStatus><TemplateId><![CDATA[TPL]]></TemplateId>` +
    `<Applyer><UserId><![CDATA[bot]]></UserId></Applyer><StatuChangeEvent>${change}</StatuChangeEvent></ApprovalInfo></xml>`
  );
}

function post(
  message: string,
  {
    crypt = new WxBizMsgCrypt(secrets),
    timestamp = nowSeconds,
    tamper = false,
  } = {},
): ImCallbackRequest {
  const sealed = crypt.seal(message, timestamp, 'n0nce');
  const encrypt = tamper
    ? sealed.encrypt.replace(/^./, c => (c === 'A' ? 'B' : 'A'))
    : sealed.encrypt;
  return {
    method: 'POST',
    headers: {},
    query: { msg_signature: sealed.signature, timestamp, nonce: 'n0nce' },
    rawBody: Buffer.from(
      `<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    ),
  };
}

describe('WecomCallbackVerifier', () => {
  const official = new WecomCallbackVerifier(OFFICIAL);

  it("answers WeCom's official URL check with the bare plaintext", () => {
    const result = official.verify(
      {
        method: 'GET',
        headers: {},
        query: OFFICIAL_URL_CHECK,
        rawBody: Buffer.alloc(0),
      },
      { now: new Date(1409659589_000), maxAgeSeconds: 300 },
    );
    expect(result).toEqual({
      reply: {
        status: 200,
        contentType: 'text/plain',
        body: '1616140317555161061',
      },
      events: [],
    });
  });

  it('takes an echostr whose "+" a query parser turned into a space', () => {
    const query = {
      ...OFFICIAL_URL_CHECK,
      echostr: OFFICIAL_URL_CHECK.echostr.replaceAll('+', ' '),
    };
    const result = official.verify(
      { method: 'GET', headers: {}, query, rawBody: Buffer.alloc(0) },
      { now: new Date(1409659589_000), maxAgeSeconds: 300 },
    );
    expect(result.reply.body).toBe('1616140317555161061');
  });

  it("answers WeCom's official (non-approval) XML event with an empty 200 and applies nothing", () => {
    const { encrypt, ...query } = OFFICIAL_EVENT;
    const rawBody = Buffer.from(
      `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`,
    );
    const result = official.verify(
      { method: 'POST', headers: {}, query, rawBody },
      { now: new Date(1409659813_000), maxAgeSeconds: 300 },
    );
    expect(result).toEqual({
      reply: { status: 200, contentType: 'text/plain', body: '' },
      events: [],
    });
  });

  it('returns the instance of a sys_approval_change, keyed by instance, status, change and time', () => {
    const result = new WecomCallbackVerifier(secrets).verify(
      post(approvalChange('202611210001', 2)),
      options,
    );
    expect(result.events).toEqual([
      { eventId: '202611210001:2:2:1763712000', instanceId: '202611210001' },
    ]);
    expect(result.reply).toEqual({
      status: 200,
      contentType: 'text/plain',
      body: '',
    });
  });

  it.each([
    [
      'a forged signature (another token)',
      () =>
        post(approvalChange('1', 2), {
          crypt: new WxBizMsgCrypt({ ...secrets, token: 'guess' }),
        }),
      401,
      /signature does not match/,
    ],
    [
      'a tampered ciphertext',
      () => post(approvalChange('1', 2), { tamper: true }),
      401,
      /signature does not match/,
    ],
    [
      'another corp (wrong receiveId)',
      () =>
        post(approvalChange('1', 2), {
          crypt: new WxBizMsgCrypt({ ...secrets, receiveId: 'wwother' }),
        }),
      400,
      /another receiveId/,
    ],
    [
      'a stale timestamp',
      () =>
        post(approvalChange('1', 2), {
          timestamp: String(Number(nowSeconds) - 301),
        }),
      401,
      /stale/,
    ],
    [
      'a missing msg_signature',
      () => ({
        ...post(approvalChange('1', 2)),
        query: { timestamp: nowSeconds, nonce: 'n' },
      }),
      401,
      /missing/,
    ],
    [
      'a body that is not XML',
      () => ({
        ...post(approvalChange('1', 2)),
        rawBody: Buffer.from('{"encrypt":"x"}'),
      }),
      400,
      /not XML/,
    ],
    [
      'XML without Encrypt',
      () => ({
        ...post(approvalChange('1', 2)),
        rawBody: Buffer.from('<xml><ToUserName>wwcorp</ToUserName></xml>'),
      }),
      400,
      /<Encrypt>/,
    ],
    [
      'a URL check without echostr',
      () => ({ ...post(approvalChange('1', 2)), method: 'GET' }),
      400,
      /echostr/,
    ],
  ])('rejects %s', (_, build, status, message) => {
    const error = callbackRejection(() =>
      new WecomCallbackVerifier(secrets).verify(build(), options),
    );
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
  });
});
