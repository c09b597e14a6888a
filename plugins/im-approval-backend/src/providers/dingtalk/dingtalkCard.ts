import type {
  ImCard,
  ImCardAnswer,
  ImCardClick,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { CARD_STATE_WORDS, cardTitle } from '../cardText';

/**
 * DingTalk's group chat cards are made from a template built in the card platform's designer
 * (the README lists what it holds): the backend fills its variables, all strings.
 */
export const DINGTALK_CARD_VARIABLES = [
  'approvalId',
  'title',
  'status',
  'details',
  'waitingOn',
  'outcome',
  'comment',
  'decidable',
  'instanceUrl',
  'approvalUrl',
] as const;
/** The variable only the clicker sees: what became of their click. */
export const DINGTALK_CARD_NOTICE = 'notice';
export const DINGTALK_CARD_TOPIC = '/v1.0/card/instances/callback';

const OUT_TRACK_PREFIX = 'im-approval-';
/** The card's id in DingTalk (its outTrackId): one card per approval. */
export const dingtalkOutTrackId = (approvalId: string) =>
  `${OUT_TRACK_PREFIX}${approvalId}`;

/** The template's variables for an approval as its card shows it. Text is shown as written. */
export function dingtalkCardData(
  card: ImCard,
): Record<(typeof DINGTALK_CARD_VARIABLES)[number], string> {
  const pending = card.state === 'pending';
  return {
    approvalId: card.approvalId,
    title: cardTitle(card),
    status: CARD_STATE_WORDS[card.state],
    details: [...card.context, ...card.fields]
      .map(line => `${line.label}: ${line.value}`)
      .join('\n'),
    waitingOn: pending ? card.waitingOn.join(', ') : '',
    outcome: card.outcome ?? '',
    comment: card.comment ?? '',
    decidable: String(pending),
    instanceUrl: card.instanceUrl ?? '',
    approvalUrl: card.approvalUrl ?? '',
  };
}

/** What goes back to DingTalk for a click: the card for everyone, and what became of it for the clicker. */
export function dingtalkCardAnswer(answer?: ImCardAnswer): object {
  if (!answer) return {};
  return {
    cardUpdateOptions: {
      updateCardDataByKey: false,
      updatePrivateDataByKey: true,
    },
    ...(answer.card && {
      cardData: { cardParamMap: dingtalkCardData(answer.card) },
    }),
    userPrivateData: {
      cardParamMap: { [DINGTALK_CARD_NOTICE]: answer.toast.text },
    },
  };
}

const cardCallbackSchema = z.looseObject({
  outTrackId: z.string().startsWith(OUT_TRACK_PREFIX),
  userId: z.string().min(1),
  spaceType: z.string().optional(),
  spaceId: z.string().optional(),
  content: z.string(),
});
const contentSchema = z.object({
  cardPrivateData: z.looseObject({
    actionIds: z.array(z.string()).min(1),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
});
function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const ACTIONS = { approve: 'approve', reject: 'reject' } as const;

/**
 * A click on one of the backend's cards, from the card callback topic's data: the card names the
 * approval, the button's actionId the decision, the template's input the comment. Undefined for
 * anything else (another app's card, a button that is not Approve or Reject).
 */
export function parseDingtalkCardClick(
  data: string,
  messageId: string,
): ImCardClick | undefined {
  const callback = cardCallbackSchema.safeParse(jsonOrUndefined(data));
  if (!callback.success) return undefined;
  const clicked = contentSchema.safeParse(
    jsonOrUndefined(callback.data.content),
  );
  if (!clicked.success) return undefined;
  const [actionId = ''] = clicked.data.cardPrivateData.actionIds;
  const action = ACTIONS[actionId as keyof typeof ACTIONS];
  if (!action) return undefined;
  const comment = clicked.data.cardPrivateData.params?.comment;
  const { outTrackId, userId, spaceType, spaceId } = callback.data;
  return {
    eventId: messageId,
    approvalId: outTrackId.slice(OUT_TRACK_PREFIX.length),
    action,
    userId,
    ...(spaceType === 'IM_GROUP' && spaceId && { chatId: spaceId }),
    ...(typeof comment === 'string' &&
      comment.trim() && { comment: comment.trim() }),
  };
}
