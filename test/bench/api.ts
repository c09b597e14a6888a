// The plugin's API as the Action calls it, over the benchmark's client.
import type { Approval } from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GithubOidcIssuer } from '@im-approval/im-sandbox';
import { RUN } from '../src/__testUtils__/stack';
import { json, request, type Answer } from './client';

export interface ApiTarget {
  api: string;
}

/** A GitHub OIDC token of run `runId`, as a job's `core.getIDToken('im-approval')` gets it; valid 15 minutes. */
export function oidcToken(
  issuer: GithubOidcIssuer,
  runId: number,
): Promise<string> {
  return issuer.sign({ ...RUN, run_id: String(runId) }, { expiresIn: 900 });
}

export async function createApproval(
  pool: http.Agent,
  backend: ApiTarget,
  token: string,
  template = 'deploy',
): Promise<{ approval: Approval; answer: Answer; started: number }> {
  const started = performance.now();
  const answer = await request(pool, `${backend.api}/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({
      template,
      idempotencyKey: randomUUID(),
      variables: { service: 'api', reason: 'benchmark' },
    }),
  });
  if (answer.status !== 201)
    throw new Error(
      `create answered ${answer.status}: ${answer.text.slice(0, 300)}`,
    );
  const approval = json<Approval>(answer);
  if (!approval.imInstanceId) {
    throw new Error(
      `approval ${approval.id} (template ${template}) has no IM instance: ${approval.status}: ${approval.error ?? 'no error given'}`,
    );
  }
  return { approval, answer, started };
}

/** How long each of the Action's long-polls asks to be held (POLL_SECONDS in actions/im-approval/src/waitForDecision.ts). */
export const ACTION_POLL_SECONDS = 600;

export function waitOnce(
  pool: http.Agent,
  backend: ApiTarget,
  id: string,
  token: string,
  options: { seconds?: number; onWritten?: () => void } = {},
): Promise<Answer> {
  const seconds = options.seconds ?? ACTION_POLL_SECONDS;
  return request(
    pool,
    `${backend.api}/approvals/${id}/wait?timeout=${seconds}s`,
    {
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: seconds * 1000 + 15_000,
      onWritten: options.onWritten,
    },
  );
}

/** A connection reset or closed before any answer: the Action waits a little and asks again. */
function resetBeforeAnswer(error: unknown): boolean {
  const { code, message } = error as NodeJS.ErrnoException;
  return code === 'ECONNRESET' || /socket hang up/.test(message);
}

/**
 * Long-polls as the Action does (ACTION_POLL_SECONDS per call, again while pending: its waitForDecision) until a
 * decision; the answer that carried it. A reset before any answer is asked again after a second,
 * as the Action's client does, and counted in `resets`.
 */
export async function waitLikeAction(
  pool: http.Agent,
  backend: ApiTarget,
  id: string,
  token: string,
  onFirstWritten?: () => void,
): Promise<{ approval: Approval; at: number; polls: number; resets: number }> {
  let resets = 0;
  let written = false;
  const onWritten = () => {
    if (!written) onFirstWritten?.();
    written = true;
  };
  for (let polls = 1; ; polls++) {
    let answer: Answer;
    try {
      answer = await waitOnce(pool, backend, id, token, { onWritten });
    } catch (error) {
      if (!resetBeforeAnswer(error) || resets >= 3) throw error;
      resets++;
      await new Promise(resolve => setTimeout(resolve, 1000));
      continue;
    }
    if (answer.status !== 200)
      throw new Error(
        `wait answered ${answer.status}: ${answer.text.slice(0, 300)}`,
      );
    const approval = json<Approval>(answer);
    if (approval.status !== 'pending')
      return { approval, at: answer.at, polls, resets };
  }
}
