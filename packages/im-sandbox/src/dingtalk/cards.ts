import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DecisionError } from '../flow/approvalFlow';
import { DingtalkApiError, invalidParameter } from './errors';
import type { DingtalkStream } from './stream';
import type {
  DingtalkCard,
  DingtalkCardTemplate,
  DingtalkState,
} from './state';

// Interactive cards (互动卡片) in group chats. An app's robot delivers a card made from a template
// of the card platform (POST /v1.0/card/instances/createAndDeliver) and replaces its data for
// everyone (PUT /v1.0/card/instances). A member's click on a callback button reaches the app over
// its Stream connection (CALLBACK, topic /v1.0/card/instances/callback); the app must answer
// within 2 s: the answer's cardData changes the card for everyone, its userPrivateData what the
// clicker alone sees.

export const DINGTALK_CARD_TOPIC = '/v1.0/card/instances/callback';
export const DINGTALK_CARD_ANSWER_DEADLINE_MS = 2_000;

/** Template variables are strings: a card's data is a Map<String, String>. */
const paramMapSchema = z.record(z.string(), z.string());
const cardDataSchema = z.object({ cardParamMap: paramMapSchema });
const GROUP_SPACE = /^dtv1\.card\/\/IM_GROUP\.(.+)$/;

export const createAndDeliverSchema = z.object({
  cardTemplateId: z.string().min(1),
  outTrackId: z.string().min(1).max(128),
  callbackType: z.enum(['STREAM', 'HTTP']).default('STREAM'),
  callbackRouteKey: z.string().min(1).optional(),
  cardData: cardDataSchema,
  /** Data only these users see, by user id. */
  privateData: z.record(z.string(), cardDataSchema).optional(),
  openSpaceId: z
    .string()
    .regex(GROUP_SPACE, 'expected dtv1.card//IM_GROUP.<openConversationId>'),
  imGroupOpenSpaceModel: z
    .looseObject({ supportForward: z.boolean().optional() })
    .optional(),
  imGroupOpenDeliverModel: z.looseObject({
    robotCode: z.string().min(1),
    atUserIds: z.record(z.string(), z.string()).optional(),
    recipients: z.array(z.string()).optional(),
  }),
  userIdType: z.literal(1).default(1),
});
export type CreateAndDeliverRequest = z.infer<typeof createAndDeliverSchema>;

export const updateCardSchema = z.object({
  outTrackId: z.string().min(1),
  cardData: cardDataSchema.optional(),
  privateData: z.record(z.string(), cardDataSchema).optional(),
  cardUpdateOptions: z
    .object({
      updateCardDataByKey: z.boolean().optional(),
      updatePrivateDataByKey: z.boolean().optional(),
    })
    .optional(),
  userIdType: z.literal(1).default(1),
});
export type UpdateCardRequest = z.infer<typeof updateCardSchema>;

/** The card's data as the template declares it: keys it does not declare are dropped, as DingTalk does. */
const declared = (
  template: DingtalkCardTemplate,
  map: Record<string, string>,
) =>
  Object.fromEntries(
    Object.entries(map).filter(([key]) => template.variables.includes(key)),
  );

export function deliverCard(
  state: DingtalkState,
  appKey: string,
  request: CreateAndDeliverRequest,
  now: number,
): DingtalkCard {
  const template = state.cardTemplates.get(request.cardTemplateId);
  if (!template)
    throw new DingtalkApiError(
      400,
      'param.templateUnpublished',
      'param.templateUnpublished',
    );
  if (state.cards.has(request.outTrackId))
    throw new DingtalkApiError(
      400,
      'param.outTrackId.duplicate',
      `outTrackId ${request.outTrackId} is already used by a card`,
    );
  if (request.callbackType === 'HTTP' && !request.callbackRouteKey)
    throw invalidParameter('callbackRouteKey is required for HTTP callbacks');
  if (request.imGroupOpenDeliverModel.robotCode !== appKey)
    throw invalidParameter(
      `imGroupOpenDeliverModel.robotCode ${request.imGroupOpenDeliverModel.robotCode} is not this app's robot`,
    );
  const chatId = GROUP_SPACE.exec(request.openSpaceId)![1];
  const chat = state.chats.get(chatId);
  if (!chat)
    throw invalidParameter(`openSpaceId: group ${chatId} does not exist`);
  if (!chat.robots.includes(appKey))
    throw new DingtalkApiError(
      400,
      'robot.not.in.group',
      `the robot of app ${appKey} is not in group ${chatId}`,
    );
  const card: DingtalkCard = {
    outTrackId: request.outTrackId,
    appKey,
    templateId: template.templateId,
    chatId,
    data: declared(template, request.cardData.cardParamMap),
    privateData: Object.fromEntries(
      Object.entries(request.privateData ?? {}).map(([userId, data]) => [
        userId,
        declared(template, data.cardParamMap),
      ]),
    ),
    callbackType: request.callbackType,
    createdAt: now,
  };
  state.cards.set(card.outTrackId, card);
  return card;
}

export function updateCard(
  state: DingtalkState,
  appKey: string,
  request: UpdateCardRequest,
): DingtalkCard {
  const card = state.cards.get(request.outTrackId);
  if (!card || card.appKey !== appKey)
    throw new DingtalkApiError(
      400,
      'param.outTrackId.invalid',
      `no card has outTrackId ${request.outTrackId}`,
    );
  applyCardData(state, card, request);
  return card;
}

