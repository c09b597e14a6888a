import type { SpStatus, WecomApp, WecomInstance, WecomState } from './state';
import { nodeApprovers } from './workflow';

// How the sandbox shows its WeCom state to tests and people: camelCase, names resolved, ISO times.

export const SP_STATUS_NAMES: Record<SpStatus, string> = {
  1: 'PENDING',
  2: 'APPROVED',
  3: 'REJECTED',
  4: 'REVOKED',
  6: 'REVOKED_AFTER_APPROVAL',
  7: 'DELETED',
  10: 'PAID',
};

const iso = (ms: number) => new Date(ms).toISOString();

export function wecomInstanceView(state: WecomState, instance: WecomInstance) {
  const nameOf = (userId: string) => state.users.get(userId)?.name ?? userId;
  return {
    spNo: instance.spNo,
    templateId: instance.templateId,
    spName: instance.spName,
    agentId: instance.agentId,
    spStatus: instance.spStatus,
    status: SP_STATUS_NAMES[instance.spStatus],
    applicantUserId: instance.applicant,
    applicantName: nameOf(instance.applicant),
    summary: instance.summary,
    form: instance.contents.map(({ id, title, text }) => ({
      id,
      title,
      value: text,
    })),
    approvers: instance.nodes.flatMap((node, index) =>
      nodeApprovers(instance, index).map(userId => {
        const task = instance.flow.tasks.find(
          candidate => candidate.node === index && candidate.userId === userId,
        );
        return {
          userId,
          name: nameOf(userId),
          node: index,
          apvRel: node.apvRel === 1 ? ('AND' as const) : ('OR' as const),
          status: task?.status ?? 'WAITING',
          speech: task?.comment ?? null,
          decidedAt:
            task?.endTime === undefined || task.status === 'DONE'
              ? null
              : iso(task.endTime),
        };
      }),
    ),
    notifyer: instance.notifyer,
    /** The CC recipients (抄送: notifyer and type 2 nodes), who see the request but do not decide. */
    cc: instance.notifyer.map(userId => ({ userId, name: nameOf(userId) })),
    comments: instance.comments.map(comment => ({
      ...comment,
      name: nameOf(comment.userId),
      time: iso(comment.time),
    })),
    createdAt: iso(instance.applyTime),
    endedAt:
      instance.flow.endTime === undefined ? null : iso(instance.flow.endTime),
  };
}

export function wecomAppView(app: WecomApp) {
  return {
    agentId: app.agentId,
    callbackUrl: app.callbackUrl ?? null,
    callbacks: app.callbacks,
    approvalApi: app.approvalApi,
  };
}
