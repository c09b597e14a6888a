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
import { WECOM_APP, wecomCallback, templateForApi } from './__testUtils__/ims';
import {
  api,
  errorMessage,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// A WeCom approval template the backend makes itself (create_template, then update_template in
// place), approvals through two stages (any one, then all), an administrator's edit in WeCom's
// console found as drift, and an app not allowed to call the Approval API told where to fix it.
jest.setTimeout(120_000);

const TEMPLATE = 'release-wecom';
const { approvers: _approvers, ...common } = templateForApi(
  wecomCallback.templateConfig,
);
const BODY = {
  ...common,
  name: TEMPLATE,
  integration: wecomCallback.integrationId,
  form: { create: true },
  fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
  stages: [
    {
      name: 'Team lead',
      approvers: ['alice@example.com', '13800000002'],
      rule: 'any',
    },
    { name: 'SRE', approvers: ['alice', 'bob'], rule: 'all' },
  ],
};

interface SandboxTemplate {
  templateId: string;
  name: string;
  controls: Array<{ control: string; id: string; title: string }>;
}

describe('WeCom templates the backend makes (real backend, WeCom sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const settings = <T>(method: string, path: string, body?: unknown) =>
    api<T>(backend(), method, path, { token: STATIC_TOKEN, body });
  const managedForm = async () =>
    (
      await settings<{ items: TemplateView[] }>('GET', '/templates')
    ).body.items.find(template => template.name === TEMPLATE)?.managedForm;
  const sandboxTemplate = (templateId: string) =>
    sandboxControl<SandboxTemplate>(
      stack.sandbox,
      'GET',
      `/wecom/templates/${templateId}`,
    );
  let formId: string;

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 1,
      ims: [wecomCallback],
    });
    const created = await settings('POST', '/templates', BODY);
    if (created.status !== 201)
      throw new Error(`POST /templates: ${errorMessage(created)}`);
    formId = (await managedForm())!.formId;
  });
  afterAll(() => stack?.stop());

  it('makes the template in WeCom with one text control per field, titled by its label', async () => {
    expect(await managedForm()).toMatchObject({
      formId: expect.stringMatching(/^C4/),
      integration: wecomCallback.integrationId,
      drift: [],
    });
    const made = await sandboxTemplate(formId);
    expect(made.name).toBe(TEMPLATE);
    expect(made.controls).toEqual([
      { control: 'Text', id: 'Text-01', title: 'Service', required: false },
      { control: 'Text', id: 'Text-02', title: 'Reason', required: false },
      {
        control: 'Textarea',
        id: 'Textarea-03',
        title: 'Context',
        required: false,
      },
    ]);
  });

  it('takes an approval through the any-one stage, then the all stage, showing each stage’s progress', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: TEMPLATE,
    });
    const spNo = approval.imInstanceId!;
    const request = await sandboxControl<{
      templateId: string;
      form: Array<{ title: string; value: string }>;
      approvers: Array<{ userId: string; node: number; apvRel: string }>;
    }>(stack.sandbox, 'GET', `/wecom/instances/${spNo}`);
    expect(request.templateId).toBe(formId);
    expect(request.form.slice(0, 2)).toEqual([
      { id: 'Text-01', title: 'Service', value: 'api' },
      { id: 'Text-02', title: 'Reason', value: 'release 1.2' },
    ]);
    expect(request.form[2].title).toBe('Context');
    expect(request.form[2].value.split('\n')).toEqual(
      firstRunContext(TEMPLATE),
    );
    expect(
      request.approvers.map(a => `${a.node} ${a.apvRel} ${a.userId}`),
    ).toEqual(['0 OR alice', '0 OR bob', '1 AND alice', '1 AND bob']);

    const read = async () =>
      (
        await api<Approval>(backend(), 'GET', `/approvals/${approval.id}`, {
          token,
        })
      ).body;
    await decideInSandbox(
      stack,
      spNo,
      'approve',
      { userId: 'bob', comment: 'lead ok' },
      'wecom',
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
      },
      {
        name: 'SRE',
        rule: 'all',
        status: 'pending',
        waitingOn: expect.arrayContaining(['alice', 'bob']),
      },
    ]);

    await decideInSandbox(stack, spNo, 'approve', { userId: 'alice' }, 'wecom');
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
      spNo,
      'approve',
      { userId: 'bob', comment: 'sre ok' },
      'wecom',
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
      { template: TEMPLATE },
      LATER_COMMIT,
    );
    const context = await contextInSandbox(
      stack,
      'wecom',
      approval.imInstanceId!,
    );
    expect(context).toEqual(
      expect.arrayContaining(laterCommitChanges(TEMPLATE)),
    );
  });

  it('finds an edit made in WeCom’s console, refuses approvals naming it, and is set right by updating the form in place', async () => {
    await sandboxControl(stack.sandbox, 'PATCH', `/wecom/templates/${formId}`, {
      rename: { 'Text-02': 'Why' },
    });
    // Saving the template again checks its form.
    const saved = await settings('PUT', `/templates/${TEMPLATE}`, BODY);
    expect(saved.status).toBe(200);
    const drift = (await managedForm())!.drift;
    expect(drift).toEqual([
      'field "Reason" (control Text-02) was renamed to "Why" in WeCom',
    ]);

    const refused = await api<{ error: { message: string } }>(
      backend(),
      'POST',
      '/approvals',
      {
        token: await oidcToken(stack),
        body: {
          template: TEMPLATE,
          idempotencyKey: `drift-${Date.now()}`,
          variables: { service: 'api', reason: 'release 1.3' },
        },
      },
    );
    // Refused before anything is stored, saying what differs.
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /was changed there: field "Reason" \(control Text-02\) was renamed to "Why" in WeCom/,
    );

    const updated = await settings<{ formId: string; drift: string[] }>(
      'POST',
      `/templates/${TEMPLATE}/form`,
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ formId, drift: [] });
    expect(
      (await sandboxTemplate(formId)).controls.map(control => control.title),
    ).toEqual(['Service', 'Reason', 'Context']);
    await openApproval(stack, backend(), { template: TEMPLATE });
  });

  it('says an app not allowed to call the Approval API must be added to its list, and where', async () => {
    const app = `/wecom/apps/${WECOM_APP.agentId}`;
    await sandboxControl(stack.sandbox, 'PATCH', app, { approvalApi: false });
    try {
      const refused = await settings('POST', `/templates/${TEMPLATE}/form`);
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(errorMessage(refused)).toMatch(
        /WeCom app 1000002 .* may not update approval template .*301055.*in the WeCom admin console, open the Approval app → API and add the app to "apps that may call the API"/,
      );
    } finally {
      await sandboxControl(stack.sandbox, 'PATCH', app, { approvalApi: true });
    }
  });
});
