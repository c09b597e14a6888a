import type { InboxChats, InboxSource } from '../inbox';
import { cardSeenBy, clickCard } from './cards';
import type { DingtalkPlatform } from './platform';
import { dingtalkInstanceView } from './views';

// DingTalk's instances on the approver inbox.

const NODE_MODES = { AND: 'all', OR: 'any one', NONE: 'one approver' } as const;
/** The inbox's badge for a DingTalk status and result. */
function badgeOf(status: string, result: string): string {
  if (status === 'RUNNING') return 'PENDING';
  if (status === 'TERMINATED') return 'CANCELED';
  return result === 'agree' ? 'APPROVED' : 'REJECTED';
}

export function dingtalkInbox(dingtalk: DingtalkPlatform): InboxSource {
  return {
    im: 'dingtalk',
    label: 'DingTalk',
    deciderField: 'userId',
    cards: () =>
      [...dingtalk.state.instances.values()].map(instance => {
        const view = dingtalkInstanceView(dingtalk.state, instance);
        const last = view.operationRecords
          .filter(record => record.type !== 'START_PROCESS_INSTANCE')
          .at(-1);
        return {
          id: view.processInstanceId,
          title: view.formName,
          formName: `${view.formName} (${view.processCode})`,
          requester: view.originatorName,
          createdAt: view.createdAt,
          pending: view.status === 'RUNNING',
          status: badgeOf(view.status, view.result),
          endedAt: view.endedAt,
          fields: view.form,
          approvers: [
            ...view.approvers.map(approver => ({
              name: approver.name,
              status: approver.status,
              node: `Step ${approver.node + 1} · ${NODE_MODES[approver.actionType]}`,
            })),
            ...view.cc.map(person => ({
              name: person.name,
              status: 'CC',
              node: 'CC',
            })),
          ],
          deciders: view.approvers
            .filter(approver => approver.status === 'PENDING')
            .map(approver => ({ id: approver.userId, name: approver.name })),
          lastDecision: last && { name: last.name, comment: last.remark },
        };
      }),
    decide: (id, decision, userId, comment) => {
      dingtalk.decide(id, { decision, userId, comment });
    },
  };
}

/** DingTalk's groups on the inbox: their cards as everyone sees them, and clicks as members make them. */
export function dingtalkInboxChats(dingtalk: DingtalkPlatform): InboxChats {
  const { state } = dingtalk;
  return {
    chats: () =>
      [...state.chats.values()].map(chat => ({
        chatId: chat.openConversationId,
        name: chat.name,
        members: chat.members.map(userId => ({
          id: userId,
          name: state.users.get(userId)?.name ?? userId,
        })),
        messages: [...state.cards.values()]
          .filter(card => card.chatId === chat.openConversationId)
          .map(card => {
            const seen = cardSeenBy(state, card);
            return {
              messageId: card.outTrackId,
              lines: seen.lines,
              buttons: seen.buttons.map(button => ({
                text: button.text,
                withComment: seen.input !== undefined,
              })),
            };
          }),
      })),
    click: async (chatId, outTrackId, click) => {
      const result = await clickCard(
        state,
        dingtalk.stream,
        chatId,
        outTrackId,
        {
          userId: click.openId,
          button: click.button,
          ...(click.input?.comment !== undefined && {
            input: click.input.comment,
          }),
        },
      );
      if (result.error) return { error: result.error };
      // What the clicker alone now sees: their lines that the shared card does not show.
      const shared = cardSeenBy(state, state.cards.get(outTrackId)!).lines;
      const own = result.seen.filter(line => !shared.includes(line));
      return {
        toast: { type: 'info', content: own.join(' ') || 'Clicked.' },
      };
    },
  };
}
