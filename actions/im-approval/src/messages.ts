import { formatDuration, type Approval } from '@im-approval/plugin-im-approval-common';

/** Seconds from an ISO timestamp to an epoch-ms moment. */
export const seconds = (from: string, to: number) => (to - Date.parse(from)) / 1000;

/** Where the approval is and who may decide it, for the log. */
export function describeApproval(approval: Approval): string {
  const where = approval.imUrl ? `${approval.provider}: ${approval.imUrl}` : approval.provider;
  return `"${approval.title}" (template ${approval.template}), approvers ${approval.approvers.join(', ')} in ${where}`;
}

export function progressLine(approval: Approval, now: number): string {
  const left = formatDuration(-seconds(approval.expiresAt, now));
  return `Waiting for a decision on ${describeApproval(approval)}; ${left} left.`;
}

export function outcomeLine(approval: Approval): string {
  switch (approval.status) {
    case 'approved':
    case 'rejected':
      return `${approval.status === 'approved' ? 'Approved' : 'Rejected'} by ${approval.decidedBy ?? 'an approver'}${
        approval.comment ? `: "${approval.comment}"` : ''
      }`;
    case 'canceled':
      return `The approval was canceled${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}${approval.comment ? `: "${approval.comment}"` : ''}`;
    case 'expired':
      return `Nobody decided before the approval expired at ${approval.expiresAt}`;
    case 'failed':
      return `The approval failed: ${approval.error ?? 'the IM instance could not be created or was deleted'}`;
    case 'pending':
      return `The approval is pending; it expires at ${approval.expiresAt}`;
  }
}
