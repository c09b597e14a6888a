import {
  APP,
  DINGTALK_APP,
  WECOM_APP,
  WECOM_CORP_ID,
} from '@im-approval/im-sandbox/testing';
import {
  feishuEncrypt,
  feishuSignatureHeaders,
  WxBizMsgCrypt,
} from '@im-approval/plugin-im-approval-node';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { CallbackProvider } from './apiOperations';
import { HOSTILE_STRINGS } from './malformed';
import { encodeText } from './requests';

// IM callbacks as each IM sends them: forged ones (wrong or no signature, garbage bodies), and
// authentic ones (signed and encrypted with the integration's own secrets) around hostile
// payloads, which get past verification into parsing and the database.

export interface CallbackRequest {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  /** Already encoded, without the `?`. */
  query: string;
  headers: Record<string, string>;
  body?: string;
  label: string;
}

const dingtalkCrypt = new WxBizMsgCrypt({
  token: DINGTALK_APP.token,
  encodingAesKey: DINGTALK_APP.aesKey,
  receiveId: DINGTALK_APP.appKey,
});
const wecomCrypt = new WxBizMsgCrypt({
  token: WECOM_APP.token,
  encodingAesKey: WECOM_APP.encodingAesKey,
  receiveId: WECOM_CORP_ID,
});

const q = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([name, value]) => `${encodeText(name)}=${encodeText(value)}`)
    .join('&');

/** Text an IM's payload might carry, from ordinary to hostile. */
export const payloadText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(256, 1001, 70_000)
      .map(length => 'i'.repeat(length)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '7C468A54-8745-2245-9675-08654A1A1C3E',
      '3.1415',
      '1700000000',
    ),
  },
);

export function signedFeishu(
  plaintext: string,
  label: string,
): CallbackRequest {
  const body = JSON.stringify({
    encrypt: feishuEncrypt(APP.encryptKey, plaintext),
  });
  return {
    method: 'post',
    query: '',
    headers: {
      'content-type': 'application/json',
      ...feishuSignatureHeaders(APP.encryptKey, body),
    },
    body,
    label,
  };
}

export function signedDingtalk(
  plaintext: string,
  label: string,
): CallbackRequest {
  const sealed = dingtalkCrypt.seal(
    plaintext,
    String(Date.now()),
    randomBytes(8).toString('hex'),
  );
  return {
    method: 'post',
    query: q({
      msg_signature: sealed.signature,
      timestamp: sealed.timestamp,
      nonce: sealed.nonce,
    }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encrypt: sealed.encrypt }),
    label,
  };
}

export function signedWecom(
  plaintext: string,
  method: 'get' | 'post',
  label: string,
): CallbackRequest {
  const sealed = wecomCrypt.seal(
    plaintext,
    String(Math.floor(Date.now() / 1000)),
    randomBytes(8).toString('hex'),
  );
  const signing = {
    msg_signature: sealed.signature,
    timestamp: sealed.timestamp,
    nonce: sealed.nonce,
  };
  if (method === 'get')
    return {
      method,
      query: q({ ...signing, echostr: sealed.encrypt }),
      headers: {},
      label,
    };
  return {
    method,
    query: q(signing),
    headers: { 'content-type': 'text/xml' },
    body: `<xml><ToUserName><![CDATA[${WECOM_CORP_ID}]]></ToUserName><Encrypt><![CDATA[${sealed.encrypt}]]></Encrypt><AgentID>${WECOM_APP.agentId}</AgentID></xml>`,
    label,
  };
}

const json = (value: unknown) => JSON.stringify(value);

