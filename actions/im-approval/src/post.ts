import * as core from '@actions/core';
import {
  isTerminal,
  type ApprovalWithTimeline,
} from '@im-approval/plugin-im-approval-common';
import { ApiError } from './ApprovalsClient';
import { clientFor } from './client';
import { readInputs } from './inputs';
import { escapeHtml } from './report';
import { STATE_APPROVAL_ID } from './state';
import { untrusted } from './untrusted';

const REASON =
  'The workflow job was cancelled or failed while the approval was pending';

/**
 * Runs after the job when it failed or was cancelled (`post-if` in action.yml): an approval left
 * pending is cancelled, and the backend revokes its IM instance so nobody decides a dead request.
 */
export async function post(): Promise<void> {
  const approvalId = core.getState(STATE_APPROVAL_ID);
  if (!approvalId) {
    core.info('No approval was opened; nothing to cancel.');
    return;
  }
  const client = clientFor(readInputs(name => core.getInput(name)));
  const approval = await client.get(approvalId);
  if (isTerminal(approval.status)) {
    core.info(
      `Approval ${untrusted(approvalId)} is already ${approval.status}; nothing to cancel.`,
    );
    return;
  }
  try {
    await client.cancel(approvalId, REASON);
  } catch (error) {
    // Decided between the read and the cancel: the decision stands.
    if (error instanceof ApiError && error.status === 409) {
      core.info(untrusted(error.message));
      return;
    }
    throw error;
  }
  const imOutcome = revocation(await client.get(approvalId));
  core.info(
    `Approval ${untrusted(approvalId)} canceled (${REASON.toLowerCase()}); ${untrusted(imOutcome)}.`,
  );
  await core.summary
    .addRaw(
      `🚫 Approval <code>${escapeHtml(approvalId)}</code> canceled: ${REASON.toLowerCase()}; ${escapeHtml(imOutcome)}.`,
      true,
    )
    .write();
}

/** What the backend's attempt to revoke the IM instance came to, as its timeline records it (raw text: escape to print). */
function revocation(approval: ApprovalWithTimeline): string {
  const event = approval.timeline.findLast(
    e => e.type === 'im_instance_revoked' || e.type === 'im_revoke_failed',
  );
  if (!event) return 'it had no IM instance to revoke';
  if (event.type === 'im_instance_revoked')
    return `the ${approval.provider} instance was revoked`;
  return `the ${approval.provider} instance could not be revoked (${event.message ?? 'no reason given'}); approvers may still see it`;
}
