import type { InboxSource } from '../inbox';
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
