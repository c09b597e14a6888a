import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { FeishuApiError } from './errors';
import type { FeishuApp, FeishuUser } from './model';
import type { FeishuState } from './state';

// Messages from an app's bot (POST /open-apis/im/v1/messages): one recipient a call, the content a
// JSON string of its msg_type's shape, a uuid that sends at most once an hour, 50 calls a second
// and 1,000 a minute per app, 5 a second to one person.

export const FeishuMessageCode = {
  /** Any invalid parameter; msg ends with `ext=` saying which. */
  invalidParameter: 230001,
  /** The person is outside the app's availability range, or not in the tenant. */
  noAvailability: 230013,
  /** Too many messages: the app's, or one person's, frequency limit. */
  frequencyLimit: 230020,
  /** The app's bot is not in the group chat. */
  botNotInChat: 230002,
  /** The card could not be made from the content. */
  cardInvalid: 230099,
  /** The content is longer than its msg_type allows. */
  contentTooLong: 230025,
  /** The receive_id is not an id of receive_id_type. */
  receiveIdInvalid: 230034,
} as const;

const MESSAGE_LIMITS = {
  appPerSecond: 50,
  appPerMinute: 1000,
  recipientPerSecond: 5,
  /** Bytes of content: text 150 KB, post and cards 30 KB. */
  textBytes: 150 * 1024,
  richBytes: 30 * 1024,
  uuidWindowMs: 60 * 60 * 1000,
};

export const sendMessageQuerySchema = z.object({
  receive_id_type: z.enum([
    'open_id',
    'user_id',
    'union_id',
    'email',
    'chat_id',
  ]),
});

export const sendMessageBodySchema = z.object({
  receive_id: z.string().min(1),
  msg_type: z.string().min(1),
  content: z.string().min(1),
  uuid: z.string().max(50).optional(),
});

const postNodeSchema = z.discriminatedUnion('tag', [
  z
    .object({
      tag: z.literal('text'),
      text: z.string(),
      un_escape: z.boolean().optional(),
    })
    .loose(),
  z
    .object({
      tag: z.literal('a'),
      text: z.string(),
      href: z.url({ protocol: /^https?$/ }),
    })
    .loose(),
  z.object({ tag: z.literal('at'), user_id: z.string() }).loose(),
  z.object({ tag: z.literal('hr') }).loose(),
  z.object({ tag: z.literal('md'), text: z.string() }).loose(),
]);
const postLocaleSchema = z.object({
  title: z.string().optional(),
  content: z.array(z.array(postNodeSchema)).min(1),
});
const plainText = z.object({
  tag: z.literal('plain_text'),
  content: z.string(),
});
const buttonSchema = z.looseObject({
  tag: z.string(),
  text: plainText.optional(),
  value: z.record(z.string(), z.unknown()).optional(),
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** `form_submit`: the click carries the values of the form's inputs. */
  action_type: z.string().optional(),
  name: z.string().optional(),
});
/**
 * A message card (msg_type interactive): a header and elements; buttons sit in `action`
 * elements, or in a `form` with the inputs they submit.
 */
const cardSchema = z.looseObject({
  config: z.looseObject({ update_multi: z.boolean().optional() }).optional(),
  header: z
    .looseObject({
      title: z.object({ tag: z.literal('plain_text'), content: z.string() }),
      template: z.string().optional(),
    })
    .optional(),
  elements: z
    .array(
      z.looseObject({
        tag: z.string().min(1),
        text: z
          .object({
            tag: z.enum(['plain_text', 'lark_md']),
            content: z.string(),
          })
          .optional(),
        actions: z.array(buttonSchema).optional(),
        elements: z.array(buttonSchema).optional(),
      }),
    )
    .min(1),
});
export type FeishuCard = z.infer<typeof cardSchema>;

const CONTENT_SCHEMAS: Record<string, z.ZodType> = {
  interactive: cardSchema,
  text: z.object({ text: z.string().min(1) }),
  post: z
    .partialRecord(z.enum(['zh_cn', 'en_us', 'ja_jp']), postLocaleSchema)
    .refine(locales => Object.keys(locales).length > 0, 'expected a locale'),
};

export interface FeishuMessage {
  messageId: string;
  appId: string;
  /** A person's message: who got it. */
  openId?: string;
  /** A group chat's message: the chat. */
  chatId?: string;
  msgType: string;
  content: unknown;
  /** What the person reads: text nodes and link texts, a paragraph a line. */
  text: string;
  /** The links in it. */
  links: string[];
  uuid?: string;
  at: number;
}

