import type { RunContext } from '@im-approval/plugin-im-approval-common';
import { createHash } from 'node:crypto';

type Env = Record<string, string | undefined>;

/**
 * The run as the runner's environment describes it. The backend trusts it only as
 * "self-reported": with an OIDC token it reads the same facts from verified claims instead.
 */
export function runContextFromEnv(env: Env): RunContext {
  const required = (name: string) => {
    const value = env[name];
    if (!value)
      throw new Error(
        `${name} is not set: the Action runs inside a GitHub Actions job`,
      );
    return value;
  };
  return {
    repository: required('GITHUB_REPOSITORY'),
    ref: env.GITHUB_REF || undefined,
    sha: env.GITHUB_SHA || undefined,
    actor: env.GITHUB_ACTOR || undefined,
    workflow: env.GITHUB_WORKFLOW || undefined,
    job: env.GITHUB_JOB || undefined,
    eventName: env.GITHUB_EVENT_NAME || undefined,
    runId: env.GITHUB_RUN_ID || undefined,
    runAttempt: env.GITHUB_RUN_ATTEMPT || undefined,
    serverUrl: env.GITHUB_SERVER_URL || undefined,
  };
}

const MAX_KEY_LENGTH = 200;

const sha256 = (text: string) =>
  createHash('sha256').update(text).digest('hex');

/**
 * The same step of the same run attempt asking the same thing gets the same key, so a retried
 * request or a restarted step never opens a second approval; a re-run (new attempt) opens a
 * fresh one. The request's hash tells apart matrix legs, which share the job and step ids.
 */
export function idempotencyKey(env: Env, request: unknown): string {
  const context = runContextFromEnv(env);
  const step = env.GITHUB_ACTION || 'im-approval';
  const digest = sha256(JSON.stringify([context.repository, request])).slice(
    0,
    16,
  );
  const key = [
    context.runId,
    context.runAttempt,
    context.job,
    step,
    digest,
  ].join('/');
  return key.length <= MAX_KEY_LENGTH ? key : sha256(key);
}
