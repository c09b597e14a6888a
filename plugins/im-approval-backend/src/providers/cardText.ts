import type { ImCard } from '@im-approval/plugin-im-approval-node';

/** A card's title, marked as a test where the request is one (once, if its title says so already). */
export function cardTitle(card: ImCard): string {
  return card.test && !/^\[test\]/i.test(card.title)
    ? `[Test] ${card.title}`
    : card.title;
}

/** How each state reads on a card and in what a click is told. */
export const CARD_STATE_WORDS: Record<ImCard['state'], string> = {
  pending: 'Pending',
  approved: 'Approved',
  rejected: 'Rejected',
  canceled: 'Canceled',
  expired: 'Expired',
  failed: 'Failed',
};
