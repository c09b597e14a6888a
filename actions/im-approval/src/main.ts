import * as core from '@actions/core';
import {
  explainRequester,
  type Approval,
  type CreateApprovalRequest,
} from '@im-approval/plugin-im-approval-common';
import type { ApprovalsClient } from './ApprovalsClient';
import { clientFor } from './client';
import { readInputs, type ActionInputs } from './inputs';
import { describeApproval, outcomeLine, progressLine } from './messages';
import { setOutputs, writeSummary } from './report';
import { idempotencyKey, runContextFromEnv } from './runContext';
import { STATE_APPROVAL_ID } from './state';
import { untrusted } from './untrusted';
import { waitForDecision } from './waitForDecision';

/** The step: open (or find) the approval, wait for the decision, report it. */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const inputs = readInputs(name => core.getInput(name));
  const client = clientFor(inputs);

  let approval: Approval = inputs.approvalId
    ? await client.get(inputs.approvalId)
    : await open(client, inputs, env);
  // From here on the post step cancels the approval if the job fails or is cancelled while it is pending.
  core.saveState(STATE_APPROVAL_ID, approval.id);
  core.setOutput('approval-id', approval.id);

  if (inputs.wait && approval.status === 'pending') {
    core.info(progressLine(approval, Date.now()));
    approval = await waitForDecision(client, approval, {
      log: line => core.info(line),
    });
  }

  setOutputs(approval);
  await writeSummary(approval);
  const outcome = outcomeLine(approval);
  if (
    approval.status !== 'approved' &&
    approval.status !== 'pending' &&
    inputs.failOn.includes(approval.status)
  ) {
    core.setFailed(outcome);
  } else {
    core.info(outcome);
  }
}

async function open(
  client: ApprovalsClient,
  inputs: ActionInputs,
  env: NodeJS.ProcessEnv,
): Promise<Approval> {
  const request = {
    template: inputs.template!,
    title: inputs.title,
    variables: inputs.variables,
    approvers: inputs.approvers,
    timeout: inputs.timeoutSeconds,
  } satisfies Omit<CreateApprovalRequest, 'idempotencyKey'>;
  const { approval, created } = await client.create({
    ...request,
    idempotencyKey: idempotencyKey(env, request),
    // With an OIDC token the backend reads the run from the token's verified claims instead.
    context: inputs.auth === 'token' ? runContextFromEnv(env) : undefined,
  });
  core.info(
    `${created ? 'Requested' : 'Found the approval this step already requested:'} ${describeApproval(approval)}`,
  );
  if (approval.requester)
    core.info(`Requester: ${untrusted(explainRequester(approval.requester))}`);
  core.info(`Approval id: ${approval.id}`);
  return approval;
}