const invalid = (ext: string) =>
  new FeishuApiError(
    FeishuMessageCode.invalidParameter,
    `Your request contains an invalid request parameter, ext=${ext}`,
  );

/** How each receive_id_type names a person this sandbox models. */
const RECIPIENT_IDS: Record<
  'open_id' | 'user_id' | 'email',
  {
    looksRight: (id: string) => boolean;
    matches: (user: FeishuUser, id: string) => boolean;
  }
> = {
  open_id: {
    looksRight: id => id.startsWith('ou_'),
    matches: (user, id) => user.openId === id,
  },
  user_id: {
    looksRight: () => true,
    matches: (user, id) => user.userId === id,
  },
  email: {
    looksRight: id => id.includes('@'),
    matches: (user, id) => user.email?.toLowerCase() === id.toLowerCase(),
  },
};

function recipient(
  state: FeishuState,
  type: z.infer<typeof sendMessageQuerySchema>['receive_id_type'],
  id: string,
): FeishuUser {
  if (type === 'chat_id' || type === 'union_id')
    throw invalid(`receive_id_type ${type}: no union ids in this sandbox`);
  const { looksRight, matches } = RECIPIENT_IDS[type];
  if (!looksRight(id))
    throw new FeishuApiError(
      FeishuMessageCode.receiveIdInvalid,
      'The receive_id is invalid.',
    );
  const user = [...state.users.values()].find(candidate =>
    matches(candidate, id),
  );
  if (!user)
    throw new FeishuApiError(
      FeishuMessageCode.noAvailability,
      'Bot has NO availability to this user.',
    );
  return user;
}

function readable(
  msgType: string,
  content: unknown,
  nameOf: (openId: string) => string,
): { text: string; links: string[] } {
  if (msgType === 'text')
    return { text: (content as { text: string }).text, links: [] };
  if (msgType === 'interactive') return readableCard(content as FeishuCard);
  const locales = Object.values(
    content as Record<string, z.infer<typeof postLocaleSchema>>,
  );
  const [first] = locales;
  const links: string[] = [];
  const lines = first.content.map(paragraph =>
    paragraph
      .map(node => {
        if (node.tag === 'a') links.push(node.href);
        // A mention reads as the person's name, as members see it.
        if (node.tag === 'at') return `@${nameOf(node.user_id)}`;
        return 'text' in node ? node.text : '';
      })
      .join(''),
  );
  return { text: lines.join('\n'), links };
}

/** A card as people read it: the title, each element's text and each button's, a line each. */
function readableCard(card: FeishuCard): { text: string; links: string[] } {
  const links: string[] = [];
  const lines = [card.header?.title.content ?? ''];
  for (const element of card.elements) {
    if (element.text) lines.push(element.text.content);
    for (const action of [
      ...(element.actions ?? []),
      ...(element.elements ?? []),
    ]) {
      if (action.url) links.push(action.url);
      if (action.text) lines.push(`[${action.text.content}]`);
      if (action.tag === 'input') lines.push(`[${action.name ?? 'input'} …]`);
    }
  }
  return { text: lines.filter(Boolean).join('\n'), links };
}

/** The card `value` is, or undefined when it is not one. */
export function parseCard(value: unknown): FeishuCard | undefined {
  const card = cardSchema.safeParse(value);
  return card.success ? card.data : undefined;
}

/** Shows everyone in the chat `card` in place of the message's. */
export function replaceCard(message: FeishuMessage, card: FeishuCard): void {
  message.content = card;
  Object.assign(message, readableCard(card));
}

/** The buttons of a card that call back (those with a value), by their text. */
export function cardButtons(card: FeishuCard): Array<{
  text: string;
  value: Record<string, unknown>;
  /** The names of the inputs a form's submit button sends; none for a plain button. */
  inputs?: string[];
}> {
  return card.elements.flatMap(element => {
    const inForm = element.tag === 'form';
    const inputs = (element.elements ?? [])
      .filter(child => child.tag === 'input' && child.name)
      .map(child => child.name!);
    return [...(element.actions ?? []), ...(element.elements ?? [])].flatMap(
      action =>
        action.tag === 'button' && action.value && action.text
          ? [
              {
                text: action.text.content,
                value: action.value,
                ...(inForm &&
                  action.action_type === 'form_submit' && { inputs }),
              },
            ]
          : [],
    );
  });
}

