import {
  formatDuration,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import type { NewApproval } from '../database/ApprovalStore';

/**
 * How often a new approval's approvers are reminded and when it is escalated, from its template:
 * nothing falls due after its deadline.
 */
export function followUps(
  template: Pick<Template, 'remindAfter' | 'escalateAfter'>,
  escalateTo: string[],
  timeoutSeconds: number,
): Pick<NewApproval, 'reminders' | 'escalation'> {
  const { remindAfter, escalateAfter } = template;
  return {
    ...(remindAfter !== undefined &&
      remindAfter < timeoutSeconds && {
        reminders: { everySeconds: remindAfter },
      }),
    ...(escalateAfter !== undefined &&
      escalateAfter < timeoutSeconds &&
      escalateTo.length > 0 && {
        escalation: { afterSeconds: escalateAfter, to: escalateTo },
      }),
  };
}

/** What the creation event says of them: every timer is named, and one that cannot fire says why. */
export function followUpNotes(
  template: Pick<Template, 'remindAfter' | 'escalateAfter'>,
  escalateTo: string[],
  timeoutSeconds: number,
): string[] {
  const notes: string[] = [];
  const { remindAfter, escalateAfter } = template;
  const timeout = formatDuration(timeoutSeconds);
  if (remindAfter !== undefined)
    notes.push(
      remindAfter < timeoutSeconds
        ? `approvers reminded every ${formatDuration(remindAfter)}`
        : `approvers not reminded: remindAfter ${formatDuration(remindAfter)} is not within the timeout ${timeout}`,
    );
  if (escalateAfter !== undefined && escalateTo.length > 0)
    notes.push(
      escalateAfter < timeoutSeconds
        ? `escalated to ${escalateTo.join(', ')} after ${formatDuration(escalateAfter)}`
        : `not escalated: escalateAfter ${formatDuration(escalateAfter)} is not within the timeout ${timeout}`,
    );
  return notes;
}
