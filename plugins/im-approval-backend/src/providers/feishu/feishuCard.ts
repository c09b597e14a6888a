import type { ImCard } from '@im-approval/plugin-im-approval-node';

/** The header's colour for each state: Feishu's card templates. */
const COLOURS: Record<ImCard['state'], string> = {
  pending: 'blue',
  approved: 'green',
  rejected: 'red',
  canceled: 'grey',
  expired: 'grey',
  failed: 'red',
};

const text = (content: string) => ({
  tag: 'div',
  // plain_text: Feishu shows it as written (lark_md would read mentions and links in it).
  text: { tag: 'plain_text', content },
});

const button = (
  label: string,
  extra: { type?: string; value?: object; url?: string },
) => ({ tag: 'button', text: { tag: 'plain_text', content: label }, ...extra });

/**
 * An approval as a Feishu message card: shared (`update_multi`), so an update shows everyone the
 * same card; Approve and Reject while it is pending, links to the Feishu request and Backstage.
 */
export function feishuCard(card: ImCard): object {
  const title =
    card.test && !/^\[test\]/i.test(card.title)
      ? `[Test] ${card.title}`
      : card.title;
  const actions = [
    ...(card.state === 'pending'
      ? [
          button('Approve', {
            type: 'primary',
            value: { approvalId: card.approvalId, action: 'approve' },
          }),
          button('Reject', {
            type: 'danger',
            value: { approvalId: card.approvalId, action: 'reject' },
          }),
        ]
      : []),
    ...(card.instanceUrl
      ? [button('Open in Feishu', { url: card.instanceUrl })]
      : []),
    ...(card.approvalUrl
      ? [button('Open in Backstage', { url: card.approvalUrl })]
      : []),
  ];
  return {
    config: { update_multi: true, wide_screen_mode: true },
    header: {
      title: { tag: 'plain_text', content: title },
      template: COLOURS[card.state],
    },
    elements: [
      ...card.context.map(line => text(`${line.label}: ${line.value}`)),
      ...card.fields.map(field => text(`${field.label}: ${field.value}`)),
      text(
        card.state === 'pending'
          ? `Waiting on: ${card.waitingOn.join(', ')}`
          : (card.outcome ?? card.state),
      ),
      ...(card.comment ? [text(`Comment: ${card.comment}`)] : []),
      ...(actions.length > 0 ? [{ tag: 'action', actions }] : []),
    ],
  };
}
