import type { ImCard } from '@im-approval/plugin-im-approval-node';
import { cardTitle } from '../cardText';

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
  extra: {
    type?: string;
    value?: object;
    url?: string;
    name?: string;
    action_type?: string;
  },
) => ({ tag: 'button', text: { tag: 'plain_text', content: label }, ...extra });

/** Approve and Reject, submitting the comment typed beside them with the click (a form container). */
const decisionForm = (approvalId: string) => ({
  tag: 'form',
  name: 'decision',
  elements: [
    {
      tag: 'input',
      name: 'comment',
      placeholder: { tag: 'plain_text', content: 'Comment (optional)' },
      max_length: 500,
    },
    ...(['approve', 'reject'] as const).map(action =>
      button(action === 'approve' ? 'Approve' : 'Reject', {
        type: action === 'approve' ? 'primary' : 'danger',
        name: action,
        action_type: 'form_submit',
        value: { approvalId, action },
      }),
    ),
  ],
});

/**
 * An approval as a Feishu message card: shared (`update_multi`), so an update shows everyone the
 * same card; while it is pending, a comment and Approve and Reject; links to the Feishu request
 * and Backstage.
 */
export function feishuCard(card: ImCard): object {
  const links = [
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
      title: { tag: 'plain_text', content: cardTitle(card) },
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
      ...(card.state === 'pending' ? [decisionForm(card.approvalId)] : []),
      ...(links.length > 0 ? [{ tag: 'action', actions: links }] : []),
    ],
  };
}
