import type {
  Approval,
  ProviderId,
} from '@im-approval/plugin-im-approval-common';

export type AdminAction = 'approved' | 'rejected' | 'cancel';

/**
 * What each IM does with its instance when an approval is decided or cancelled in Backstage: the
 * backend withdraws it for all three actions (ApprovalTransitions.revoke, each client's cancelInstance).
 */
const IM_INSTANCE: Record<ProviderId, string> = {
  feishu:
    'Backstage revokes the Feishu/Lark instance on behalf of its initiator, so approvers see it as revoked and can no longer act on it. ' +
    'If Feishu/Lark refuses (it does when the approval definition does not allow revoking pending requests), the instance stays pending there, and the timeline says it was not withdrawn.',
  dingtalk:
    'Backstage terminates the DingTalk instance, so approvers see it as terminated, with the remark “Canceled in Backstage” whichever action you take, and can no longer act on it.',
  wecom:
    'WeCom has no API to withdraw a request, so it stays pending in WeCom and approvers can still act on it there. ' +
    'What they decide no longer changes anything: tell them, or withdraw it in WeCom.',
};

/** What happens to the approval's IM instance, and so what its approvers see in the IM. */
export function imInstanceEffect(approval: Approval): string {
  if (!approval.imInstanceId)
    return 'No IM instance was created for it, so nothing changes in the IM.';
  return (
    IM_INSTANCE[approval.provider as ProviderId] ??
    `Backstage asks ${approval.provider} to withdraw the instance; the timeline says whether it did.`
  );
}

/** What the run waiting on the approval does next: a step of the Action, or a job a deployment gate holds. */
export function workflowEffect(
  approval: Approval,
  action: AdminAction,
): string {
  const gate = Boolean(approval.context.gate);
  switch (action) {
    case 'approved':
      return gate
        ? 'GitHub releases the job the deployment gate holds.'
        : 'The waiting workflow step succeeds and the job continues.';
    case 'rejected':
      return gate
        ? 'GitHub fails the job the deployment gate holds, with your reason.'
        : 'The waiting workflow step fails (unless its fail-on leaves out rejected).';
    default:
      return gate
        ? 'GitHub fails the job the deployment gate holds.'
        : 'The waiting workflow step ends as canceled, which fails it unless its fail-on leaves out canceled.';
  }
}

/** Where the reason goes: the timeline and the audit log, and what the run is told (gateComments.ts words a gate's verdict). */
export function reasonEffect(approval: Approval, action: AdminAction): string {
  const kept = 'kept in the timeline and the audit log';
  if (approval.context.gate) {
    const verdict = {
      approved: '“Approved by <your user> in Backstage: “<your reason>””',
      rejected: '“Rejected by <your user> in Backstage: “<your reason>””',
      cancel:
        '“Rejected: the approval was cancelled by <your user>: “<your reason>””',
    }[action];
    return `Your reason is ${kept}, and GitHub shows the job's verdict as ${verdict}.`;
  }
  return action === 'cancel'
    ? `A reason, if you give one, is ${kept}, and the workflow step receives it as its comment output.`
    : `Your reason is ${kept}, and the workflow step receives it as its comment output, with you as decided-by.`;
}
