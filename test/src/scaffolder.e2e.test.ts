import type { Approval } from '@im-approval/plugin-im-approval-common';
import { decideInSandbox, eventually } from './__testUtils__/flow';

/** Waits until `check` holds; fails saying what did not happen. */
async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
) {
  if (!(await eventually(check, held => held, timeoutMs)))
    throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}
import {
  api,
  startStack,
  STATIC_TOKEN,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(180_000);

interface TaskEvent {
  type: string;
  body: { message?: string; status?: string; output?: Record<string, unknown> };
}

/**
 * A software template with an `im-approval:request` step, run by a signed-in person through the
 * real scaffolder of packages/backend: the task waits, the approver decides in the sandbox's
 * Feishu, and the task goes on (or fails).
 */
describe('a software template gated by an IM approval (real scaffolder, SQLite, Feishu sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  let guestToken: string;

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      templates: [
        {
          name: 'scaffolder-release',
          integration: 'feishu-sandbox',
          form: 'DEPLOY',
          title: 'Release $${vars.service}',
          fields: {
            Service: '$${vars.service}',
            widget_reason: '$${vars.reason}',
          },
          approvers: ['ou_bob'],
          approverMode: 'any',
        },
      ],
      extraConfig: () => ({ auth: { providers: { guest: {} } } }),
    });
    const refresh = await fetch(`${backend().url}/api/auth/guest/refresh`);
    guestToken = (await refresh.json()).backstageIdentity.token;
    // The catalog reads the example template in the background.
    await until(
      async () =>
        (
          await fetch(
            `${backend().url}/api/catalog/entities/by-name/template/default/gated-release`,
            { headers: { authorization: `Bearer ${STATIC_TOKEN}` } },
          )
        ).status === 200,
      'the catalog reading examples/templates/gated-release.yaml',
      60_000,
    );
  });
  afterAll(() => stack?.stop());

  async function run(values: Record<string, string>) {
    const response = await fetch(`${backend().url}/api/scaffolder/v2/tasks`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${guestToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        templateRef: 'template:default/gated-release',
        values: { approvalTemplate: 'scaffolder-release', ...values },
      }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  async function events(taskId: string): Promise<TaskEvent[]> {
    const response = await fetch(
      `${backend().url}/api/scaffolder/v2/tasks/${taskId}/events`,
      { headers: { authorization: `Bearer ${guestToken}` } },
    );
    return response.json();
  }

  const logOf = (all: TaskEvent[]) =>
    all.flatMap(e =>
      e.type === 'log' && e.body.message ? [e.body.message] : [],
    );
  const finished = (all: TaskEvent[]) =>
    all.find(e => e.type === 'completion')?.body;

  /** Bob decides in the sandbox's Feishu; the task's events once it has finished. */
  async function decideAndFinish(
    taskId: string,
    approval: Approval,
    decision: 'approve' | 'reject',
    comment: string,
  ): Promise<TaskEvent[]> {
    await decideInSandbox(stack, approval.imInstanceId!, decision, {
      openId: 'ou_bob',
      comment,
    });
    let all: TaskEvent[] = [];
    await until(
      async () => {
        all = await events(taskId);
        return finished(all) !== undefined;
      },
      'the task finishing',
      60_000,
    );
    return all;
  }

  /** The approval the task opened, once it has its IM instance. */
  async function approvalOf(reason: string): Promise<Approval> {
    let found: Approval | undefined;
    await until(async () => {
      const listed = await api<{ items: Approval[] }>(
        backend(),
        'GET',
        '/approvals?template=scaffolder-release',
        { token: STATIC_TOKEN },
      );
      found = listed.body.items.find(
        a => a.imInstanceId && a.form.some(f => f.value === reason),
      );
      return Boolean(found);
    }, `the task opening an approval for "${reason}"`);
    return found!;
  }

  it('waits for the approver, then completes with who decided', async () => {
    const taskId = await run({ service: 'api', reason: 'e2e approve' });
    const approval = await approvalOf('e2e approve');
    expect(approval.requester).toMatchObject({
      identifiedBy: 'backstage-user',
      entityRef: 'user:development/guest',
    });
    expect(approval.context).toMatchObject({
      repository: 'acme/api',
      environment: 'production',
      runId: taskId,
    });
    await until(
      async () =>
        logOf(await events(taskId)).some(line =>
          line.includes(
            `Asked ou_bob in feishu: ${stack.sandbox.url}/feishu/instances/${approval.imInstanceId}`,
          ),
        ),
      'the task log saying who is asked and where',
    );
    expect(finished(await events(taskId))).toBeUndefined();

    const all = await decideAndFinish(taskId, approval, 'approve', 'ship it');
    expect(finished(all)).toMatchObject({
      message: 'Run completed with status: completed',
      output: {
        links: [
          {
            title: 'The approval',
            url: `/im-approval/approvals/${approval.id}`,
          },
          { title: 'The request in the IM', url: approval.imUrl },
        ],
      },
    });
    expect(logOf(all)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'The approval was approved by Bob Li (ou_bob): "ship it"',
        ),
        expect.stringContaining('Released api, approved by Bob Li (ou_bob)'),
      ]),
    );
  });

  it('fails the task when the approver rejects', async () => {
    const taskId = await run({ service: 'api', reason: 'e2e reject' });
    const approval = await approvalOf('e2e reject');
    const all = await decideAndFinish(taskId, approval, 'reject', 'not now');
    expect(finished(all)).toMatchObject({
      message: 'Run completed with status: failed',
    });
    expect(logOf(all).join('\n')).toContain(
      'The approval was rejected by Bob Li (ou_bob): "not now"',
    );
    expect(logOf(all).join('\n')).not.toContain('Released api');
  });
});
