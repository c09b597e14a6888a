import type { InboxChats, InboxSource } from '../inbox';
import { clickCard } from './chats';
import { cardButtons, type FeishuCard } from './messages';
import type { FeishuPlatform } from './platform';
import { instanceView } from './views';

// Feishu's instances on the approver inbox.

/** Timeline entries that move no instance on: the card's last decision is never one of them. */
const NOT_DECISIONS = new Set(['CC', 'TRANSFER', 'ADD_APPROVER']);

const text = (value: unknown) =>
  typeof value === 'string' ? value : JSON.stringify(value);

/** "2/3 " before a node's name when the instance walks several, so the card shows how far it is. */
function stepOf(nodes: Array<{ nodeId: string }>, nodeId: string): string {
  if (nodes.length < 2) return '';
  return `${nodes.findIndex(node => node.nodeId === nodeId) + 1}/${nodes.length} `;
}

export function feishuInbox(feishu: FeishuPlatform): InboxSource {
  return {
    im: 'feishu',
    label: 'Feishu',
    deciderField: 'openId',
    cards: () =>
      [...feishu.state.instances.values()].map(instance => {
        const view = instanceView(feishu.state, instance);
        const last = view.timeline.findLast(
          entry => !NOT_DECISIONS.has(entry.type),
        );
        return {
          id: view.instanceCode,
          title: view.title ?? view.approvalName,
          formName: view.approvalName,
          requester: view.initiatorName,
          createdAt: view.createdAt,
          pending: view.status === 'PENDING',
          status: view.status,
          endedAt: view.endedAt,
          fields: view.form.map(field => ({
            name: field.name,
            value: text(field.value),
          })),
          approvers: [
            ...view.approvers.map(approver => ({
              name: approver.name,
              status: approver.status,
              node: `${stepOf(instance.nodes, approver.nodeId)}${approver.nodeName} · ${approver.nodeType === 'OR' ? 'any one' : 'all'}`,
            })),
            ...view.cc.map(person => ({
              name: person.name,
              status: 'CC',
              node: 'CC',
            })),
          ],
          deciders: view.approvers
            .filter(approver => approver.status === 'PENDING')
            .map(approver => ({ id: approver.openId, name: approver.name })),
          lastDecision: last && { name: last.name, comment: last.comment },
        };
      }),
    decide: (code, decision, openId, comment) => {
      feishu.decide(code, { decision, openId, comment });
    },
  };
}

/** Feishu's group chats on the inbox: their cards as members see them, and clicks as members make them. */
export function feishuInboxChats(feishu: FeishuPlatform): InboxChats {
  const { state } = feishu;
  return {
    chats: () =>
      [...state.chats.values()].map(chat => ({
        chatId: chat.chatId,
        name: chat.name,
        members: chat.members.map(openId => ({
          id: openId,
          name: state.users.get(openId)?.name ?? openId,
        })),
        messages: (state.chatMessages.get(chat.chatId) ?? []).map(message => ({
          messageId: message.messageId,
          lines: message.text.split('\n'),
          buttons:
            message.msgType === 'interactive'
              ? cardButtons(message.content as FeishuCard).map(button => ({
                  text: button.text,
                  withComment: (button.inputs ?? []).includes('comment'),
                }))
              : [],
        })),
      })),
    click: (chatId, messageId, click) =>
      clickCard(state, chatId, messageId, click),
  };
}
