import * as core from '@actions/core';
import { isTerminal } from '@im-approval/plugin-im-approval-common';
import { ApiError } from './ApprovalsClient';
import { CALL_RETRY_MS, clientFor } from './client';
import { readInputs } from './inputs';
import { STATE_APPROVAL_ID } from './state';

const REASON = 'The workflow job was cancelled or failed while the approval was pending';

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
  const approval = await client.get(approvalId, Date.now() + CALL_RETRY_MS);
  if (isTerminal(approval.status)) {
    core.info(`Approval ${approvalId} is already ${approval.status}; nothing to cancel.`);
    return;
  }
  try {
    await client.cancel(approvalId, REASON, Date.now() + CALL_RETRY_MS);
  } catch (error) {
    // Decided between the read and the cancel: the decision stands.
    if (error instanceof ApiError && error.status === 409) {
      core.info(error.message);
      return;
    }
    throw error;
  }
  core.info(`Approval ${approvalId} canceled (${REASON.toLowerCase()}); the backend revoked its IM instance.`);
  await core.summary.addRaw(`🚫 Approval <code>${approvalId}</code> canceled: ${REASON.toLowerCase()}.`, true).write();
}
