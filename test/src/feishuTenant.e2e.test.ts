import { randomUUID } from 'node:crypto';
import {
  decideInSandbox,
  eventually,
  oidcToken,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  api,
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';
import { expectCrashDuringCreateToEndWithOneInstance } from './__testUtils__/lostCreate';

// The Feishu tenant's own rules, as a real tenant enforces them, met by the real backend:
// titles are i18n keys, a uuid creates one instance and a repeat fails with 60012, a node may
// take only one approver, and creates are limited per minute.

jest.setTimeout(120_000);

interface SandboxInstance {
  instanceCode: string;
  uuid: string | null;
  title: string | null;
  status: string;
}

const SOLO_TEMPLATE = {
  name: 'deploy-solo',
  integration: 'feishu-sandbox',
  form: 'SOLO',
  fields: { Service: '$${vars.service}' },
  approvers: ['alice@example.com', 'ou_bob', 'carol@example.com'],
  approverMode: 'any',
};

describe('a strict Feishu tenant (real backend on SQLite, Feishu sandbox over HTTP)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const instancesOf = async (approvalId: string) =>
    (
      await sandboxControl<SandboxInstance[]>(
        stack.sandbox,
        'GET',
        '/feishu/instances',
      )
    ).filter(instance => instance.uuid === approvalId);

  beforeAll(async () => {
    // A short reconciler period: it retries approvals whose create failed transiently.
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 1,
      templates: [SOLO_TEMPLATE],
    });
    await sandboxControl(stack.sandbox, 'POST', '/feishu/approvals', {
      approvalCode: 'SOLO',
      name: 'Single owner',
      form: [
        {
          id: 'widget_service',
          name: 'Service',
          type: 'input',
          required: true,
        },
      ],
      nodes: [
        {
          nodeId: 'node_owner',
          customNodeId: 'owner',
          name: 'Owner',
          type: 'OR',
          needApprover: true,
          approverChosenMulti: false,
        },
      ],
    });
  });
  afterAll(() => stack?.stop());

  it('title must be an @i18n@ key: the instance shows the approval title from i18n_resources', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const [instance] = await instancesOf(approval.id);
    expect(instance).toMatchObject({
      instanceCode: approval.imInstanceId,
      title: 'Deploy api from acme/api · requested by GitHub user octocat',
    });
    // Settled, so the reconciler reads no instance of this test later on.
    await api(backend(), 'POST', `/approvals/${approval.id}/cancel`, {
      token,
      body: { reason: 'done' },
    });
  });

  it.each(['reset', 'http500'] as const)(
    'lost create answer (%s) after the instance was made: one approval, one instance, decided normally',
    async lose => {
      await sandboxControl(stack.sandbox, 'POST', '/feishu/answer-faults', {
        route: 'instance.create',
        lose,
      });
      const { approval, token } = await openApproval(stack, backend());

      expect(approval.status).toBe('pending');
      const instances = await instancesOf(approval.id);
      expect(instances).toHaveLength(1);
      expect(approval.imInstanceId).toBe(instances[0].instanceCode);

      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
        openId: 'ou_alice',
        comment: 'ok',
      });
      expect((await waiting).body).toMatchObject({
        status: 'approved',
        decidedBy: 'Alice Chen',
        decidedById: 'ou_alice',
      });
    },
  );

  it('uuid conflict (60012) on the retry of a lost create: the retry attaches the one instance, no second one, decided normally', async () => {
    // The answer is lost and the read by uuid fails too (no other approval is pending, so the one
    // injected read failure meets the provider's lookup): the create is left for the reconciler,
    // whose retry (30 s later, its wait for a stranded approval) meets 60012 and finds the
    // instance by its uuid.
    await sandboxControl(stack.sandbox, 'POST', '/feishu/answer-faults', {
      route: 'instance.create',
      lose: 'reset',
    });
    await sandboxControl(stack.sandbox, 'POST', '/feishu/faults', {
      route: 'instance.get',
      code: 1395001,
      times: 1,
    });
    const { approval, token } = await openApproval(stack, backend());
    expect(approval.imInstanceId ?? null).toBeNull();

    const attached = await eventually(
      () => getWithTimeline(backend(), approval.id, token),
      response => Boolean(response.body.imInstanceId),
      // The reconciler takes up an approval without an instance 30 s after its last try.
      60_000,
    );
    expect(attached.body.status).toBe('pending');
    const instances = await instancesOf(approval.id);
    expect(instances).toHaveLength(1);
    expect(attached.body.imInstanceId).toBe(instances[0].instanceCode);
    expect(attached.body.timeline.map(entry => entry.type)).toEqual([
      'created',
      'im_error',
      'im_instance_created',
    ]);

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, instances[0].instanceCode, 'reject', {
      openId: 'ou_bob',
      comment: 'no',
    });
    expect((await waiting).body).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
    });
    expect(await instancesOf(approval.id)).toHaveLength(1);
  });

  it('a backend killed after Feishu made the instance and before its answer arrived ends, restarted, with one approval and that one instance', () =>
    expectCrashDuringCreateToEndWithOneInstance(stack, backend(), {
      im: 'feishu',
      idField: 'instanceCode',
      createRoute: 'instance.create',
      template: 'deploy',
      approver: 'ou_alice',
    }));

  it('instance create over its frequency limit (99991400; 100/min on Feishu, 1/min here): the approval waits and is opened by a later try, one instance', async () => {
    // A fresh minute for the limiter (instances of the earlier tests are forgotten too).
    await sandboxControl(stack.sandbox, 'POST', '/reset');
    await sandboxControl(stack.sandbox, 'PATCH', '/feishu/rate-limits', {
      instanceCreatePerMinute: 1,
    });
    const first = await openApproval(stack, backend());
    expect(first.approval.imInstanceId).toEqual(expect.any(String));

    const { approval, token } = await openApproval(stack, backend());
    expect(approval).toMatchObject({ status: 'pending' });
    expect(approval.imInstanceId ?? null).toBeNull();
    expect(
      (await sandboxControl(stack.sandbox, 'GET', '/feishu/stats')).rateLimited,
    ).toBe(1);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(
      body.timeline.find(entry => entry.type === 'im_error')?.message,
    ).toMatch(/99991400/);

    await sandboxControl(stack.sandbox, 'PATCH', '/feishu/rate-limits', {
      instanceCreatePerMinute: 100,
    });
    const attached = await eventually(
      () => getWithTimeline(backend(), approval.id, token),
      response => Boolean(response.body.imInstanceId),
      60_000,
    );
    expect(await instancesOf(approval.id)).toEqual([
      expect.objectContaining({
        instanceCode: attached.body.imInstanceId,
        status: 'PENDING',
      }),
    ]);
    await api(backend(), 'POST', `/approvals/${first.approval.id}/cancel`, {
      token: first.token,
      body: { reason: 'done' },
    });
    await api(backend(), 'POST', `/approvals/${approval.id}/cancel`, {
      token,
      body: { reason: 'done' },
    });
  });

  it('approver_chosen_multi false: a template listing 3 approvers for a one-approver node is refused with the reason, no instance', async () => {
    const token = await oidcToken(stack);
    const response = await api(backend(), 'POST', '/approvals', {
      token,
      body: {
        template: 'deploy-solo',
        idempotencyKey: randomUUID(),
        variables: { service: 'api' },
      },
    });
    const body = response.body as {
      id?: string;
      status?: string;
      error?: string | { message: string };
    };
    const message =
      typeof body.error === 'string' ? body.error : body.error?.message;
    expect(message).toMatch(
      /Feishu approval definition "SOLO"'s node "Owner" takes one approver; the template lists 3/,
    );
    // Refused outright (no approval), or recorded as failed without an IM instance.
    const recorded =
      body.id === undefined
        ? undefined
        : { status: body.status, instances: await instancesOf(body.id) };
    expect([undefined, { status: 'failed', instances: [] }]).toContainEqual(
      recorded,
    );
  });
});
