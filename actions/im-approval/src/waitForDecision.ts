import type { Approval } from '@im-approval/plugin-im-approval-common';
import { ApiError, type ApprovalsClient } from './ApprovalsClient';
import { progressLine, stagesSignature } from './messages';

/**
 * How long each long-poll asks the backend to hold it. The backend keeps a held poll alive with
 * heartbeats, so a long hold costs one request per ten minutes rather than one per half minute.
 */
export const POLL_SECONDS = 600;
/** The longest hold a backend from before heartbeats accepts (it refuses more with a 400). */
const PRE_HEARTBEAT_POLL_SECONDS = 120;

export interface WaitOptions {
  log: (line: string) => void;
  now?: () => number;
  /** The server answers a long-poll after this long with the approval still pending. Default POLL_SECONDS. */
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
  let pollSeconds = options.pollSeconds ?? POLL_SECONDS;
  let current = approval;
  let lastProgress = now();
  const progress = () => {
    options.log(progressLine(current, now()));
    lastProgress = now();
  };
  // A poll is held for minutes: the log still says about every minute that the step waits.
  const ticker = setInterval(() => {
    if (now() - lastProgress >= progressEveryMs) progress();
  }, progressEveryMs / 4).unref();
  try {
    while (current.status === 'pending') {
      const retryUntil =
        Date.parse(current.expiresAt) +
        (options.unreachableGraceMs ?? 5 * 60_000);
      const before = stagesSignature(current);
      try {
        current = await client.wait(current.id, pollSeconds, retryUntil);
      } catch (error) {
        if (!refusesLongHolds(error, pollSeconds)) throw error;
        pollSeconds = PRE_HEARTBEAT_POLL_SECONDS;
        continue;
      }
      if (
        current.status === 'pending' &&
        (now() - lastProgress >= progressEveryMs ||
          stagesSignature(current) !== before)
      )
        progress();
    }
  } finally {
    clearInterval(ticker);
  }
  return current;
}

/** A backend from before heartbeats names the timeout it refuses; it holds up to two minutes. */
function refusesLongHolds(error: unknown, pollSeconds: number): boolean {
  return (
    pollSeconds > PRE_HEARTBEAT_POLL_SECONDS &&
    error instanceof ApiError &&
    error.status === 400 &&
    error.message.includes('query.timeout')
  );
}
