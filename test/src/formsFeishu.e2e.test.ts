import type {
  Approval,
  TemplateView,
} from '@im-approval/plugin-im-approval-common';
import {
  decideInSandbox,
  eventually,
  oidcToken,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  contextInSandbox,
  firstRunContext,
  LATER_COMMIT,
  laterCommitChanges,
} from './__testUtils__/requestContext';
import {
  FEISHU_APP,
  feishuCallback,
  templateForApi,
} from './__testUtils__/ims';
import {
  api,
  errorMessage,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// A Feishu approval definition the backend makes itself (POST /approval/v4/approvals, then the
// same call with its approval_code to update it in place), approvals walking its two nodes (any
// one, then all), an administrator's edit in the approval console found as drift, and an app
// without the approval-definition scope told which scope to grant and where.
jest.setTimeout(120_000);

const TEMPLATE = 'release-feishu';
const {
  approvers: _approvers,
  approverMode: _approverMode,
  ...common
} = templateForApi(feishuCallback.templateConfig);
const BODY = {
  ...common,
  name: TEMPLATE,
  integration: feishuCallback.integrationId,
  form: { create: true },
  fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
  stages: [
    {
      name: 'Team lead',
      approvers: ['alice@example.com', 'ou_bob'],
      rule: 'any',
    },
    { name: 'SRE', approvers: ['ou_bob', 'carol@example.com'], rule: 'all' },
  ],
};

interface SandboxDefinition {
  approvalCode: string;
  name: string;
  form: Array<{ id: string; name: string; type: string; required: boolean }>;
  nodes: Array<{ customNodeId?: string; name: string; type: string }>;
}

describe('Feishu approval definitions the backend makes (real backend, Feishu sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const settings = <T>(method: string, path: string, body?: unknown) =>
    api<T>(backend(), method, path, { token: STATIC_TOKEN, body });
  const managedForm = async () =>
    (
      await settings<{ items: TemplateView[] }>('GET', '/templates')
    ).body.items.find(template => template.name === TEMPLATE)?.managedForm;
  const definition = (code: string) =>
    sandboxControl<SandboxDefinition>(
      stack.sandbox,
      'GET',
      `/feishu/approvals/${code}`,
    );
  let formId: string;

  beforeAll(async () => {
    stack = await startStack({ database: 'sqlite', reconcileSeconds: 1 });
    await sandboxControl(stack.sandbox, 'POST', '/feishu/users', {
      openId: 'ou_carol',
      name: 'Carol Wang',
      email: 'carol@example.com',
    });
    const created = await settings('POST', '/templates', BODY);
    if (created.status !== 201)
      throw new Error(`POST /templates: ${errorMessage(created)}`);
    formId = (await managedForm())!.formId;
  });
  afterAll(() => stack?.stop());

  it('makes the definition in Feishu with one text widget per field and one node per stage, AND for all, OR for any', async () => {
    expect(await managedForm()).toMatchObject({
      formId: expect.stringMatching(/^[0-9A-F-]{36}$/),
      integration: feishuCallback.integrationId,
      drift: [],
    });
    const made = await definition(formId);
    expect(made.name).toBe(TEMPLATE);
    expect(made.form).toEqual([
      { id: 'field_1', name: 'Service', type: 'textarea', required: false },
      { id: 'field_2', name: 'Reason', type: 'textarea', required: false },
      { id: 'field_3', name: 'Context', type: 'textarea', required: false },
    ]);
    expect(
      made.nodes.map(node => `${node.customNodeId} ${node.name} ${node.type}`),
    ).toEqual(['stage_1 Team lead OR', 'stage_2 SRE AND']);
  });

  it('takes an approval through the any-one node, then the all node, showing each stage’s progress', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: TEMPLATE,
    });
    const code = approval.imInstanceId!;
    const instance = await sandboxControl<{
      approvalCode: string;
      form: Array<{ name: string; value: string }>;
      approvers: Array<{ openId: string; nodeName: string; status: string }>;
    }>(stack.sandbox, 'GET', `/feishu/instances/${code}`);
    expect(instance.approvalCode).toBe(formId);
    expect(
      instance.form.slice(0, 2).map(field => `${field.name}: ${field.value}`),
    ).toEqual(['Service: api', 'Reason: release 1.2']);
    expect(instance.form[2].name).toBe('Context');
    expect(instance.form[2].value.split('\n')).toEqual(
      firstRunContext(TEMPLATE),
    );
    expect(
      instance.approvers.map(a => `${a.nodeName} ${a.openId} ${a.status}`),
    ).toEqual([
      'Team lead ou_alice PENDING',
      'Team lead ou_bob PENDING',
      'SRE ou_bob WAITING',
      'SRE ou_carol WAITING',
    ]);

    const read = async () =>
      (
        await api<Approval>(backend(), 'GET', `/approvals/${approval.id}`, {
          token,
        })
      ).body;
    await decideInSandbox(stack, code, 'approve', {
      openId: 'ou_alice',
      comment: 'lead ok',
    });
    const afterLead = await eventually(
      read,
      a => a.stages[0]?.status === 'approved',
    );
    expect(afterLead.status).toBe('pending');
    expect(afterLead.stages).toMatchObject([
      {
        name: 'Team lead',
        rule: 'any',
        status: 'approved',
        approvedBy: ['Alice Chen'],
      },
      {
        name: 'SRE',
        rule: 'all',
        status: 'pending',
        waitingOn: expect.arrayContaining(['ou_bob', 'ou_carol']),
      },
    ]);

    await decideInSandbox(stack, code, 'approve', { openId: 'ou_bob' });
    const afterBob = await eventually(
      read,
      a => a.stages[1]?.approvedBy.length === 1,
    );
    expect(afterBob).toMatchObject({
      status: 'pending',
      stages: [
        { status: 'approved' },
        { status: 'pending', approvedBy: ['Bob Li'], waitingOn: ['ou_carol'] },
      ],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, code, 'approve', {
      openId: 'ou_carol',
      comment: 'sre ok',
    });
    const done = (await waiting).body;
    expect(done).toMatchObject({ status: 'approved', comment: 'sre ok' });
    expect(
      done.stages.map(
        stage => `${stage.status} ${stage.approvedBy.join(', ')}`,
      ),
    ).toEqual(['approved Alice Chen', 'approved Bob Li, Carol Wang']);
  });

  it('tells the next request what changes: a compare link from the commit last approved for the template and environment', async () => {
    const { approval } = await openApproval(
      stack,
      backend(),
      { template: TEMPLATE },
      LATER_COMMIT,
    );
    const context = await contextInSandbox(
      stack,
      'feishu',
      approval.imInstanceId!,
    );
    expect(context).toEqual(
      expect.arrayContaining(laterCommitChanges(TEMPLATE)),
    );
  });

  it('finds an edit made in the approval console, refuses approvals naming it, and is set right by updating the definition in place', async () => {
    await sandboxControl(
      stack.sandbox,
      'PATCH',
      `/feishu/approvals/${formId}`,
      {
        widgets: { field_2: { name: 'Why' } },
        nodes: { stage_2: { type: 'OR' } },
      },
    );
    const drift = [
      `Field "Reason" (field_2) is named "Why" in Feishu approval "${formId}"`,
      `Node "SRE" (stage_2, stage 2) is OR in Feishu approval "${formId}", not AND (the stage needs all of its approvers)`,
    ];
    // Saving the template again checks its form.
    const saved = await settings('PUT', `/templates/${TEMPLATE}`, BODY);
    expect(saved.status).toBe(200);
    expect((await managedForm())!.drift).toEqual(drift);

    const refused = await api(backend(), 'POST', '/approvals', {
      token: await oidcToken(stack),
      body: {
        template: TEMPLATE,
        idempotencyKey: `drift-${Date.now()}`,
        variables: { service: 'api', reason: 'release 1.3' },
      },
    });
    // Refused before anything is stored, saying what differs.
    expect(refused.status).toBe(409);
    const why = errorMessage(refused);
    expect(why).toContain(drift[0]);
    expect(why).toContain(drift[1]);

    const updated = await settings<{ formId: string; drift: string[] }>(
      'POST',
      `/templates/${TEMPLATE}/form`,
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ formId, drift: [] });
    const restored = await definition(formId);
    expect(restored.form.map(widget => widget.name)).toEqual([
      'Service',
      'Reason',
      'Context',
    ]);
    expect(restored.nodes.map(node => node.type)).toEqual(['OR', 'AND']);
    await openApproval(stack, backend(), { template: TEMPLATE });
  });

  it('says an app without the approval-definition scope must be granted one, and where', async () => {
    const app = `/feishu/apps/${FEISHU_APP.appId}`;
    await sandboxControl(stack.sandbox, 'PATCH', app, {
      definitionWrite: false,
    });
    try {
      const refused = await settings('POST', `/templates/${TEMPLATE}/form`);
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(errorMessage(refused)).toMatch(
        /App cli_e2e may not update approval definition "[0-9A-F-]{36}": it needs one of the scopes approval:approval, approval:definition\. Grant it in the Feishu developer console \(the app → Permissions & Scopes\), then create and publish a new app version/,
      );
    } finally {
      await sandboxControl(stack.sandbox, 'PATCH', app, {
        definitionWrite: true,
      });
    }
  });
});