/** Where a message goes: a person, or a group chat the app's bot is in. */
function destination(
  state: FeishuState,
  app: FeishuApp,
  query: z.infer<typeof sendMessageQuerySchema>,
  id: string,
): { user: FeishuUser } | { chatId: string } {
  if (query.receive_id_type !== 'chat_id')
    return { user: recipient(state, query.receive_id_type, id) };
  const chat = state.chats.get(id);
  if (!chat)
    throw new FeishuApiError(
      FeishuMessageCode.receiveIdInvalid,
      'The receive_id is invalid.',
    );
  if (!chat.bots.includes(app.appId))
    throw new FeishuApiError(
      FeishuMessageCode.botNotInChat,
      'Bot can NOT be out of the chat.',
    );
  return { chatId: chat.chatId };
}

/**
 * Replaces a card the app sent (PATCH im/v1/messages/:message_id): only cards, only the sender's,
 * and a card in a group chat only if it is shared (`config.update_multi`), so everyone sees the update.
 */
export function updateFeishuMessage(
  state: FeishuState,
  app: FeishuApp,
  messageId: string,
  contentText: string,
): FeishuMessage {
  const message = [...state.chatMessages.values(), ...state.messages.values()]
    .flat()
    .find(candidate => candidate.messageId === messageId);
  if (!message) throw invalid(`message_id ${messageId} not found`);
  if (message.appId !== app.appId)
    throw invalid(`message ${messageId} was not sent by app ${app.appId}`);
  if (message.msgType !== 'interactive')
    throw invalid('only a card (msg_type interactive) can be updated');
  let parsed: unknown;
  try {
    parsed = JSON.parse(contentText);
  } catch {
    throw invalid('content is not a JSON string');
  }
  const card = cardSchema.safeParse(parsed);
  if (!card.success)
    throw invalid(
      `content: ${card.error.issues.map(issue => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  if (message.chatId && !card.data.config?.update_multi)
    throw new FeishuApiError(
      FeishuMessageCode.cardInvalid,
      'Failed to create card content, ext=a card in a chat must set config.update_multi: true to be updated for everyone',
    );
  replaceCard(message, card.data);
  return message;
}

/** Sends one message as Feishu does, or throws the refusal Feishu answers; answers the message. */
export function sendFeishuMessage(
  state: FeishuState,
  app: FeishuApp,
  query: z.infer<typeof sendMessageQuerySchema>,
  body: z.infer<typeof sendMessageBodySchema>,
  now: number,
): FeishuMessage {
  const to = destination(state, app, query, body.receive_id);
  if (body.uuid) {
    const earlier = [...state.messages.values(), ...state.chatMessages.values()]
      .flat()
      .find(
        message =>
          message.appId === app.appId &&
          message.uuid === body.uuid &&
          message.at > now - MESSAGE_LIMITS.uuidWindowMs,
      );
    if (earlier) return earlier;
  }
  const schema = CONTENT_SCHEMAS[body.msg_type];
  if (!schema)
    throw invalid(`msg_type ${body.msg_type} is not sent by this sandbox`);
  const limit =
    body.msg_type === 'text'
      ? MESSAGE_LIMITS.textBytes
      : MESSAGE_LIMITS.richBytes;
  if (Buffer.byteLength(body.content) > limit)
    throw new FeishuApiError(
      FeishuMessageCode.contentTooLong,
      'The length of the message content reaches its limit.',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.content);
  } catch {
    throw invalid('content is not a JSON string');
  }
  const content = schema.safeParse(parsed);
  if (!content.success)
    throw invalid(
      `content of msg_type ${body.msg_type}: ${content.error.issues
        .map(issue => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}`,
    );
  const rates = state.messageRates;
  if (
    !rates.take(app.appId, now, [
      [1000, MESSAGE_LIMITS.appPerSecond],
      [60_000, MESSAGE_LIMITS.appPerMinute],
    ]) ||
    !rates.take(
      `${app.appId} ${'user' in to ? to.user.openId : to.chatId}`,
      now,
      [[1000, MESSAGE_LIMITS.recipientPerSecond]],
    )
  )
    throw new FeishuApiError(
      FeishuMessageCode.frequencyLimit,
      'This operation triggers the frequency limit.',
    );
  const message: FeishuMessage = {
    messageId: `om_${randomBytes(16).toString('hex')}`,
    appId: app.appId,
    ...('user' in to ? { openId: to.user.openId } : { chatId: to.chatId }),
    msgType: body.msg_type,
    content: content.data,
    ...readable(
      body.msg_type,
      content.data,
      openId => state.users.get(openId)?.name ?? openId,
    ),
    ...(body.uuid && { uuid: body.uuid }),
    at: now,
  };
  const [table, key] =
    'user' in to
      ? [state.messages, to.user.openId]
      : [state.chatMessages, to.chatId];
  table.set(key, [...(table.get(key) ?? []), message]);
  return message;
}
