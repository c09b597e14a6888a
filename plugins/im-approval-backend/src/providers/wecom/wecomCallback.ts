import {
  WxBizMsgCrypt,
  type ImCallbackRequest,
  type WxBizMsgCryptOptions,
  type ImCallbackResult,
} from '@im-approval/plugin-im-approval-node';
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import {
  openSignedCallback,
  queryParam,
  rejectCallback,
} from '../callbackChecks';

// Values stay strings: SpNo is a long number-like id.
const xml = new XMLParser({ parseTagValue: false, processEntities: false });

const envelopeSchema = z.object({
  xml: z.looseObject({ Encrypt: z.string().min(1) }),
});
const messageSchema = z.object({
  xml: z.looseObject({
    MsgType: z.string().optional(),
    Event: z.string().optional(),
    CreateTime: z.string().optional(),
    ApprovalInfo: z
      .looseObject({
        SpNo: z.string().min(1),
        SpStatus: z.string().optional(),
        StatuChangeEvent: z.string().optional(),
      })
      .optional(),
  }),
});

const EMPTY_REPLY = { status: 200, contentType: 'text/plain', body: '' };

function parseXml(text: string, what: string): unknown {
  try {
    return xml.parse(text, true);
  } catch {
    return rejectCallback(400, `${what} is not XML`);
  }
}

/**
 * WeCom's callbacks to a self-built app: the GET URL check (answered with the bare decrypted
 * echostr) and POSTed XML events, each with `msg_signature` over the sorted token, timestamp,
 * nonce and ciphertext, decrypted with the receiveId checked against the Corp ID. Approval
 * changes (`sys_approval_change`) become events; anything else gets the plain 200 WeCom expects.
 */
export class WecomCallbackVerifier {
  private readonly crypt: WxBizMsgCrypt;

  /** The receiveId of every WeCom callback is the Corp ID. */
  constructor(secrets: WxBizMsgCryptOptions) {
    this.crypt = new WxBizMsgCrypt(secrets);
  }

  verify(
    request: ImCallbackRequest,
    options: { now: Date; maxAgeSeconds: number },
  ): ImCallbackResult {
    const open = (encrypt: string) =>
      openSignedCallback(this.crypt, request, encrypt, {
        ...options,
        timestampUnitMs: 1000,
      });
    if (request.method === 'GET') {
      // A query parser turns an unescaped "+" of the base64 echostr into a space.
      const echostr = queryParam(request, 'echostr')?.replaceAll(' ', '+');
      if (!echostr) rejectCallback(400, 'a URL check needs echostr');
      return {
        reply: { status: 200, contentType: 'text/plain', body: open(echostr) },
        events: [],
      };
    }
    if (request.method !== 'POST')
      rejectCallback(
        400,
        'WeCom callbacks are GET (URL check) or POST (events)',
      );

    const envelope = envelopeSchema.safeParse(
      parseXml(request.rawBody.toString('utf8'), 'body'),
    );
    if (!envelope.success)
      rejectCallback(400, 'expected an XML body with <Encrypt>');
    const plaintext = open(envelope.data.xml.Encrypt);
    const message = messageSchema.safeParse(
      parseXml(plaintext, 'decrypted body'),
    );
    if (!message.success)
      rejectCallback(400, 'the decrypted body is not a WeCom message');

    const { MsgType, Event, CreateTime, ApprovalInfo } = message.data.xml;
    if (MsgType !== 'event' || Event !== 'sys_approval_change' || !ApprovalInfo)
      return { reply: EMPTY_REPLY, events: [] };
    // WeCom gives no event id: the instance, its new status, what changed and when identify one delivery.
    const eventId = [
      ApprovalInfo.SpNo,
      ApprovalInfo.SpStatus,
      ApprovalInfo.StatuChangeEvent,
      CreateTime,
    ].join(':');
    return {
      reply: EMPTY_REPLY,
      events: [{ eventId, instanceId: ApprovalInfo.SpNo }],
    };
  }
}
