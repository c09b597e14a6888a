import type { ImCard } from '@im-approval/plugin-im-approval-node';

/** A card's title, marked as a test where the request is one (once, if its title says so already). */
export function cardTitle(card: ImCard): string {
  return card.test && !/^\[test\]/i.test(card.title)
    ? `[Test] ${card.title}`
    : card.title;
}
