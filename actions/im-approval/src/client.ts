import * as core from '@actions/core';
import { ApprovalsClient } from './ApprovalsClient';
import { oidcIdentity, staticIdentity } from './identity';
import type { ActionInputs } from './inputs';
import { untrusted } from './untrusted';

/** The client for these inputs, telling the log about every retry. */
export function clientFor(inputs: ActionInputs): ApprovalsClient {
  const identity =
    inputs.auth === 'token'
      ? staticIdentity(inputs.token!)
      : oidcIdentity(inputs.audience);
  return new ApprovalsClient({
    apiUrl: inputs.apiUrl,
    identity,
    onRetry: (problem, delayMs) =>
      core.warning(
        `${untrusted(problem)}; retrying in ${(delayMs / 1000).toFixed(1)} s`,
      ),
  });
}
