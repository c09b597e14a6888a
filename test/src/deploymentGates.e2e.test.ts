import type { GithubRun } from '@im-approval/im-sandbox';
import type {
  Approval,
  GithubSetup,
} from '@im-approval/plugin-im-approval-common';
import { createHmac } from 'node:crypto';
import { decideInSandbox, eventually } from './__testUtils__/flow';
import {
  api,
  getWithTimeline,
  sandboxControl,
  startStack,
  STATIC_TOKEN,
  type DatabaseKind,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

// Deployment gates end to end: the real backend as the sandbox GitHub's App, webhooks signed as
// GitHub signs them, the IM decision in the sandbox's Feishu, and the verdict GitHub records.

const GATE_TEMPLATE = {
  name: 'gate-deploy',
  integration: 'feishu-sandbox',
  form: 'DEPLOY',
  title: 'Deploy $${repository} to $${environment}',
  fields: {
    Service: '$${vars.service}',
    widget_reason: 'Run $${runUrl} ($${vars.event}, PRs $${vars.pullRequests})',
  },
  approvers: ['alice@example.com', 'ou_bob'],
  approverMode: 'any',
  policy: { repositories: ['acme/*'], refs: ['refs/heads/main'] },
};

const GATES = [
  {
    name: 'production',
    environments: ['production'],
    repositories: ['acme/*'],
    template: 'gate-deploy',
    variables: { service: 'api' },
  },
  {
    name: 'quick',
    environments: ['quick-*'],
    template: 'gate-deploy',
    variables: { service: 'api' },
    timeout: '3s',
  },
  {
    // Opens nothing: its template refuses every repository outside acme.
    name: 'foreign',
    environments: ['foreign'],
    template: 'gate-deploy',
    variables: { service: 'api' },
  },
];

function github(stack: Stack) {
  return stack.sandbox.github;
}

function runJob(stack: Stack, body: Record<string, string>) {
  return sandboxControl<GithubRun>(stack.sandbox, 'POST', '/github/jobs', {
    repository: 'acme/api',
    environment: 'production',
    ...body,
  });
}

function run(stack: Stack, id: number): GithubRun {
  return github(stack).runs.get(id)!;
}

async function approvalOfRun(stack: Stack, runId: number): Promise<Approval> {
  const found = await eventually(async () => {
    const { body } = await api<{ items: Approval[] }>(
      stack.backends[0],
      'GET',
      '/approvals?template=gate-deploy&limit=100',
      { token: STATIC_TOKEN },
    );
    return body.items.find(
      a => a.context.runId === String(runId) && a.imInstanceId,
    );
  }, Boolean);
  if (!found)
    throw new Error(`no approval with an IM instance for run ${runId}`);
  return found;
}

async function released(stack: Stack, runId: number) {
  return eventually(
    async () => run(stack, runId),
    r => r.jobs[0].status === 'completed',
  );
}

/** The `deployment_protection_rule` delivery that asked about the run. */
function requestOfRun(stack: Stack, runId: number) {
  return github(stack).deliveries.find(
    d =>
      d.event === 'deployment_protection_rule' &&
      (d.payload as any).deployment_callback_url.includes(`/runs/${runId}/`),
  );
}

function reviewsOf(stack: Stack, runId: number) {
  return github(stack).reviewLog.filter(r => r.runId === runId && r.state);
}

function describeGates(database: DatabaseKind, replicas: number) {
  describe(`deployment gates on ${database}, ${replicas} replica(s)`, () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({
        database,
        replicas,
        templates: [GATE_TEMPLATE],
        gates: GATES,
        reconcileSeconds: 600,
      });
    });

    afterAll(async () => {
      await stack?.stop();
    });

    it('holds the job, and releases it when the approver approves in the IM', async () => {
      const { id } = await runJob(stack, {});
      const approval = await approvalOfRun(stack, id);
      expect(approval.context).toMatchObject({
        repository: 'acme/api',
        environment: 'production',
        ref: 'refs/heads/main',
        actor: 'octocat',
        runId: String(id),
        verified: true,
        gate: 'production',
      });
      expect(approval.form).toEqual(
        expect.arrayContaining([
          { field: 'Service', label: 'Service', value: 'api' },
        ]),
      );
      expect(run(stack, id).jobs[0].status).toBe('waiting');
      // The status report names the IM, the approvers and the time left.
      const waiting = await eventually(
        async () => run(stack, id).jobs[0].statusReports,
        reports => reports.length > 0,
      );
      expect(waiting[0].comment).toMatch(
        /^Waiting for approval in Feishu\/Lark from alice\\@example\\\.com, ou\\_bob .*left/,
      );

      // The approver's decision is answered on the other replica when there are two.
      await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
        openId: 'ou_alice',
        comment: 'ship it *now*',
      });
      const done = await released(stack, id);
      expect(done.jobs[0].conclusion).toBe('success');
      expect(done.jobs[0].review).toMatchObject({ state: 'approved' });
      expect(done.jobs[0].review!.comment).toMatch(
        /^Approved by Alice Chen in Feishu\/Lark: “ship it \\\*now\\\*”/,
      );
      // Exactly once, whoever got there first.
      await new Promise(r => setTimeout(r, 1000));
      expect(reviewsOf(stack, id)).toEqual([
        {
          runId: id,
          environment: 'production',
          state: 'approved',
          status: 204,
        },
      ]);
    });

    it('fails the job when the approver rejects', async () => {
      const { id } = await runJob(stack, {});
      const approval = await approvalOfRun(stack, id);
      await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
        openId: 'ou_bob',
        comment: 'not today',
      });
      const done = await released(stack, id);
      expect(done.jobs[0].conclusion).toBe('failure');
      expect(done.jobs[0].review!.comment).toMatch(
        /^Rejected by Bob Li in Feishu\/Lark: “not today”/,
      );
    });

    it('takes a redelivery on any replica as the same job', async () => {
      const { id } = await runJob(stack, {});
      const approval = await approvalOfRun(stack, id);
      const delivery = requestOfRun(stack, id)!;
      const body = JSON.stringify(delivery.payload);
      const send = (backend: number, guid: string) =>
        fetch(`${stack.backends[backend].api}/github/webhook`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': delivery.event,
            'x-github-delivery': guid,
            'x-hub-signature-256': `sha256=${createHmac('sha256', github(stack).webhookSecret).update(body).digest('hex')}`,
          },
          body,
        }).then(async r => ({ status: r.status, body: await r.json() }));
      const last = stack.backends.length - 1;
      expect(await send(last, delivery.guid)).toMatchObject({
        status: 200,
        body: { outcome: 'duplicate' },
      });
      // The same job under a new delivery id (GitHub asking again): still the one approval.
      expect(await send(last, `${delivery.guid}-again`)).toMatchObject({
        status: 202,
        body: { message: expect.stringMatching(/^already recorded/) },
      });
      const { body: list } = await api<{ items: Approval[] }>(
        stack.backends[last],
        'GET',
        '/approvals?template=gate-deploy&limit=100',
        { token: STATIC_TOKEN },
      );
      expect(
        list.items.filter(a => a.context.runId === String(id)).map(a => a.id),
      ).toEqual([approval.id]);
    });

    if (replicas > 1) return;

    it('rejects the job when nobody decides in time', async () => {
      const { id } = await runJob(stack, { environment: 'quick-check' });
      const done = await eventually(
        async () => run(stack, id),
        r => r.jobs[0].status === 'completed',
        20_000,
      );
      expect(done.jobs[0].review).toMatchObject({ state: 'rejected' });
      expect(done.jobs[0].review!.comment).toMatch(
        /nobody decided in Feishu\/Lark within 3s; the approval expired/,
      );
      const approval = (
        await api<{ items: Approval[] }>(
          stack.backends[0],
          'GET',
          '/approvals?template=gate-deploy&limit=100',
          { token: STATIC_TOKEN },
        )
      ).body.items.find(a => a.context.runId === String(id))!;
      expect(approval.status).toBe('expired');
    });

    it('cancels the approval and revokes the IM instance when the run is cancelled on GitHub', async () => {
      const { id } = await runJob(stack, {});
      const approval = await approvalOfRun(stack, id);
      await sandboxControl(stack.sandbox, 'POST', `/github/runs/${id}/cancel`);
      const { body: timeline } = await eventually(
        () => getWithTimeline(stack.backends[0], approval.id, STATIC_TOKEN),
        ({ body }) => body.timeline.some(e => e.type === 'im_instance_revoked'),
      );
      expect(timeline.status).toBe('canceled');
      expect(timeline.timeline).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'canceled', source: 'github' }),
        ]),
      );
      // GitHub already ended the job: nothing is sent.
      await new Promise(r => setTimeout(r, 1000));
      expect(reviewsOf(stack, id)).toEqual([]);
    });

    it('opens one approval however often GitHub redelivers the webhook', async () => {
      const { id } = await runJob(stack, {});
      const approval = await approvalOfRun(stack, id);
      const delivery = requestOfRun(stack, id)!;
      expect(delivery.attempts[0].status).toBe(202);
      for (let i = 0; i < 3; i++)
        await sandboxControl(
          stack.sandbox,
          'POST',
          `/github/deliveries/${delivery.guid}/redeliver`,
        );
      await eventually(
        async () => delivery.attempts,
        attempts => attempts.length === 4 && attempts.every(a => a.status),
      );
      expect(delivery.attempts.map(a => a.status)).toEqual([
        202, 200, 200, 200,
      ]);
      const { body } = await api<{ items: Approval[] }>(
        stack.backends[0],
        'GET',
        '/approvals?template=gate-deploy&limit=100',
        { token: STATIC_TOKEN },
      );
      expect(
        body.items.filter(a => a.context.runId === String(id)).map(a => a.id),
      ).toEqual([approval.id]);
    });

    it("answers GitHub with the policy's sentence when the template refuses the run", async () => {
      const { id } = await runJob(stack, {
        repository: 'acme/api',
        environment: 'foreign',
        ref: 'refs/heads/feature',
      });
      const done = await released(stack, id);
      expect(done.jobs[0].review).toMatchObject({ state: 'rejected' });
      expect(done.jobs[0].review!.comment).toMatch(
        /^Rejected by gate foreign: Template "gate\\-deploy" does not allow ref "refs\/heads\/feature"/,
      );
    });

    it('acknowledges and ignores an environment no gate covers, and refuses a forged delivery', async () => {
      const { id } = await runJob(stack, { environment: 'staging' });
      const delivery = await eventually(
        async () => requestOfRun(stack, id),
        d => Boolean(d?.attempts[0]?.status),
      );
      expect(delivery!.attempts[0].status).toBe(200);
      expect(run(stack, id).jobs[0].status).toBe('waiting');

      const body = JSON.stringify({ zen: 'Keep it logically awesome.' });
      const forged = await fetch(`${stack.backends[0].api}/github/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': 'forged-1',
          'x-hub-signature-256': `sha256=${createHmac('sha256', 'not-the-secret').update(body).digest('hex')}`,
        },
        body,
      });
      expect(forged.status).toBe(401);
      const setup = await api<GithubSetup>(
        stack.backends[0],
        'GET',
        '/github/setup',
        { token: STATIC_TOKEN },
      );
      expect(setup.body).toMatchObject({
        app: { source: 'config', appId: String(github(stack).appId) },
        webhookUrl: `${stack.backends[0].api}/github/webhook`,
      });
      expect(setup.body.deliveries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            id: 'forged-1',
            outcome: 'refused',
            message: expect.stringMatching(/does not match/),
          }),
          expect.objectContaining({
            id: delivery!.guid,
            outcome: 'ignored',
            message: expect.stringMatching(
              /no gate covers acme\/api environment "staging"/,
            ),
          }),
        ]),
      );
    });

    it('still answers GitHub, once, when the backend dies between the decision and the callback', async () => {
      const { id } = await runJob(stack, {});
      const approval = await approvalOfRun(stack, id);
      await sandboxControl(stack.sandbox, 'PUT', '/github/faults', {
        reviewFailures: 1,
      });
      await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
        openId: 'ou_alice',
      });
      await eventually(
        async () => github(stack).reviewLog.filter(r => r.runId === id),
        log => log.some(r => r.status === 503),
      );
      // Killed while the verdict waits for its retry: it is in the database, not in memory.
      await stack.backends[0].crashAndRestart();
      const done = await released(stack, id);
      expect(done.jobs[0].review).toMatchObject({ state: 'approved' });
      await new Promise(r => setTimeout(r, 1000));
      expect(reviewsOf(stack, id).map(r => r.status)).toEqual([503, 204]);
    });
  });
}

describeGates('sqlite', 1);
describeGates('postgres', 2);
