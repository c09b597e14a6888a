import { randomBytes } from 'node:crypto';
import {
  feishuEncrypt,
  feishuSignatureHeaders,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { DecisionError } from '../flow/approvalFlow';
import { FEISHU_ANSWER_DEADLINE_MS, SANDBOX_TENANT_KEY } from './events';
import {
  cardButtons,
  parseCard,
  replaceCard,
  type FeishuCard,
} from './messages';
import type { FeishuState } from './state';

// A person clicking a button of a card in a group chat: Feishu sends the app's card request URL a
// card.action.trigger callback (a v2 event, encrypted and signed as events are), and replaces the
// card with the one the answer carries. The answer must come within 3 s.

export const cardClickSchema = z.strictObject({
  /** Who clicks: a member of the chat. */
  openId: z.string().min(1),
  /** The button's text, as the card shows it. */
  button: z.string().min(1),
  /** What the card's inputs hold, by their name (a form's values). */
  input: z.record(z.string(), z.string()).optional(),
});
export type CardClick = z.infer<typeof cardClickSchema>;

const answerSchema = z.looseObject({
  toast: z
    .object({
      type: z.enum(['success', 'info', 'warning', 'error']),
      content: z.string(),
    })
    .optional(),
  card: z.object({ type: z.literal('raw'), data: z.unknown() }).optional(),
});

export interface CardClickResult {
  /** The app's HTTP status. */
  status: number;
  /** What the clicker alone was shown. */
  toast?: { type: string; content: string };
  /** Whether the card was replaced with the answer's. */
  updated: boolean;
  /** Why Feishu showed the clicker an error instead (no answer in 3 s, not 200, not JSON). */
  error?: string;
}

/** Sends the click to the app that posted the card and applies its answer, as Feishu does. */
export async function clickCard(
  state: FeishuState,
  chatId: string,
  messageId: string,
  click: CardClick,
): Promise<CardClickResult> {
  const chat = state.chats.get(chatId);
  if (!chat) throw new DecisionError(404, `chat ${chatId} not found`);
  if (!chat.members.includes(click.openId))
    throw new DecisionError(
      409,
      `${click.openId} is not a member of chat ${chatId}`,
    );
  const message = state.chatMessages
    .get(chatId)
    ?.find(candidate => candidate.messageId === messageId);
  if (!message || message.msgType !== 'interactive')
    throw new DecisionError(404, `card ${messageId} not found in ${chatId}`);
  const buttons = cardButtons(message.content as FeishuCard);
  const button = buttons.find(candidate => candidate.text === click.button);
  if (!button)
    throw new DecisionError(
      404,
      `the card has no button "${click.button}"; it has: ${buttons.map(b => b.text).join(', ') || 'none'}`,
    );
  const app = state.apps.get(message.appId)!;
  if (!app.cardCallbackUrl)
    throw new DecisionError(
      409,
      `app ${app.appId} has no card request URL (PATCH /_sandbox/feishu/apps/${app.appId} {cardCallbackUrl})`,
    );
  const user = state.users.get(click.openId);
  const plaintext = JSON.stringify({
    schema: '2.0',
    header: {
      event_id: randomBytes(16).toString('hex'),
      token: app.verificationToken,
      create_time: String(Date.now()),
      event_type: 'card.action.trigger',
      tenant_key: SANDBOX_TENANT_KEY,
      app_id: app.appId,
    },
    event: {
      operator: {
        tenant_key: SANDBOX_TENANT_KEY,
        open_id: click.openId,
        ...(user && { user_id: user.userId }),
      },
      token: `c-${randomBytes(12).toString('hex')}`,
      action: {
        value: button.value,
        tag: 'button',
        // A form's submit button sends its inputs (empty ones too); a plain button sends none.
        ...(button.inputs && {
          form_value: Object.fromEntries(
            button.inputs.map(name => [name, click.input?.[name] ?? '']),
          ),
        }),
      },
      host: 'im_message',
      context: { open_message_id: messageId, open_chat_id: chatId },
    },
  });
  const body =
    app.encryptKey === undefined
      ? plaintext
      : JSON.stringify({ encrypt: feishuEncrypt(app.encryptKey, plaintext) });
  let response: Response;
  try {
    response = await fetch(app.cardCallbackUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(app.encryptKey === undefined
          ? {}
          : feishuSignatureHeaders(app.encryptKey, body)),
      },
      body,
      signal: AbortSignal.timeout(FEISHU_ANSWER_DEADLINE_MS),
    });
  } catch (error) {
    return {
      status: 0,
      updated: false,
      error: `no answer within ${FEISHU_ANSWER_DEADLINE_MS} ms: ${(error as Error).message}`,
    };
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const answer = answerSchema.safeParse(json);
  if (response.status !== 200 || !answer.success)
    return {
      status: response.status,
      updated: false,
      error: `the app answered HTTP ${response.status} ${text.slice(0, 200)}`,
    };
  const card = answer.data.card && parseCard(answer.data.card.data);
  if (card) replaceCard(message, card);
  return {
    status: response.status,
    ...(answer.data.toast && { toast: answer.data.toast }),
    updated: card !== undefined,
  };
}
