import {
  describeDecider,
  formatDuration,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { untrusted } from './untrusted';

/** Seconds from an ISO timestamp to an epoch-ms moment. */
export const seconds = (from: string, to: number) =>
  (to - Date.parse(from)) / 1000;

// Every value below comes from the backend, the IM or a person: each goes through `untrusted`.

/** Where the approval is and who may decide it, for the log. */
export function describeApproval(approval: Approval): string {
  const provider = untrusted(approval.provider);
  const where = approval.imUrl
    ? `${provider}: ${untrusted(approval.imUrl)}`
    : provider;
  return `"${untrusted(approval.title)}" (template ${untrusted(approval.template)}), approvers ${untrusted(approval.approvers.join(', '))} in ${where}`;
}

export function progressLine(approval: Approval, now: number): string {
  const left = formatDuration(-seconds(approval.expiresAt, now));
  // E.g. the backend keeps trying to create an IM instance it could not: say why nobody sees it yet.
  const imError = approval.error
    ? ` The last IM error: ${untrusted(approval.error)}`
    : '';
  return `Waiting for a decision on ${describeApproval(approval)}${stageLine(approval)}; ${left} left.${imError}`;
}

/** Which stage waits on whom, for an approval with several: "; stage 2 of 3 (SRE, all of) waits on carol, dave". */
function stageLine(approval: Approval): string {
  const stages = approval.stages ?? [];
  const at = stages.findIndex(stage => stage.status === 'pending');
  if (at < 0) return '';
  const stage = stages[at];
  const name = stage.name ? `${untrusted(stage.name)}, ` : '';
  const on = stage.waitingOn.length > 0 ? stage.waitingOn : stage.approvers;
  const approved =
    stage.approvedBy.length > 0
      ? `; approved so far by ${untrusted(stage.approvedBy.join(', '))}`
      : '';
  return `; stage ${at + 1} of ${stages.length} (${name}${stage.rule === 'all' ? 'all of' : 'any one of'}) waits on ${untrusted(on.join(', '))}${approved}`;
}

/** What changes when a stage moves on: a new line is logged at once rather than at the next minute. */
export function stagesSignature(approval: Approval): string {
  return (approval.stages ?? [])
    .map(stage => `${stage.status}:${stage.approvedBy.length}`)
    .join(',');
}

export function outcomeLine(approval: Approval): string {
  const decider = describeDecider(approval);
  const by = decider ? untrusted(decider) : undefined;
  const comment = approval.comment ? `: "${untrusted(approval.comment)}"` : '';
  switch (approval.status) {
    case 'approved':
    case 'rejected':
      return `${approval.status === 'approved' ? 'Approved' : 'Rejected'} by ${by ?? 'an approver'}${comment}`;
    case 'canceled':
      return `The approval was canceled${by ? ` by ${by}` : ''}${comment}`;
    case 'expired':
      return `Nobody decided before the approval expired at ${approval.expiresAt}${
        approval.error
          ? `; the last IM error: ${untrusted(approval.error)}`
          : ''
      }`;
    case 'failed':
      return `The approval failed: ${approval.error ? untrusted(approval.error) : 'the IM instance could not be created or was deleted'}`;
    case 'pending':
      return `The approval is pending; it expires at ${approval.expiresAt}`;
    default: {
      // Every status is handled above; a backend newer than the Action may still send another.
      const status: never = approval.status;
      return `The approval is ${untrusted(String(status))}`;
    }
  }
}
