import type {
  Approval,
  TemplateView,
} from '@im-approval/plugin-im-approval-common';
import {
  contextInSandbox,
  firstRunContext,
  LATER_COMMIT,
  laterCommitChanges,
} from './__testUtils__/requestContext';
import {
  decideInSandbox,
  eventually,
  oidcToken,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import { DINGTALK_APP, dingtalkCallback } from './__testUtils__/ims';
import {
  api,
  errorMessage,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// DingTalk OA approval forms the backend makes itself (POST /v1.0/workflow/forms, then updated in
// place by processCode): a template from app-config with two stages (any one, then all) whose
// approvals walk DingTalk's approver steps in order, an administrator's edit in the console found
// as drift, and an app without Workflow.Form.Write told what to grant and where.
jest.setTimeout(120_000);

const { approvers: _approvers, ...common } = dingtalkCallback.templateConfig;
const FIELDS = { Service: '$${vars.service}', Reason: '$${vars.reason}' };
const STAGES = [
  { name: 'Team lead', approvers: ['13800000001', 'bob'], rule: 'any' },
  { name: 'SRE', approvers: ['alice', 'bob'], rule: 'all' },
];
/** From app-config: its form is made by POST /templates/:name/form (or its first use). */
const CONFIG_TEMPLATE = {
  ...common,
  name: 'release-dingtalk',
  integration: dingtalkCallback.integrationId,
  form: { create: true },
  fields: FIELDS,
  stages: STAGES,
};
/** Saved through the API, so saving it again checks its form for edits made in DingTalk. */
const API_TEMPLATE = JSON.parse(
  // app-config's $${…} escapes are for config files; the API takes the template as it is.
  JSON.stringify({ ...CONFIG_TEMPLATE, name: 'hotfix-dingtalk' }).replaceAll(
    '$${',
    '${',
  ),
);

interface SandboxForm {
  processCode: string;
  name: string;
  createdByApp: string | null;
  components: Array<{
    componentType: string;
    id: string;
    label: string;
    required: boolean;
  }>;
}

describe('DingTalk forms the backend makes (real backend, DingTalk sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const settings = <T>(method: string, path: string, body?: unknown) =>
    api<T>(backend(), method, path, { token: STATIC_TOKEN, body });
  const managedForm = async (name: string) =>
    (
      await settings<{ items: TemplateView[] }>('GET', '/templates')
    ).body.items.find(template => template.name === name)?.managedForm;
  const sandboxForm = (processCode: string) =>
    sandboxControl<SandboxForm>(
      stack.sandbox,
      'GET',
      `/dingtalk/forms/${processCode}`,
    );
  let formId: string;

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 1,
      ims: [dingtalkCallback],
      templates: [CONFIG_TEMPLATE],
    });
    const made = await settings<{ formId: string }>(
      'POST',
      `/templates/${CONFIG_TEMPLATE.name}/form`,
    );
    if (made.status !== 200)
      throw new Error(`POST /templates/:name/form: ${errorMessage(made)}`);
    formId = made.body.formId;
  });
  afterAll(() => stack?.stop());

  it('makes the form in DingTalk with one text component per field, by label, and no drift', async () => {
    expect(await managedForm(CONFIG_TEMPLATE.name)).toMatchObject({
      formId,
      integration: dingtalkCallback.integrationId,
      drift: [],
    });
    expect(await sandboxForm(formId)).toEqual({
      processCode: formId,
      name: CONFIG_TEMPLATE.name,
      description: null,
      createdByApp: DINGTALK_APP.appKey,
      components: [
        {
          componentType: 'TextareaField',
          id: 'field_1',
          label: 'Service',
          required: false,
        },
        {
          componentType: 'TextareaField',
          id: 'field_2',
          label: 'Reason',
          required: false,
        },
        {
          componentType: 'TextareaField',
          id: 'field_3',
          label: 'Context',
          required: false,
        },
      ],
    });
  });

  it('takes an approval through the any-one step, then the all step, showing each stage’s progress', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: CONFIG_TEMPLATE.name,
    });
    const id = approval.imInstanceId!;
    const instance = await sandboxControl<{
      processCode: string;
      form: Array<{ name: string; value: string }>;
      approvers: Array<{ userId: string; node: number; actionType: string }>;
    }>(stack.sandbox, 'GET', `/dingtalk/instances/${encodeURIComponent(id)}`);
    expect(instance.processCode).toBe(formId);
    expect(instance.form.slice(0, 2)).toEqual([
      { name: 'Service', value: 'api' },
      { name: 'Reason', value: 'release 1.2' },
    ]);
    // DingTalk shows an instance by its form's name: the title leads the context.
    expect(instance.form[2].name).toBe('Context');
    expect(instance.form[2].value.split('\n')).toEqual([
      `${approval.title} · requested by GitHub user octocat`,
      ...firstRunContext(CONFIG_TEMPLATE.name),
    ]);
    expect(
      instance.approvers.map(a => `${a.node} ${a.actionType} ${a.userId}`),
    ).toEqual(['0 OR alice', '0 OR bob', '1 AND alice', '1 AND bob']);

    const read = async () =>
      (
        await api<Approval>(backend(), 'GET', `/approvals/${approval.id}`, {
          token,
        })
      ).body;
    await decideInSandbox(
      stack,
      id,
      'approve',
      { userId: 'bob', comment: 'lead ok' },
      'dingtalk',
    );
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
        approvedBy: ['Bob Li'],
        waitingOn: [],
      },
      {
        name: 'SRE',
        rule: 'all',
        status: 'pending',
        approvedBy: [],
        waitingOn: ['alice', 'bob'],
      },
    ]);

    await decideInSandbox(
      stack,
      id,
      'approve',
      { userId: 'alice' },
      'dingtalk',
    );
    const afterAlice = await eventually(
      read,
      a => a.stages[1]?.approvedBy.length === 1,
    );
    expect(afterAlice).toMatchObject({
      status: 'pending',
      stages: [
        { status: 'approved' },
        { status: 'pending', approvedBy: ['Alice Chen'], waitingOn: ['bob'] },
      ],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      id,
      'approve',
      { userId: 'bob', comment: 'sre ok' },
      'dingtalk',
    );
    const done = (await waiting).body;
    expect(done).toMatchObject({ status: 'approved', comment: 'sre ok' });
    expect(
      done.stages.map(
        stage => `${stage.status} ${stage.approvedBy.join(', ')}`,
      ),
    ).toEqual(['approved Bob Li', 'approved Alice Chen, Bob Li']);
  });

  it('tells the next request what changes: a compare link from the commit last approved for the template and environment', async () => {
    const { approval } = await openApproval(
      stack,
      backend(),
      { template: CONFIG_TEMPLATE.name },
      LATER_COMMIT,
    );
    const context = await contextInSandbox(
      stack,
      'dingtalk',
      approval.imInstanceId!,
    );
    expect(context).toEqual(
      expect.arrayContaining(laterCommitChanges(CONFIG_TEMPLATE.name)),
    );
  });

  it('finds an edit made in DingTalk’s console, refuses approvals naming it, and is set right by updating the form in place', async () => {
    const created = await settings('POST', '/templates', API_TEMPLATE);
    if (created.status !== 201)
      throw new Error(`POST /templates: ${errorMessage(created)}`);
    const made = (await managedForm(API_TEMPLATE.name))!;
    expect(made.drift).toEqual([]);
    await sandboxControl(
      stack.sandbox,
      'PATCH',
      `/dingtalk/forms/${made.formId}`,
      {
        rename: { Reason: 'Why' },
        add: [{ componentType: 'TextField', label: 'Ticket', required: true }],
      },
    );
    // Saving the template again checks its form.
    const saved = await settings(
      'PUT',
      `/templates/${API_TEMPLATE.name}`,
      API_TEMPLATE,
    );
    expect(saved.status).toBe(200);
    const drift = [
      `Field "Reason" was renamed to "Why" in DingTalk form ${made.formId}`,
      `DingTalk form ${made.formId} has a required field "Ticket" that the template does not fill`,
    ];
    expect((await managedForm(API_TEMPLATE.name))!.drift).toEqual(drift);

    const refused = await api(backend(), 'POST', '/approvals', {
      token: await oidcToken(stack),
      body: {
        template: API_TEMPLATE.name,
        idempotencyKey: `drift-${Date.now()}`,
        variables: { service: 'api', reason: 'release 1.3' },
      },
    });
    // Refused as a request (4xx), or recorded as failed without an IM instance: either names the edit.
    const refusal =
      refused.status === 201
        ? (refused.body as Approval)
        : {
            status: 'failed',
            imInstanceId: null,
            error: errorMessage(refused),
          };
    expect(
      refused.status === 201 || (refused.status >= 400 && refused.status < 500),
    ).toBe(true);
    expect(refusal).toMatchObject({ status: 'failed', imInstanceId: null });
    expect(refusal.error).toContain(drift[0]);
    expect(refusal.error).toContain(drift[1]);

    const updated = await settings<{ formId: string; drift: string[] }>(
      'POST',
      `/templates/${API_TEMPLATE.name}/form`,
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ formId: made.formId, drift: [] });
    expect(
      (await sandboxForm(made.formId)).components.map(c => c.label),
    ).toEqual(['Service', 'Reason', 'Context']);
    await openApproval(stack, backend(), { template: API_TEMPLATE.name });
  });

  it('says an app without the form-write permission needs Workflow.Form.Write, granted in the developer console', async () => {
    const app = `/dingtalk/apps/${DINGTALK_APP.appKey}`;
    await sandboxControl(stack.sandbox, 'PATCH', app, {
      revokedPermissions: ['Workflow.Form.Write'],
    });
    try {
      const refused = await settings(
        'POST',
        `/templates/${CONFIG_TEMPLATE.name}/form`,
      );
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(errorMessage(refused)).toMatch(
        /DingTalk app dinge2ecallback may not update approval form "PROC-[^"]+": it lacks the permission Workflow\.Form\.Write; grant it in the DingTalk developer console \(open-dev\.dingtalk\.com\) → the app → Permissions \(权限管理\)/,
      );
    } finally {
      await sandboxControl(stack.sandbox, 'PATCH', app, {
        revokedPermissions: [],
      });
    }
  });
});
