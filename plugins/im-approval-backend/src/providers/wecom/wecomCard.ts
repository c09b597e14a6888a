import type { ImCard } from '@im-approval/plugin-im-approval-node';
import { cardTitle } from '../cardText';
import { cutToBytes, escapeHtml } from './wecomText';

/** What a textcard holds at most ("title 不超过128个字节", "description 不超过512个字节"). */
const TITLE_BYTES = 128;
const DESCRIPTION_BYTES = 512;
/** WeCom cannot decide from a group chat: the card says so, and links to the request. */
export const WECOM_CARD_NOTE =
  'Approve or reject in WeCom: a group chat cannot decide. Open the request.';

const line = (kind: 'gray' | 'normal' | 'highlight', text: string) =>
  `<div class="${kind}">${escapeHtml(text)}</div>`;

/**
 * An approval as a WeCom textcard in an app's group chat: who it waits on, the context and form,
 * and that the request is decided in WeCom, under its link. Lines that would not fit in the
 * description's 512 bytes are left out from the end, never the note.
 */
export function wecomTextcard(card: ImCard, url: string) {
  const note = line('highlight', WECOM_CARD_NOTE);
  const lines = [
    line('normal', `Waiting on: ${card.waitingOn.join(', ')}`),
    ...card.context.map(item => line('gray', `${item.label}: ${item.value}`)),
    ...card.fields.map(field =>
      line('normal', `${field.label}: ${field.value}`),
    ),
  ];
  let description = '';
  for (const next of lines) {
    if (Buffer.byteLength(`${description}${next}${note}`) > DESCRIPTION_BYTES)
      break;
    description += next;
  }
  return {
    title: cutToBytes(cardTitle(card), TITLE_BYTES),
    description: `${description}${note}`,
    url,
    btntxt: 'Open',
  };
}

/** What the chat is told when the request ends: WeCom cannot edit the card it was sent. */
export function wecomOutcomeText(card: ImCard): string {
  return [
    `${cardTitle(card)}: ${card.outcome ?? card.state}`,
    ...(card.comment ? [`Comment: ${card.comment}`] : []),
  ]
    .map(escapeHtml)
    .join('\n');
}