/** Payloads inside an authentic callback of each IM. */
const feishuPayload = fc.oneof(
  fc
    .record({
      uuid: payloadText,
      token: fc.constantFrom(APP.verificationToken, 'wrong-token'),
      ts: fc.option(payloadText, { nil: undefined }),
      type: fc.constant('event_callback'),
      event: fc.record({
        type: fc.constantFrom(
          'approval_instance',
          'approval_task',
          'leave_approval',
        ),
        instance_code: payloadText,
        status: payloadText,
      }),
    })
    .map(event => ({ text: json(event), label: 'v1 event' })),
  fc
    .record({
      type: fc.constant('url_verification'),
      challenge: payloadText,
      token: fc.constantFrom(APP.verificationToken, ''),
    })
    .map(handshake => ({ text: json(handshake), label: 'URL verification' })),
  fc
    .record({
      schema: fc.constant('2.0'),
      header: fc.record({
        event_id: payloadText,
        token: fc.constant(APP.verificationToken),
        event_type: payloadText,
      }),
    })
    .map(event => ({ text: json(event), label: 'v2 event' })),
  fc
    .jsonValue({ maxDepth: 3 })
    .map(value => ({ text: json(value) ?? 'null', label: 'random JSON' })),
  payloadText.map(text => ({ text, label: 'random text' })),
);

const dingtalkPayload = fc.oneof(
  fc
    .record({
      EventType: fc.constantFrom(
        'bpms_instance_change',
        'bpms_task_change',
        'check_url',
        'user_add_org',
      ),
      processInstanceId: payloadText,
      eventId: fc.option(payloadText, { nil: undefined }),
      type: fc.option(payloadText, { nil: undefined }),
      result: fc.option(payloadText, { nil: undefined }),
      taskId: fc.option(fc.oneof(payloadText, fc.integer()), {
        nil: undefined,
      }),
    })
    .map(event => ({ text: json(event), label: 'approval event' })),
  fc
    .jsonValue({ maxDepth: 3 })
    .map(value => ({ text: json(value) ?? 'null', label: 'random JSON' })),
  payloadText.map(text => ({ text, label: 'random text' })),
);

const xmlText = fc.oneof(
  payloadText,
  payloadText.map(text => `<![CDATA[${text}]]>`),
);
const wecomPayload = fc.oneof(
  fc
    .record({
      msgType: fc.constantFrom('event', 'text'),
      event: fc.constantFrom('sys_approval_change', 'click'),
      time: xmlText,
      spNo: xmlText,
      spStatus: xmlText,
    })
    .map(m => ({
      text:
        `<xml><MsgType>${m.msgType}</MsgType><Event>${m.event}</Event><CreateTime>${m.time}</CreateTime>` +
        `<ApprovalInfo><SpNo>${m.spNo}</SpNo><SpStatus>${m.spStatus}</SpStatus><StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>`,
      label: 'approval change',
    })),
  payloadText.map(text => ({ text, label: 'random text' })),
  fc
    .constantFrom(
      '<xml>',
      '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>',
      '<a><b><c/></b></a>',
    )
    .map(text => ({ text, label: 'odd XML' })),
);

/** An authentic callback of the IM, around a hostile payload. */
export function signedCallbacks(
  provider: CallbackProvider,
  method: 'get' | 'post',
): fc.Arbitrary<CallbackRequest> {
  if (provider === 'feishu')
    return feishuPayload.map(p => ({
      ...signedFeishu(p.text, `signed ${p.label}`),
      method,
    }));
  if (provider === 'dingtalk')
    return dingtalkPayload.map(p => ({
      ...signedDingtalk(p.text, `signed ${p.label}`),
      method,
    }));
  if (method === 'get')
    return payloadText.map(text =>
      signedWecom(text, 'get', 'signed URL check'),
    );
  return wecomPayload.map(p =>
    signedWecom(p.text, 'post', `signed ${p.label}`),
  );
}

const signatureParams = fc.dictionary(
  fc.constantFrom(
    'msg_signature',
    'signature',
    'timestamp',
    'timeStamp',
    'nonce',
    'echostr',
    'encrypt',
  ),
  fc.oneof(
    payloadText,
    fc.constantFrom('0', '-1', '99999999999999999999', String(Date.now())),
  ),
  { maxKeys: 5 },
);

