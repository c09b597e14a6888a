import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';
import {
  approvalIdOf,
  JOB_ENV,
  runStep,
  startStep,
  type RunningStep,
} from './__testUtils__/actionRunner';
import { decideInSandbox, eventually, oidcToken } from './__testUtils__/flow';
import {
  getWithTimeline,
  INTEGRATION,
  RUN,
  sandboxControl,
  startStack,
  STATIC_TOKEN,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

/** A template only acme/web may use. */
const DEPLOY_WEB = {
  name: 'deploy-web',
  integration: INTEGRATION,
  form: 'DEPLOY',
  title: 'Deploy the web site',
  fields: { Service: 'web', Reason: '$${vars.reason}' },
  approvers: ['alice@example.com'],
  approverMode: 'any',
  policy: { repositories: ['acme/web'] },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the Action bundle, run as a runner runs it, against the real backend and the sandbox', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  let attempt = 0;

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      templates: [DEPLOY_WEB],
      // Every held poll gets beats, so each step reads its answers after them, and the restart
      // below cuts a poll whose status was already sent.
      extraConfig: () => ({
        imApproval: { longPolls: { heartbeat: { milliseconds: 200 } } },
      }),
    });
  });
  afterAll(() => stack?.stop());

  /** A fresh run attempt per test, so each opens its own approval; OIDC as the runner provides it. */
  function jobEnv(claims: Partial<typeof RUN> = {}) {
    attempt += 1;
    const runAttempt = String(attempt);
    return {
      GITHUB_RUN_ATTEMPT: runAttempt,
      ...stack.issuer.runnerEnv({ ...RUN, run_attempt: runAttempt, ...claims }),
    };
  }

  const inputs = (extra: Record<string, string> = {}) => ({
    'backstage-url': backend().url,
    template: 'deploy',
    variables: 'service=api\nreason=release 1.2',
    ...extra,
  });

  async function pendingApproval(
    step: RunningStep,
  ): Promise<ApprovalWithTimeline> {
    const { body } = await getWithTimeline(
      backend(),
      await approvalIdOf(step),
      STATIC_TOKEN,
    );
    expect(body.status).toBe('pending');
    return body;
  }

  it('continues the job when approved, with the decision as outputs and a job summary', async () => {
    const env = jobEnv();
    const step = startStep({ inputs: inputs(), env });
    const approval = await pendingApproval(step);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'ship it',
    });
    const result = await step.finished;

    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({
      'approval-id': approval.id,
      status: 'approved',
      approved: 'true',
      'decided-by': 'Alice Chen',
      'decided-by-id': 'ou_alice',
      comment: 'ship it',
      'decided-at': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      url: `${stack.sandbox.url}/feishu/instances/${approval.imInstanceId}`,
    });
    expect(result.summary).toContain('✅ Approved: Deploy api from acme/api');
    expect(result.summary).toContain('Alice Chen (ou_alice)');
    expect(result.summary).toContain('ship it');
    expect(result.summary).toContain(
      `<a href="${stack.sandbox.url}/feishu/instances/${approval.imInstanceId}">feishu instance</a>`,
    );
    expect(result.stdout).toContain(
      `Requested "Deploy api from acme/api" (template deploy), approvers alice@example.com, ou_bob in feishu`,
    );
    expect(result.stdout).toContain(
      'Approved by Alice Chen (ou_alice): "ship it"',
    );
    expect(result.state).toEqual({
      isPost: 'true',
      'approval-id': approval.id,
    });

    // The OIDC token is masked, and appears nowhere but in the mask command.
    const [, token] = /::add-mask::(\S+)/.exec(result.stdout) ?? [];
    expect(token?.split('.')).toHaveLength(3);
    expect(
      result.stdout.split('\n').filter(line => line.includes(token)),
    ).toEqual([`::add-mask::${token}`]);
  });

  it('fails the step when rejected, with the comment in the outputs', async () => {
    const step = startStep({ inputs: inputs(), env: jobEnv() });
    const approval = await pendingApproval(step);
    await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
      openId: 'ou_bob',
      comment: 'not during the freeze',
    });
    const result = await step.finished;

    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({
      status: 'rejected',
      approved: 'false',
      'decided-by': 'Bob Li',
      'decided-by-id': 'ou_bob',
      comment: 'not during the freeze',
    });
    expect(result.stdout).toContain(
      '::error::Rejected by Bob Li (ou_bob): "not during the freeze"',
    );
    expect(result.summary).toContain('❌ Rejected');
  });

  it('does not fail on a rejection that fail-on leaves out', async () => {
    const step = startStep({
      inputs: inputs({ 'fail-on': 'expired, canceled' }),
      env: jobEnv(),
    });
    const approval = await pendingApproval(step);
    await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
      openId: 'ou_bob',
    });
    const result = await step.finished;
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({
      status: 'rejected',
      approved: 'false',
    });
  });

  it('fails the step when nobody decides before the timeout, and the IM instance is revoked', async () => {
    const result = await runStep({
      inputs: inputs({ timeout: '2s' }),
      env: jobEnv(),
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({
      status: 'expired',
      approved: 'false',
      'decided-by': '',
      'decided-by-id': '',
    });
    expect(result.stdout).toMatch(
      /::error::Nobody decided before the approval expired at \d{4}-/,
    );
    const { body } = await getWithTimeline(
      backend(),
      result.outputs['approval-id'],
      await oidcToken(stack),
    );
    const instance = await sandboxControl(
      stack.sandbox,
      'GET',
      `/feishu/instances/${body.imInstanceId}`,
    );
    expect(instance.status).toBe('CANCELED');
  });

  it('cancels the approval and its IM instance in the post step when the job is cancelled', async () => {
    const env = jobEnv();
    const step = startStep({ inputs: inputs(), env });
    const approval = await pendingApproval(step);
    step.process.kill('SIGINT');
    const main = await step.finished;
    expect(main.exitCode === 0 && main.signal === null).toBe(false);

    const post = await runStep({
      inputs: inputs(),
      env,
      post: { state: main.state },
    });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain(`Approval ${approval.id} canceled`);
    expect(post.stdout).toContain('the feishu instance was revoked.');
    expect(post.summary).toContain('the feishu instance was revoked');

    const { body } = await getWithTimeline(
      backend(),
      approval.id,
      await oidcToken(stack),
    );
    expect(body).toMatchObject({
      status: 'canceled',
      comment:
        'The workflow job was cancelled or failed while the approval was pending',
    });
    expect(body.timeline.map(event => event.type)).toEqual([
      'created',
      'im_instance_created',
      'canceled',
      'im_instance_revoked',
    ]);
    const instance = await sandboxControl(
      stack.sandbox,
      'GET',
      `/feishu/instances/${approval.imInstanceId}`,
    );
    expect(instance.status).toBe('CANCELED');
  });

  it('leaves a decided approval alone in the post step', async () => {
    const env = jobEnv();
    const step = startStep({ inputs: inputs(), env });
    const approval = await pendingApproval(step);
    await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
      openId: 'ou_bob',
    });
    const main = await step.finished;
    const post = await runStep({
      inputs: inputs(),
      env,
      post: { state: main.state },
    });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain(
      `Approval ${approval.id} is already rejected; nothing to cancel.`,
    );
  });

  it('keeps waiting through a backend restart and gets the decision', async () => {
    const step = startStep({ inputs: inputs(), env: jobEnv() });
    const approval = await pendingApproval(step);
    await backend().stop();
    await eventually(
      async () => step.stdout(),
      out => out.includes('Backstage could not be reached'),
    );
    await backend().restart();
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
    });
    const result = await step.finished;
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({
      'approval-id': approval.id,
      status: 'approved',
    });
    expect(result.stdout).toMatch(
      /::warning::Backstage could not be reached \(ECONNREFUSED\); retrying in \d+\.\d s/,
    );
  });

  it('opens without waiting, then a later job waits on the approval id; a restarted step finds the same approval', async () => {
    const env = jobEnv();
    const open = await runStep({ inputs: inputs({ wait: 'false' }), env });
    expect(open.exitCode).toBe(0);
    expect(open.outputs).toMatchObject({
      'approval-id': expect.stringMatching(UUID),
      status: 'pending',
      approved: 'false',
    });
    expect(open.summary).toContain('⏳ Approval pending');

    const again = await runStep({ inputs: inputs({ wait: 'false' }), env });
    expect(again.outputs['approval-id']).toBe(open.outputs['approval-id']);
    expect(again.stdout).toContain(
      'Found the approval this step already requested',
    );

    const rerun = await runStep({
      inputs: inputs({ wait: 'false' }),
      env: { ...env, GITHUB_RUN_ATTEMPT: `${env.GITHUB_RUN_ATTEMPT}-rerun` },
    });
    expect(rerun.outputs['approval-id']).not.toBe(open.outputs['approval-id']);

    const later = startStep({
      inputs: {
        'backstage-url': backend().url,
        'approval-id': open.outputs['approval-id'],
      },
      env: { ...jobEnv(), GITHUB_JOB: 'release' },
    });
    const approval = await pendingApproval(later);
    expect(approval.id).toBe(open.outputs['approval-id']);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
    });
    await expect(later.finished).resolves.toMatchObject({
      exitCode: 0,
      outputs: { status: 'approved', approved: 'true' },
    });
  });

  it('works with a static Backstage token, the run context marked self-reported', async () => {
    const step = startStep({
      inputs: inputs({
        template: 'deploy-web',
        auth: 'token',
        token: STATIC_TOKEN,
      }),
      env: {
        GITHUB_RUN_ATTEMPT: String(++attempt),
        GITHUB_REPOSITORY: 'acme/web',
      },
    });
    const approval = await pendingApproval(step);
    expect(approval.context).toMatchObject({
      verified: false,
      repository: 'acme/web',
      actor: JOB_ENV.GITHUB_ACTOR,
    });
    expect(step.stdout()).toContain(`::add-mask::${STATIC_TOKEN}`);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
    });
    await expect(step.finished).resolves.toMatchObject({ exitCode: 0 });
  });

  describe('fails at once, opening nothing', () => {
    async function expectNothingOpened(
      run: () => Promise<{ exitCode: number | null; stdout: string }>,
    ) {
      const before = (
        await sandboxControl(stack.sandbox, 'GET', '/feishu/instances')
      ).length;
      const result = await run();
      expect(result.exitCode).toBe(1);
      expect(
        (await sandboxControl(stack.sandbox, 'GET', '/feishu/instances'))
          .length,
      ).toBe(before);
      return result.stdout;
    }

    it('on a wrong input, naming it and what it accepts', async () => {
      const stdout = await expectNothingOpened(() =>
        runStep({ inputs: inputs({ timeout: '2 hours' }), env: jobEnv() }),
      );
      expect(stdout).toContain(
        '::error::timeout: expected a duration like 30m, 2h, 1d',
      );
    });

    it('without an OIDC token, saying which permission the job needs', async () => {
      const stdout = await expectNothingOpened(() =>
        runStep({
          inputs: inputs(),
          env: { GITHUB_RUN_ATTEMPT: String(++attempt) },
        }),
      );
      expect(stdout).toContain('permissions: id-token: write');
    });

    it('on a token the backend refuses', async () => {
      const stdout = await expectNothingOpened(() =>
        runStep({
          inputs: inputs({ audience: 'someone-else' }),
          env: jobEnv(),
        }),
      );
      expect(stdout).toMatch(
        /::error::Backstage answered 401 to POST \/approvals: .*audience/i,
      );
    });

    it('on a template whose policy excludes the repository', async () => {
      const stdout = await expectNothingOpened(() =>
        runStep({ inputs: inputs({ template: 'deploy-web' }), env: jobEnv() }),
      );
      expect(stdout).toMatch(
        /::error::Backstage answered 403 to POST \/approvals: .*acme\/api/,
      );
    });
  });
});