/** New data for a card: by key where the options say so, else replacing what was there. */
function applyCardData(
  state: DingtalkState,
  card: DingtalkCard,
  update: {
    cardData?: { cardParamMap: Record<string, string> };
    privateData?: Record<string, { cardParamMap: Record<string, string> }>;
    cardUpdateOptions?: {
      updateCardDataByKey?: boolean;
      updatePrivateDataByKey?: boolean;
    };
  },
) {
  const template = state.cardTemplates.get(card.templateId)!;
  const options = update.cardUpdateOptions;
  if (update.cardData) {
    const data = declared(template, update.cardData.cardParamMap);
    card.data = options?.updateCardDataByKey ? { ...card.data, ...data } : data;
  }
  for (const [userId, data] of Object.entries(update.privateData ?? {})) {
    const values = declared(template, data.cardParamMap);
    card.privateData[userId] = options?.updatePrivateDataByKey
      ? { ...card.privateData[userId], ...values }
      : values;
  }
}

/** The card as one person sees it: the shared data with theirs over it. */
export function cardSeenBy(
  state: DingtalkState,
  card: DingtalkCard,
  userId?: string,
) {
  const template = state.cardTemplates.get(card.templateId)!;
  const data = {
    ...card.data,
    ...(userId === undefined ? {} : card.privateData[userId]),
  };
  const fill = (text: string) =>
    text.replace(/\$\{(\w+)\}/g, (_, name: string) => data[name] ?? '');
  // A line whose variables are all empty is not shown, as a designer's "show when" does.
  const lines = template.lines
    .filter(line =>
      [...line.matchAll(/\$\{(\w+)\}/g)].some(([, name]) => data[name!]),
    )
    .map(fill);
  const buttons = template.buttons
    .filter(button => !button.shownWhen || data[button.shownWhen] === 'true')
    .map(button => ({
      actionId: button.actionId,
      text: button.text,
      params: Object.fromEntries(
        Object.entries(button.params ?? {}).map(([key, value]) => [
          key,
          fill(value),
        ]),
      ),
    }));
  return {
    lines,
    buttons,
    input: buttons.length > 0 ? template.input : undefined,
  };
}

export const cardClickSchema = z.strictObject({
  /** Who clicks: a member of the group. */
  userId: z.string().min(1),
  /** The button's text, as the card shows it. */
  button: z.string().min(1),
  /** The card's input, when the template has one. */
  input: z.string().optional(),
});
export type CardClick = z.infer<typeof cardClickSchema>;

/** What the app answers to a card callback, within `response`. */
const answerSchema = z.object({
  response: z
    .looseObject({
      cardData: cardDataSchema.optional(),
      userPrivateData: cardDataSchema.optional(),
      cardUpdateOptions: z
        .object({
          updateCardDataByKey: z.boolean().optional(),
          updatePrivateDataByKey: z.boolean().optional(),
        })
        .optional(),
    })
    .optional(),
});

export interface CardClickResult {
  /** Whether the app answered within the deadline. */
  answered: boolean;
  /** The card as the clicker now sees it (their private data applied). */
  seen: string[];
  /** Why DingTalk showed the clicker an error instead. */
  error?: string;
}

/** Sends the click to the app over its Stream connection and applies its answer, as DingTalk does. */
export async function clickCard(
  state: DingtalkState,
  stream: DingtalkStream,
  chatId: string,
  outTrackId: string,
  click: CardClick,
): Promise<CardClickResult> {
  const chat = state.chats.get(chatId);
  if (!chat) throw new DecisionError(404, `group ${chatId} not found`);
  if (!chat.members.includes(click.userId))
    throw new DecisionError(
      409,
      `${click.userId} is not a member of group ${chatId}`,
    );
  const card = state.cards.get(outTrackId);
  if (!card || card.chatId !== chatId)
    throw new DecisionError(404, `card ${outTrackId} not found in ${chatId}`);
  const view = cardSeenBy(state, card, click.userId);
  const button = view.buttons.find(
    candidate => candidate.text === click.button,
  );
  if (!button)
    throw new DecisionError(
      404,
      `the card has no button "${click.button}"; it has: ${view.buttons.map(b => b.text).join(', ') || 'none'}`,
    );
  if (card.callbackType !== 'STREAM')
    throw new DecisionError(
      409,
      'the sandbox delivers card callbacks over Stream only',
    );
  const params = {
    ...button.params,
    ...(view.input && { [view.input]: click.input ?? '' }),
  };
  const data = {
    outTrackId,
    corpId: state.corpId,
    userId: click.userId,
    userIdType: 1,
    spaceType: 'IM_GROUP',
    spaceId: chatId,
    type: 'actionCallback',
    content: JSON.stringify({
      cardPrivateData: { actionIds: [button.actionId], params },
    }),
    extension: '{}',
    value: randomBytes(8).toString('hex'),
  };
  const seen = () => cardSeenBy(state, card, click.userId).lines;
  let raw: string;
  try {
    raw = await stream.callback(
      card.appKey,
      DINGTALK_CARD_TOPIC,
      JSON.stringify(data),
      DINGTALK_CARD_ANSWER_DEADLINE_MS,
    );
  } catch (error) {
    return { answered: false, seen: seen(), error: (error as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const answer = answerSchema.safeParse(parsed);
  if (!answer.success)
    return {
      answered: true,
      seen: seen(),
      error: `the app answered ${raw.slice(0, 200)}, not {"response": …}`,
    };
  const { userPrivateData, ...response } = answer.data.response ?? {};
  applyCardData(state, card, {
    ...response,
    ...(userPrivateData && {
      privateData: { [click.userId]: userPrivateData },
    }),
  });
  return { answered: true, seen: seen() };
}
