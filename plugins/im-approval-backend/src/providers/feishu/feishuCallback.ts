import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import {
  feishuDecrypt,
  feishuSignature,
  safeEqual,
  type ImCallbackRequest,
  type ImCallbackResult,
  type ImEvent,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { checkFresh, parseJson, rejectCallback } from '../callbackChecks';

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
 * Verifies a Feishu/Lark event callback: decryption under the Encrypt Key, `X-Lark-Signature`
 * over the exact raw body, a freshness window, and the Verification Token. Returns the approval
 * events in it; anything else is acknowledged and ignored. An integration without an Encrypt Key
 * takes no callbacks: Feishu would send them in plain JSON, unsigned, carrying only the
 * verification token, which proves nothing about the sender.
 */
export function parseFeishuCallback(
  request: ImCallbackRequest,
  integration: FeishuIntegration,
  options: { now: Date; maxAgeSeconds: number },
): ImCallbackResult {
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
    return {
      reply: {
        ...ACK,
        body: JSON.stringify({ challenge: handshake.data.challenge }),
      },
      events: [],
    };
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
