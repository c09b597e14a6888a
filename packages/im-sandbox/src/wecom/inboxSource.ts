import { DecisionError } from '../flow/approvalFlow';
import type { InboxChats, InboxSource } from '../inbox';
import type { WecomPlatform } from './platform';
import { wecomInstanceView } from './views';

// WeCom's requests on the approver inbox.

export function wecomInbox(wecom: WecomPlatform): InboxSource {
  return {
    im: 'wecom',
    label: 'WeCom',
    deciderField: 'userId',
    cards: () =>
      [...wecom.state.instances.values()].map(instance => {
        const view = wecomInstanceView(wecom.state, instance);
        const last = view.approvers
          .filter(approver => approver.decidedAt !== null)
          .sort((a, b) => (a.decidedAt ?? '').localeCompare(b.decidedAt ?? ''))
          .at(-1);
        return {
          id: view.spNo,
          title: view.summary[0] ?? view.spName,
          formName: view.spName,
          requester: view.applicantName,
          createdAt: view.createdAt,
          pending: view.spStatus === 1,
          status: view.status,
          endedAt: view.endedAt,
          fields: [
            ...view.form.map(field => ({
              name: field.title,
              value: field.value,
            })),
            ...(view.cc.length > 0
              ? [{ name: 'CC', value: view.cc.map(cc => cc.name).join(', ') }]
              : []),
          ],
          approvers: view.approvers.map(approver => ({
            name: approver.name,
            status: approver.status,
            node: `Step ${approver.node + 1} · ${approver.apvRel === 'AND' ? 'all' : 'any one'}`,
          })),
          deciders: view.approvers
            .filter(approver => approver.status === 'PENDING')
            .map(approver => ({ id: approver.userId, name: approver.name })),
          lastDecision: last && { name: last.name, comment: last.speech },
        };
      }),
    decide: (spNo, decision, userId, comment) => {
      wecom.decide(spNo, { decision, userId, comment });
    },
  };
}

/** WeCom's app group chats on the inbox: messages only; WeCom has no buttons there to click. */
export function wecomInboxChats(wecom: WecomPlatform): InboxChats {
  const { state } = wecom;
  return {
    chats: () =>
      [...state.chats.values()].map(chat => ({
        chatId: chat.chatId,
        name: chat.name,
        members: chat.members.map(userId => ({
          id: userId,
          name: state.users.get(userId)?.name ?? userId,
        })),
        messages: (state.chatMessages.get(chat.chatId) ?? []).map(message => ({
          messageId: message.msgId,
          lines: message.content.split('\n'),
          buttons: [],
        })),
      })),
    click: async () => {
      throw new DecisionError(409, 'WeCom group chat messages have no buttons');
    },
  };
}
