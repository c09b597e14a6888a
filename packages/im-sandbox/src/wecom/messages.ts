import { z } from 'zod';
import { WecomApiError } from './errors';
import type { WecomApp, WecomState } from './state';

// App messages (应用消息, POST /cgi-bin/message/send): to up to 1,000 members a call, as the app.
// Members WeCom cannot reach come back in invaliduser; none reachable is 81013. Over a member's
// 30 a minute or 1,000 an hour from one app, WeCom drops the message without an error.

export const WecomMessageCode = {
  /** Every named member, party and tag is invalid or outside the app's visible range. */
  allInvalid: 81013,
  /** No member, party or tag named at all. */
  noneNamed: 82001,
  /** More than 1,000 members. */
  tooManyUsers: 40032,
  /** A text message with no content. */
  emptyContent: 44004,
  /** The token belongs to another app than agentid. */
  wrongAgent: 301002,
  /** A msgtype WeCom does not know (or this sandbox does not deliver). */
  invalidMsgType: 40008,
  /** A field of the wrong shape: the msgtype's own object missing (the sandbox's best knowledge). */
  invalidParameter: 40058,
} as const;

const MAX_USERS = 1000;
const TEXT_BYTES = 2048;
/** A textcard's title and description, cut where WeCom cuts them. */
const CARD_TITLE_BYTES = 128;
const CARD_DESCRIPTION_BYTES = 512;
const PER_MEMBER: Array<[number, number]> = [
  [60_000, 30],
  [3_600_000, 1000],
];

export const sendWecomMessageSchema = z.object({
  touser: z.string().optional(),
  toparty: z.string().optional(),
  totag: z.string().optional(),
  msgtype: z.string().min(1),
  agentid: z.number().int(),
  text: z.object({ content: z.string() }).optional(),
  textcard: z
    .object({
      title: z.string().min(1),
      description: z.string().min(1),
      url: z.url({ protocol: /^https?$/ }),
      /** The button's text: at most 4 characters. */
      btntxt: z.string().max(4).optional(),
    })
    .optional(),
});
export type SendWecomMessage = z.infer<typeof sendWecomMessageSchema>;

export interface WecomMessage {
  msgId: string;
  agentId: number;
  userId: string;
  msgType: string;
  /** As the member reads it: text content, cut at 2,048 bytes as WeCom cuts it. */
  content: string;
  at: number;
}

/** Cuts UTF-8 text to `bytes`, never in the middle of a character. */
function cut(text: string, bytes: number): string {
  const buffer = Buffer.from(text);
  if (buffer.length <= bytes) return text;
  return buffer
    .subarray(0, bytes)
    .toString()
    .replace(/\uFFFD$/, '');
}

/** What the message reads as, or WeCom's refusal of its content. */
export function messageContent(
  request: Pick<SendWecomMessage, 'msgtype' | 'text' | 'textcard'>,
): string {
  if (request.msgtype === 'text' && request.text) {
    if (request.text.content === '')
      throw new WecomApiError(WecomMessageCode.emptyContent, 'empty content');
    return cut(request.text.content, TEXT_BYTES);
  }
  if (request.msgtype === 'textcard' && request.textcard) {
    const card = request.textcard;
    return `${cut(card.title, CARD_TITLE_BYTES)}\n${readable(cut(card.description, CARD_DESCRIPTION_BYTES))}\n${card.url}`;
  }
  if (request.msgtype === 'text' || request.msgtype === 'textcard')
    throw new WecomApiError(
      WecomMessageCode.invalidParameter,
      `invalid parameter: msgtype ${request.msgtype} needs its ${request.msgtype} object`,
    );
  throw new WecomApiError(
    WecomMessageCode.invalidMsgType,
    `invalid message type ${request.msgtype} (this sandbox delivers text and textcard)`,
  );
}

/**
 * A textcard description as a member reads it: its <div> lines (gray, normal, highlight) on lines
 * of their own, other tags dropped, entities read; so text that was not escaped loses its markup.
 */
function readable(description: string): string {
  return description
    .replace(/<\/div>\s*/g, '\n')
    .replace(/<br\s*\/?>/g, '\n')
    .replace(/<[^>]*>/g, '')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .trimEnd();
}

/** Sends as WeCom does, or throws its refusal; answers what WeCom answers. */
export function sendWecomMessage(
  state: WecomState,
  app: WecomApp,
  request: SendWecomMessage,
  now: number,
) {
  if (request.agentid !== app.agentId)
    throw new WecomApiError(
      WecomMessageCode.wrongAgent,
      `api forbidden: the access_token is not agentid ${request.agentid}'s`,
    );
  const users = (request.touser ?? '').split('|').filter(Boolean);
  if (users.length === 0 && !request.toparty && !request.totag)
    throw new WecomApiError(
      WecomMessageCode.noneNamed,
      'All touser & toparty & totag invalid',
    );
  if (users.length > MAX_USERS)
    throw new WecomApiError(
      WecomMessageCode.tooManyUsers,
      'invalid userid list size',
    );
  const content = messageContent(request);
  const known = users.filter(user => state.users.has(user));
  const invalid = users.filter(user => !state.users.has(user));
  if (known.length === 0)
    throw new WecomApiError(
      WecomMessageCode.allInvalid,
      'user & party & tag all invalid',
    );
  const msgId = state.nextMessageId();
  for (const userId of known) {
    if (!state.messageRates.take(`${app.agentId} ${userId}`, now, PER_MEMBER))
      continue;
    const received = state.messages.get(userId) ?? [];
    received.push({
      msgId,
      agentId: app.agentId,
      userId,
      msgType: request.msgtype,
      content,
      at: now,
    });
    state.messages.set(userId, received);
  }
  return {
    invaliduser: invalid.join('|'),
    invalidparty: '',
    invalidtag: '',
    unlicenseduser: '',
    msgid: msgId,
  };
}
