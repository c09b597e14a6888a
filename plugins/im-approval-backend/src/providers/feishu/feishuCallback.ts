import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import {
  feishuDecrypt,
  feishuSignature,
  safeEqual,
  type ImCallbackRequest,
  type ImCallbackResult,
  type ImCardCallback,
  type ImEvent,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { checkFresh, parseJson, rejectCallback } from '../callbackChecks';
import { feishuCard } from './feishuCard';

const APPROVAL_EVENT_TYPES = new Set(['approval_instance', 'approval_task']);

const encryptedSchema = z.object({ encrypt: z.string().min(1) });
const urlVerificationSchema = z.object({
  type: z.literal('url_verification'),
  challenge: z.string(),
  token: z.string(),
});
const v1EventSchema = z.object({
  uuid: z.string().min(1),
  token: z.string(),
  ts: z.string().optional(),
  type: z.literal('event_callback'),
  event: z.looseObject({
    type: z.string(),
    instance_code: z.string().optional(),
  }),
});
const v2EventSchema = z.object({
  schema: z.literal('2.0'),
  header: z.looseObject({ event_id: z.string(), token: z.string() }),
});

const ACK = { status: 200, contentType: 'application/json', body: '{}' };

/** The instance a v1 approval event is about (deduplicated on the event's uuid); undefined for other events. */
export function feishuApprovalEvent(
  uuid: string,
  event: { type: string; instance_code?: string },
): ImEvent | undefined {
  return APPROVAL_EVENT_TYPES.has(event.type) && event.instance_code
    ? { eventId: uuid, instanceId: event.instance_code }
    : undefined;
}

function header(request: ImCallbackRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function checkToken(verificationToken: string, token: string) {
  if (!safeEqual(verificationToken, token))
    rejectCallback(401, 'verification token does not match');
}

/**
 * Opens a Feishu/Lark callback (events and card actions alike): decryption under the Encrypt Key,
 * `X-Lark-Signature` over the exact raw body, a freshness window; the URL handshake's token.
 * An integration without an Encrypt Key takes no callbacks: Feishu would send them in plain JSON,
 * unsigned, carrying only the verification token, which proves nothing about the sender.
 */
function openCallback(
  request: ImCallbackRequest,
  integration: FeishuIntegration,
  options: { now: Date; maxAgeSeconds: number },
): { challenge: string } | { payload: unknown; verificationToken: string } {
  if (request.method !== 'POST')
    rejectCallback(400, 'Feishu callbacks are POST requests');
  const { encryptKey, verificationToken } = integration;
  if (!encryptKey || !verificationToken) {
    rejectCallback(
      400,
      `Feishu integration "${integration.id}" takes no HTTP callbacks (connection mode ${integration.connectionMode}, no ${encryptKey ? 'Verification Token' : 'Encrypt Key'})`,
    );
  }
  const outer = parseJson(request.rawBody.toString('utf8'), 'body');
  const encrypted = encryptedSchema.safeParse(outer);
  if (!encrypted.success)
    rejectCallback(
      400,
      'expected an encrypted body {"encrypt": …} (the integration has an Encrypt Key)',
    );
  let payload: unknown;
  try {
    // AES-CBC checks nothing but the padding: under another key it holds about once in 256
    // tries and yields noise, so text that is not JSON did not decrypt either.
    payload = JSON.parse(feishuDecrypt(encryptKey, encrypted.data.encrypt));
  } catch {
    return rejectCallback(
      401,
      'the body does not decrypt with the configured Encrypt Key',
    );
  }

  // The URL handshake carries no signature: decrypting it and its token prove the sender.
  const handshake = urlVerificationSchema.safeParse(payload);
  if (handshake.success) {
    checkToken(verificationToken, handshake.data.token);
    return { challenge: handshake.data.challenge };
  }

  const timestamp = header(request, 'x-lark-request-timestamp');
  const nonce = header(request, 'x-lark-request-nonce');
  const signature = header(request, 'x-lark-signature');
  if (!timestamp || !nonce || !signature)
    rejectCallback(
      401,
      'missing X-Lark-Request-Timestamp, X-Lark-Request-Nonce or X-Lark-Signature',
    );
  if (
    !safeEqual(
      feishuSignature(timestamp, nonce, encryptKey, request.rawBody),
      signature,
    )
  ) {
    rejectCallback(401, 'X-Lark-Signature does not match the body');
  }
  checkFresh(Number(timestamp) * 1000, options.now, options.maxAgeSeconds);

  return { payload, verificationToken };
}

const challenged = ({ challenge }: { challenge: string }) => ({
  ...ACK,
  body: JSON.stringify({ challenge }),
});

/**
 * Verifies a Feishu/Lark event callback (see openCallback) and the Verification Token in it.
 * Returns the approval events in it; anything else is acknowledged and ignored.
 */
export function parseFeishuCallback(
  request: ImCallbackRequest,
  integration: FeishuIntegration,
  options: { now: Date; maxAgeSeconds: number },
): ImCallbackResult {
  const opened = openCallback(request, integration, options);
  if ('challenge' in opened) return { reply: challenged(opened), events: [] };
  const { payload, verificationToken } = opened;
  const v1 = v1EventSchema.safeParse(payload);
  if (v1.success) {
    // Freshness is the signed header timestamp's: the body's `ts` is the event's, and Feishu
    // redelivers the same body hours later (freshly signed), which must not be refused as stale.
    checkToken(verificationToken, v1.data.token);
    const event = feishuApprovalEvent(v1.data.uuid, v1.data.event);
    return { reply: ACK, events: event ? [event] : [] };
  }

  const v2 = v2EventSchema.safeParse(payload);
  if (v2.success) {
    checkToken(verificationToken, v2.data.header.token);
    return { reply: ACK, events: [] };
  }
  return rejectCallback(400, 'not a Feishu event callback');
}

const cardActionSchema = z.object({
  schema: z.literal('2.0'),
  header: z.looseObject({
    event_id: z.string().min(1),
    token: z.string(),
    event_type: z.literal('card.action.trigger'),
  }),
  event: z.looseObject({
    operator: z.looseObject({ open_id: z.string().min(1) }),
    action: z.looseObject({
      value: z.looseObject({
        approvalId: z.string().min(1),
        action: z.enum(['approve', 'reject']),
      }),
      form_value: z.record(z.string(), z.unknown()).optional(),
    }),
    context: z.looseObject({ open_chat_id: z.string().optional() }).optional(),
  }),
});

const TOASTS = { success: 'success', info: 'info', error: 'error' } as const;

/**
 * Verifies a click on one of the backend's cards: a `card.action.trigger` callback, opened and
 * checked as events are, whose button names the approval and the decision. The answer is what
 * Feishu expects within 3 s: a toast for the clicker and the card as it now is, for everyone.
 */
export function parseFeishuCardCallback(
  request: ImCallbackRequest,
  integration: FeishuIntegration,
  options: { now: Date; maxAgeSeconds: number },
): ImCardCallback {
  const opened = openCallback(request, integration, options);
  if ('challenge' in opened) return { reply: () => challenged(opened) };
  const action = cardActionSchema.safeParse(opened.payload);
  if (!action.success)
    return rejectCallback(
      400,
      "not a click on one of this backend's approval cards (card.action.trigger with an approvalId and approve or reject)",
    );
  checkToken(opened.verificationToken, action.data.header.token);
  const { operator, action: clicked, context } = action.data.event;
  const comment = clicked.form_value?.comment;
  return {
    click: {
      eventId: action.data.header.event_id,
      approvalId: clicked.value.approvalId,
      action: clicked.value.action,
      userId: operator.open_id,
      ...(context?.open_chat_id && { chatId: context.open_chat_id }),
      ...(typeof comment === 'string' &&
        comment.trim() && { comment: comment.trim() }),
    },
    reply: answer => ({
      ...ACK,
      body: JSON.stringify({
        ...(answer && {
          toast: {
            type: TOASTS[answer.toast.kind],
            content: answer.toast.text,
          },
        }),
        ...(answer?.card && {
          card: { type: 'raw', data: feishuCard(answer.card) },
        }),
      }),
    }),
  };
}
