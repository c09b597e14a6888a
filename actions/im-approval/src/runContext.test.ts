import { idempotencyKey, runContextFromEnv } from './runContext';

const env = {
  GITHUB_REPOSITORY: 'acme/api',
  GITHUB_RUN_ID: '1001',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: 'deploy',
  GITHUB_ACTION: 'approve',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: '0123abcd',
  GITHUB_ACTOR: 'octocat',
  GITHUB_WORKFLOW: 'Deploy',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_SERVER_URL: 'https://github.com',
};
const request = { template: 'deploy', variables: { service: 'api' } };

describe('idempotencyKey', () => {
  it('is the same for the same step of the same attempt asking the same thing', () => {
    expect(idempotencyKey(env, request)).toBe(
      idempotencyKey(
        { ...env },
        { template: 'deploy', variables: { service: 'api' } },
      ),
    );
    expect(idempotencyKey(env, request)).toMatch(
      /^1001\/1\/deploy\/approve\/[0-9a-f]{16}$/,
    );
  });

  it.each([
    ['a re-run attempt', { ...env, GITHUB_RUN_ATTEMPT: '2' }, request],
    ['another job', { ...env, GITHUB_JOB: 'release' }, request],
    [
      'another step of the job',
      { ...env, GITHUB_ACTION: '__acme_im-approval_2' },
      request,
    ],
    [
      'a matrix leg asking for another service',
      env,
      { template: 'deploy', variables: { service: 'web' } },
    ],
    ['another repository', { ...env, GITHUB_REPOSITORY: 'acme/web' }, request],
  ])('differs for %s', (_, otherEnv, otherRequest) => {
    expect(idempotencyKey(otherEnv, otherRequest)).not.toBe(
      idempotencyKey(env, request),
    );
  });

  it('stays within the 200 characters the API takes', () => {
    const key = idempotencyKey(
      { ...env, GITHUB_JOB: 'j'.repeat(100), GITHUB_ACTION: 's'.repeat(100) },
      request,
    );
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('runContextFromEnv', () => {
  it("describes the run from the runner's variables", () => {
    expect(runContextFromEnv(env)).toEqual({
      repository: 'acme/api',
      ref: 'refs/heads/main',
      sha: '0123abcd',
      actor: 'octocat',
      workflow: 'Deploy',
      job: 'deploy',
      eventName: 'push',
      runId: '1001',
      runAttempt: '1',
      serverUrl: 'https://github.com',
    });
  });

  it('says it needs a GitHub Actions job', () => {
    expect(() => runContextFromEnv({})).toThrow(
      'GITHUB_REPOSITORY is not set: the Action runs inside a GitHub Actions job',
    );
  });
});
