import {
  WxBizMsgCrypt,
  type ImCallbackRequest,
  type WxBizMsgCryptOptions,
  type ImCallbackResult,
  type ImEvent,
} from '@im-approval/plugin-im-approval-node';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  openSignedCallback,
  parseJson,
  rejectCallback,
} from '../callbackChecks';

const APPROVAL_EVENT_TYPES = new Set([
  'bpms_task_change',
  'bpms_instance_change',
]);

const encryptedSchema = z.object({ encrypt: z.string().min(1) });
const eventSchema = z.looseObject({ EventType: z.string() });
const approvalEventSchema = z.looseObject({
  processInstanceId: z.string().min(1),
  eventId: z.string().optional(),
  type: z.string().optional(),
  result: z.string().optional(),
  taskId: z.union([z.string(), z.number()]).optional(),
});

/**
 * The instance an approval event is about, or undefined for other events. The id to deduplicate
 * on is DingTalk's `eventId`; the fallback only covers events that come without one.
 */
export function dingtalkApprovalEvent(
  eventType: string,
  payload: unknown,
  eventId?: string,
): ImEvent | undefined {
  if (!APPROVAL_EVENT_TYPES.has(eventType)) return undefined;
  const event = approvalEventSchema.safeParse(payload);
  if (!event.success) return undefined;
  const { processInstanceId, type, result, taskId } = event.data;
  return {
    eventId:
      eventId ??
      event.data.eventId ??
      [eventType, processInstanceId, taskId, type, result].join(':'),
    instanceId: processInstanceId,
  };
}

/**
 * DingTalk's pushes sign a millisecond `timestamp`, and some (older registrations) a `timeStamp` in
 * seconds: a number below 10^11 is seconds (10^11 ms is 1973, 10^11 s the year 5138).
 */
function timestampUnitMs(request: ImCallbackRequest): number {
  const raw = request.query.timestamp ?? request.query.timeStamp;
  return raw !== undefined && /^\d+$/.test(raw) && Number(raw) < 1e11
    ? 1000
    : 1;
}

/**
 * DingTalk's HTTP event push: the signature over the sorted token, timestamp, nonce and
 * ciphertext, decryption with the receiveId checked (the AppKey, or the CorpId of an older registration), a
 * freshness window on the timestamp in milliseconds or seconds. Every event (`check_url` too) is answered with `success` encrypted and
 * signed under a real timestamp, the answer DingTalk waits for.
 */
export class DingtalkCallbackVerifier {
  private readonly crypt: WxBizMsgCrypt;

  /** The receiveId of an internal app's event subscription is its AppKey. */
  constructor(secrets: WxBizMsgCryptOptions) {
    this.crypt = new WxBizMsgCrypt(secrets);
  }

  verify(
    request: ImCallbackRequest,
    options: { now: Date; maxAgeSeconds: number },
  ): ImCallbackResult {
    if (request.method !== 'POST')
      rejectCallback(400, 'DingTalk callbacks are POST requests');
    const body = encryptedSchema.safeParse(
      parseJson(request.rawBody.toString('utf8'), 'body'),
    );
    if (!body.success)
      rejectCallback(400, 'expected an encrypted body {"encrypt": …}');
    const plaintext = openSignedCallback(
      this.crypt,
      request,
      body.data.encrypt,
      { ...options, timestampUnitMs: timestampUnitMs(request) },
    );
    const payload = eventSchema.safeParse(
      parseJson(plaintext, 'decrypted body'),
    );
    if (!payload.success)
      rejectCallback(400, 'the decrypted body has no EventType');

    const event = dingtalkApprovalEvent(payload.data.EventType, payload.data);
    return { reply: this.success(), events: event ? [event] : [] };
  }

  private success(): ImCallbackResult['reply'] {
    const sealed = this.crypt.seal(
      'success',
      String(Date.now()),
      randomBytes(8).toString('hex'),
    );
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({
        msg_signature: sealed.signature,
        timeStamp: sealed.timestamp,
        nonce: sealed.nonce,
        encrypt: sealed.encrypt,
      }),
    };
  }
}
