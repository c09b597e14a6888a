import type { Approval } from '@im-approval/plugin-im-approval-common';
import type { ApprovalsClient } from './ApprovalsClient';
import { progressLine, stagesSignature } from './messages';

export interface WaitOptions {
  log: (line: string) => void;
  now?: () => number;
  /** The server answers a long-poll after this long with the approval still pending. */
  pollSeconds?: number;
  progressEveryMs?: number;
  /**
   * How long after the approval's deadline the Action keeps trying an unreachable backend.
   * The server owns the deadline and expires the approval itself; this only bounds the wait.
   */
  unreachableGraceMs?: number;
}

/** Long-polls until the approval leaves `pending`: no sleeps, a progress line about once a minute. */
export async function waitForDecision(
  client: ApprovalsClient,
  approval: Approval,
  options: WaitOptions,
): Promise<Approval> {
  const now = options.now ?? Date.now;
  const progressEveryMs = options.progressEveryMs ?? 60_000;
  let current = approval;
  let lastProgress = now();
  while (current.status === 'pending') {
    const retryUntil =
      Date.parse(current.expiresAt) +
      (options.unreachableGraceMs ?? 5 * 60_000);
    const before = stagesSignature(current);
    current = await client.wait(
      current.id,
      options.pollSeconds ?? 30,
      retryUntil,
    );
    if (
      current.status === 'pending' &&
      (now() - lastProgress >= progressEveryMs ||
        stagesSignature(current) !== before)
    ) {
      options.log(progressLine(current, now()));
      lastProgress = now();
    }
  }
  return current;
}
