import { DINGTALK_APP, dingtalk } from '../testing/dingtalk';
import { control, useTestSandbox } from '../testing/sandbox';

// "Create or update an approval form template" (POST /v1.0/workflow/forms): its rules and error
// codes, forms made by it read and used like the console's, and console edits of them.

const textarea = (label: string, componentId?: string) => ({
  componentType: 'TextareaField',
  props: { label, ...(componentId ? { componentId } : {}), required: false },
});

const DEPLOY_FORM = {
  name: 'Staged deployment',
  description: 'Made by API',
  formComponents: [
    textarea('Service', 'field_1'),
    {
      componentType: 'TextField',
      props: { label: 'Run', componentId: 'field_2', required: true },
    },
  ],
};

describe('DingTalk approval forms made by API', () => {
  const t = useTestSandbox();

  const schemaOf = async (
    api: Awaited<ReturnType<typeof dingtalk>>,
    processCode: string,
  ) =>
    (
      await api.get(
        `/v1.0/workflow/forms/schemas/processCodes?processCode=${processCode}`,
      )
    ).body.result;

  it('creates a form, readable by the schema read, and updates it in place by processCode', async () => {
    const api = await dingtalk(t.sandbox);
    const created = await api.post('/v1.0/workflow/forms', DEPLOY_FORM);
    expect(created.status).toBe(200);
    const processCode: string = created.body.result.processCode;
    expect(processCode).toMatch(/^PROC-[0-9A-F-]{36}$/);
    expect(await schemaOf(api, processCode)).toMatchObject({
      name: 'Staged deployment',
      formCode: processCode,
      memo: 'Made by API',
      schemaContent: {
        items: [
          {
            componentName: 'TextareaField',
            props: { id: 'field_1', label: 'Service', required: false },
          },
          {
            componentName: 'TextField',
            props: { id: 'field_2', label: 'Run', required: true },
          },
        ],
      },
    });

    const updated = await api.post('/v1.0/workflow/forms', {
      processCode,
      name: 'Staged deployment v2',
      formComponents: [textarea('Service', 'field_1'), textarea('Reason')],
    });
    expect(updated.body.result.processCode).toBe(processCode);
    const schema = await schemaOf(api, processCode);
    expect(schema.name).toBe('Staged deployment v2');
    expect(
      schema.schemaContent.items.map(
        (item: { props: { id: string; label: string } }) => item.props,
      ),
    ).toEqual([
      { id: 'field_1', label: 'Service', required: false },
      // DingTalk makes an id for a component sent without one.
      {
        id: expect.stringMatching(/^TextareaField_\w+$/),
        label: 'Reason',
        required: false,
      },
    ]);
    const forms = (await control(t.sandbox).get('/dingtalk/forms')).body;
    expect(
      forms.filter(
        (form: { createdByApp: string | null }) => form.createdByApp,
      ),
    ).toEqual([
      expect.objectContaining({
        processCode,
        createdByApp: DINGTALK_APP.appKey,
      }),
    ]);
  });

  it('refuses forms that break its rules, each with its code', async () => {
    const api = await dingtalk(t.sandbox);
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      [
        'no name',
        { formComponents: DEPLOY_FORM.formComponents },
        'InvalidParameter',
        /name/,
      ],
      ['no components', { name: 'x' }, 'InvalidParameter', /formComponents/],
      [
        'a component type DingTalk has not',
        {
          name: 'x',
          formComponents: [
            { componentType: 'RichTextField', props: { label: 'Notes' } },
          ],
        },
        'formschema.error',
        /RichTextField is not a component/,
      ],
      [
        'a component without a label',
        {
          name: 'x',
          formComponents: [{ componentType: 'TextField', props: {} }],
        },
        'formschema.error',
        /formComponents\[0\]\.props\.label/,
      ],
      [
        'a label over 20 characters',
        { name: 'x', formComponents: [textarea('A label far too long here')] },
        'formschema.error',
        /is 25 characters; at most 20/,
      ],
      [
        'two components with one label',
        { name: 'x', formComponents: [textarea('Run'), textarea('Run')] },
        'formschema.error',
        /label "Run" is used by more than one component/,
      ],
      [
        'two components with one id',
        {
          name: 'x',
          formComponents: [textarea('A', 'f_1'), textarea('B', 'f_1')],
        },
        'formschema.error',
        /componentId "f_1"/,
      ],
      [
        'children outside a TableField',
        {
          name: 'x',
          formComponents: [{ ...textarea('A'), children: [textarea('B')] }],
        },
        'formschema.error',
        /only a TableField has child components/,
      ],
      [
        'an update of a form that does not exist',
        { ...DEPLOY_FORM, processCode: 'PROC-NOPE' },
        'processcode.error',
        /processCode对应的审批流程不存在/,
      ],
    ];
    for (const [what, body, code, message] of cases) {
      const answer = await api.post('/v1.0/workflow/forms', body);
      expect({ what, status: answer.status, code: answer.body.code }).toEqual({
        what,
        status: 400,
        code,
      });
      expect(answer.body.message).toMatch(message);
    }

    expect((await api.post('/v1.0/workflow/forms', DEPLOY_FORM)).status).toBe(
      200,
    );
    const sameName = await api.post('/v1.0/workflow/forms', DEPLOY_FORM);
    expect({ status: sameName.status, code: sameName.body.code }).toEqual({
      status: 400,
      code: 'formName.error',
    });
    // The seeded console form's name is taken too.
    const consoleName = await api.post('/v1.0/workflow/forms', {
      ...DEPLOY_FORM,
      name: 'Production deployment',
    });
    expect(consoleName.body.code).toBe('formName.error');
  });

  it('answers 403 naming Workflow.Form.Write once the permission is taken from the app, and takes the form once it is granted again', async () => {
    const api = await dingtalk(t.sandbox);
    const revoked = await control(t.sandbox).patch(
      `/dingtalk/apps/${DINGTALK_APP.appKey}`,
      { revokedPermissions: ['Workflow.Form.Write'] },
    );
    expect(revoked.body.revokedPermissions).toEqual(['Workflow.Form.Write']);
    const refused = await api.post('/v1.0/workflow/forms', DEPLOY_FORM);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      accessdenieddetail: { requiredScopes: ['Workflow.Form.Write'] },
    });
    // Only the form write needs it.
    expect(
      (await schemaOf(api, 'PROC-DEPLOY')).schemaContent.items,
    ).toHaveLength(2);

    await control(t.sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      revokedPermissions: [],
    });
    expect((await api.post('/v1.0/workflow/forms', DEPLOY_FORM)).status).toBe(
      200,
    );
  });

  it('runs an instance of a made form through its approver steps in order, the read telling each task of each step', async () => {
    const api = await dingtalk(t.sandbox);
    const processCode = (await api.post('/v1.0/workflow/forms', DEPLOY_FORM))
      .body.result.processCode;
    const id = await api.createInstance({
      processCode,
      formComponentValues: [
        { name: 'Service', value: 'payments' },
        { name: 'Run', value: '42' },
      ],
      approvers: [
        { actionType: 'OR', userIds: ['alice', 'bob'] },
        { actionType: 'AND', userIds: ['bob', 'carol'] },
      ],
    });
    const tasks = async () =>
      (
        await api.get(`/v1.0/workflow/processInstances?processInstanceId=${id}`)
      ).body.result.tasks.map(
        (task: Record<string, string>) =>
          `${task.activityId} ${task.userId} ${task.status} ${task.result}`,
      );
    expect(await tasks()).toEqual([
      'node_0 alice RUNNING NONE',
      'node_0 bob RUNNING NONE',
    ]);
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'alice',
    });
    expect(await tasks()).toEqual([
      'node_0 alice COMPLETED AGREE',
      'node_0 bob CANCELED NONE',
      'node_1 bob RUNNING NONE',
      'node_1 carol RUNNING NONE',
    ]);
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'carol',
    });
    expect((await tasks()).slice(2)).toEqual([
      'node_1 bob RUNNING NONE',
      'node_1 carol COMPLETED AGREE',
    ]);
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'bob',
    });
    const done = (
      await api.get(`/v1.0/workflow/processInstances?processInstanceId=${id}`)
    ).body.result;
    expect(done).toMatchObject({ status: 'COMPLETED', result: 'agree' });
  });

  it('takes console edits of a made form (rename, remove, add), which the schema read and instance creation then follow', async () => {
    const api = await dingtalk(t.sandbox);
    const processCode = (await api.post('/v1.0/workflow/forms', DEPLOY_FORM))
      .body.result.processCode;
    const edited = await control(t.sandbox).patch(
      `/dingtalk/forms/${processCode}`,
      {
        rename: { Service: 'Component' },
        remove: ['Run'],
        add: [{ componentType: 'TextField', label: 'Ticket', required: true }],
      },
    );
    expect(
      edited.body.components.map(
        (c: { label: string; required: boolean }) => `${c.label} ${c.required}`,
      ),
    ).toEqual(['Component false', 'Ticket true']);
    expect(
      (await schemaOf(api, processCode)).schemaContent.items.map(
        (item: { props: { label: string } }) => item.props.label,
      ),
    ).toEqual(['Component', 'Ticket']);
    const refused = await api.post('/v1.0/workflow/processInstances', {
      originatorUserId: 'bot',
      processCode,
      formComponentValues: [{ name: 'Service', value: 'payments' }],
      approvers: [{ actionType: 'NONE', userIds: ['alice'] }],
    });
    expect(refused.body).toMatchObject({ code: 'InvalidParameter' });
    expect(refused.body.message).toMatch(/no component labelled "Service"/);

    const unknown = await control(t.sandbox).patch(
      `/dingtalk/forms/${processCode}`,
      { remove: ['Nope'] },
    );
    expect(unknown.status).toBe(404);
    const clash = await control(t.sandbox).patch(
      `/dingtalk/forms/${processCode}`,
      { rename: { Component: 'Ticket' } },
    );
    expect(clash.status).toBe(422);
  });

  it('forgets forms made by API and restores revoked permissions on reset, keeping the console forms', async () => {
    const api = await dingtalk(t.sandbox);
    await api.post('/v1.0/workflow/forms', DEPLOY_FORM);
    await control(t.sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      revokedPermissions: ['Workflow.Form.Write'],
    });
    await control(t.sandbox).post('/reset');
    expect(
      (await control(t.sandbox).get('/dingtalk/forms')).body.map(
        (form: { processCode: string }) => form.processCode,
      ),
    ).toEqual(['PROC-DEPLOY']);
    expect(
      (await control(t.sandbox).get('/dingtalk/apps')).body[0]
        .revokedPermissions,
    ).toEqual([]);
  });
});