/** Forged callbacks: no or wrong signatures, replayed or stale stamps, garbage in every part. */
export function forgedCallbacks(
  provider: CallbackProvider,
  method: 'get' | 'post',
): fc.Arbitrary<CallbackRequest> {
  const body = fc.oneof(
    fc.constant(undefined),
    payloadText,
    fc.jsonValue({ maxDepth: 3 }).map(value => JSON.stringify(value) ?? 'null'),
    fc.record({ encrypt: payloadText }).map(json),
    fc
      .record({
        uuid: payloadText,
        token: payloadText,
        type: fc.constant('event_callback'),
        event: fc.record({
          type: fc.constant('approval_instance'),
          instance_code: payloadText,
        }),
      })
      .map(json),
    payloadText.map(
      text => `<xml><Encrypt><![CDATA[${text}]]></Encrypt></xml>`,
    ),
    fc.constant('x'.repeat(1_100_000)),
  );
  const headers = fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'text/xml',
        'text/plain',
        'application/octet-stream',
        'application/json; charset=utf-16',
      ),
      'x-lark-request-timestamp': fc.oneof(
        payloadText,
        fc.constant(String(Math.floor(Date.now() / 1000))),
      ),
      'x-lark-request-nonce': payloadText,
      'x-lark-signature': payloadText,
    },
    { requiredKeys: ['content-type'] },
  );
  const safeHeaders = headers.map(h =>
    Object.fromEntries(
      Object.entries(h).map(([name, value]) => [
        name,
        encodeText(value as string).slice(0, 8000),
      ]),
    ),
  );
  return fc
    .record({
      method: fc.constantFrom(method, method, 'put' as const),
      query: signatureParams.map(q),
      headers: safeHeaders,
      body,
    })
    .map(r => ({
      ...r,
      method: r.body !== undefined && r.method === 'get' ? 'post' : r.method,
      label: `forged ${provider}`,
    }));
}

/** Text every authentic callback carries once as its event id and once as its instance id. */
const CRITICAL_TEXT: Array<[string, string]> = [
  ['NUL', 'a\u0000b'],
  ['a lone surrogate', 'x\uD800y'],
  ['256 characters', 'e'.repeat(256)],
  ['70,000 characters', 'i'.repeat(70_000)],
];

/** Authentic approval events whose event id, then instance id, is each of the critical texts. */
export function criticalSignedCallbacks(
  provider: CallbackProvider,
): CallbackRequest[] {
  const plain = { eventId: 'critical-event', instanceId: 'critical-instance' };
  const cases = CRITICAL_TEXT.flatMap(([label, text]) => [
    {
      label: `critical: event id with ${label}`,
      eventId: `${text}-${provider}`,
      instanceId: plain.instanceId,
    },
    {
      label: `critical: instance id with ${label}`,
      eventId: `${plain.eventId}-${label}`,
      instanceId: text,
    },
  ]);
  return cases.map(({ label, eventId, instanceId }) => {
    if (provider === 'feishu') {
      const event = {
        uuid: eventId,
        token: APP.verificationToken,
        type: 'event_callback',
        event: {
          type: 'approval_instance',
          instance_code: instanceId,
          status: 'APPROVED',
        },
      };
      return signedFeishu(json(event), label);
    }
    if (provider === 'dingtalk') {
      return signedDingtalk(
        json({
          EventType: 'bpms_instance_change',
          processInstanceId: instanceId,
          eventId,
          type: 'finish',
          result: 'agree',
        }),
        label,
      );
    }
    const xmlMessage =
      `<xml><MsgType>event</MsgType><Event>sys_approval_change</Event><CreateTime><![CDATA[${eventId}]]></CreateTime>` +
      `<ApprovalInfo><SpNo><![CDATA[${instanceId}]]></SpNo><SpStatus>2</SpStatus><StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>`;
    return signedWecom(xmlMessage, 'post', label);
  });
}
