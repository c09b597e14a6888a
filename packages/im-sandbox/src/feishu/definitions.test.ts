import { APP, control, useTestSandbox } from '../testing/sandbox';

// Approval definitions made through the open API (POST /approval/v4/approvals): Feishu's rules
// for them, each refusal with its code, and the definition then served and walked like one made
// in the console.

const texts = {
  '@i18n@approval_name': 'Release',
  '@i18n@field_1': 'Service',
  '@i18n@field_2': 'Reason',
  '@i18n@stage_1': 'Team lead',
  '@i18n@stage_2': 'SRE',
};

const definition = (overrides: Record<string, unknown> = {}) => ({
  approval_name: '@i18n@approval_name',
  viewers: [{ viewer_type: 'NONE' }],
  form: {
    form_content: JSON.stringify([
      { id: 'field_1', name: '@i18n@field_1', type: 'input', required: true },
      {
        id: 'field_2',
        name: '@i18n@field_2',
        type: 'textarea',
        required: false,
      },
    ]),
  },
  node_list: [
    { id: 'START' },
    {
      id: 'stage_1',
      name: '@i18n@stage_1',
      node_type: 'OR',
      approver: [{ type: 'Free' }],
    },
    {
      id: 'stage_2',
      name: '@i18n@stage_2',
      node_type: 'AND',
      approver: [{ type: 'Free' }],
      approver_chosen_multi: true,
    },
    { id: 'END' },
  ],
  i18n_resources: [
    {
      locale: 'en-US',
      is_default: true,
      texts: Object.entries(texts).map(([key, value]) => ({ key, value })),
    },
  ],
  ...overrides,
});

describe('Feishu approval definitions created through the open API', () => {
  const t = useTestSandbox();
  const create = (body: unknown) =>
    t.api.post('/approval/v4/approvals?user_id_type=open_id', body);

  it('creates a definition served like one made in the console: names from the default locale, nodes keyed by their ids', async () => {
    const created = await create(definition());
    expect(created.body).toMatchObject({
      code: 0,
      data: {
        approval_code: expect.stringMatching(/^[0-9A-F-]{36}$/),
        approval_id: expect.stringMatching(/^\d+$/),
      },
    });
    const code = created.body.data.approval_code;

    const read = (await t.api.get(`/approval/v4/approvals/${code}`)).body.data;
    expect(read.approval_name).toBe('Release');
    expect(JSON.parse(read.form)).toEqual([
      { id: 'field_1', name: 'Service', type: 'input', required: true },
      { id: 'field_2', name: 'Reason', type: 'textarea', required: false },
    ]);
    expect(read.node_list).toEqual([
      expect.objectContaining({
        name: 'Team lead',
        custom_node_id: 'stage_1',
        node_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        node_type: 'OR',
        need_approver: true,
        approver_chosen_multi: true,
      }),
      expect.objectContaining({
        name: 'SRE',
        custom_node_id: 'stage_2',
        node_type: 'AND',
      }),
    ]);
  });

  it('updates the definition approval_code names in place, overwriting it whole; an unknown code is 1390002', async () => {
    const code = (await create(definition())).body.data.approval_code;
    const before = (await t.api.get(`/approval/v4/approvals/${code}`)).body
      .data;

    const updated = await create(
      definition({
        approval_code: code,
        node_list: [
          { id: 'START' },
          {
            id: 'stage_1',
            name: '@i18n@stage_1',
            node_type: 'AND',
            approver: [{ type: 'Free' }],
          },
          { id: 'END' },
        ],
      }),
    );
    expect(updated.body.data.approval_code).toBe(code);
    const after = (await t.api.get(`/approval/v4/approvals/${code}`)).body.data;
    expect(after.node_list).toHaveLength(1);
    // The node keeps its node_id: instances key approvers by it as well as by the custom id.
    expect(after.node_list[0]).toMatchObject({
      node_id: before.node_list[0].node_id,
      node_type: 'AND',
    });

    const unknown = await create(definition({ approval_code: 'NO-SUCH' }));
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      code: 1390002,
      msg: 'approval code not found',
    });
  });

  it('walks an API-made definition node by node: stage 1 (any one), then stage 2 (all), with tasks per node', async () => {
    const code = (await create(definition())).body.data.approval_code;
    await t.api.post(`/approval/v4/approvals/${code}/subscribe`);
    const instance = await t.api.createInstance({
      approval_code: code,
      form: JSON.stringify([{ id: 'field_1', type: 'input', value: 'api' }]),
      node_approver_open_id_list: [
        { key: 'stage_1', value: ['ou_alice', 'ou_bob'] },
        { key: 'stage_2', value: ['ou_bob', 'ou_carol'] },
      ],
    });
    const tasks = async () =>
      (await t.api.get(`/approval/v4/instances/${instance}`)).body.data
        .task_list as Array<Record<string, string>>;
    expect(
      (await tasks()).map(task => [task.custom_node_id, task.open_id]),
    ).toEqual([
      ['stage_1', 'ou_alice'],
      ['stage_1', 'ou_bob'],
    ]);

    const decide = (openId: string) =>
      control(t.sandbox).post(`/feishu/instances/${instance}/approve`, {
        openId,
      });
    await decide('ou_alice');
    await decide('ou_carol');
    expect((await decide('ou_bob')).body.status).toBe('APPROVED');
    expect(
      (await tasks()).map(task => [
        task.custom_node_id,
        task.open_id,
        task.status,
      ]),
    ).toEqual([
      ['stage_1', 'ou_alice', 'APPROVED'],
      ['stage_1', 'ou_bob', 'DONE'],
      ['stage_2', 'ou_bob', 'APPROVED'],
      ['stage_2', 'ou_carol', 'APPROVED'],
    ]);
  });

  it.each([
    [
      'approval_name is plain text',
      definition({ approval_name: 'Release' }),
      /approval_name: "Release" is not an i18n key/,
    ],
    [
      'an i18n key shorter than 9 characters',
      definition({ approval_name: '@i18n@a' }),
      /at least 9 characters/,
    ],
    [
      'a widget name without text in the default locale',
      definition({
        form: {
          form_content: JSON.stringify([
            { id: 'f', name: '@i18n@missing', type: 'input', required: true },
          ]),
        },
      }),
      /form\.form_content\[0\]\.name: i18n key @i18n@missing has no text in the default locale \(en-US\)/,
    ],
    [
      'no default locale',
      definition({
        i18n_resources: [{ locale: 'en-US', is_default: false, texts: [] }],
      }),
      /exactly one locale must have is_default: true/,
    ],
    [
      'form_content is not JSON',
      definition({ form: { form_content: '[{' } }),
      /form\.form_content is not valid JSON/,
    ],
    [
      'a widget without required',
      definition({
        form: {
          form_content: JSON.stringify([
            { id: 'f', name: '@i18n@field_1', type: 'input' },
          ]),
        },
      }),
      /required/,
    ],
    [
      'a widget type the API cannot create',
      definition({
        form: {
          form_content: JSON.stringify([
            {
              id: 'f',
              name: '@i18n@field_1',
              type: 'formula',
              required: false,
            },
          ]),
        },
      }),
      /formula widgets cannot be created through the API/,
    ],
    [
      'node_list without START',
      definition({
        node_list: [
          { id: 'a', node_type: 'OR', approver: [{ type: 'Free' }] },
          { id: 'END' },
        ],
      }),
      /node_list must start with the node \{id: "START"\}/,
    ],
    [
      'a SEQUENTIAL node whose approvers are not chosen by the initiator',
      definition({
        node_list: [
          { id: 'START' },
          {
            id: 'a',
            node_type: 'SEQUENTIAL',
            approver: [{ type: 'Personal', user_id: 'u_alice' }],
          },
          { id: 'END' },
        ],
      }),
      /a SEQUENTIAL node takes approvers chosen by the initiator \(approver type Free\) only/,
    ],
    [
      'CC recipients chosen by the initiator',
      definition({
        node_list: [
          { id: 'START' },
          {
            id: 'a',
            node_type: 'OR',
            approver: [{ type: 'Free' }],
            ccer: [{ type: 'Free' }],
          },
          { id: 'END' },
        ],
      }),
      /CC recipients cannot be chosen by the initiator/,
    ],
    [
      'an approver node without node_type',
      definition({
        node_list: [
          { id: 'START' },
          { id: 'a', approver: [{ type: 'Free' }] },
          { id: 'END' },
        ],
      }),
      /node_list\[1\]\.node_type/,
    ],
    ['no viewers', definition({ viewers: undefined }), /viewers/],
  ])('refuses %s with 1390001', async (_case, body, message) => {
    const answer = await create(body);
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe(1390001);
    expect(answer.body.msg).toMatch(message);
  });

  it('an app without the definition scopes gets 99991672 naming them, before its request is looked at', async () => {
    await control(t.sandbox).patch(`/feishu/apps/${APP.appId}`, {
      definitionWrite: false,
    });
    try {
      const answer = await create({ approval_name: 'anything' });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 99991672,
        msg: expect.stringMatching(
          /^Access denied\. One of the following scopes is required: \[approval:approval, approval:definition\]/,
        ),
        error: {
          permission_violations: [
            { type: 'action_scope_required', subject: 'approval:approval' },
            { type: 'action_scope_required', subject: 'approval:definition' },
          ],
          log_id: expect.any(String),
        },
      });
      // Instances it may still create.
      await expect(t.api.createInstance()).resolves.toEqual(expect.any(String));
      expect(
        (await control(t.sandbox).get('/feishu/apps')).body[0],
      ).toMatchObject({ definitionWrite: false });
    } finally {
      await control(t.sandbox).patch(`/feishu/apps/${APP.appId}`, {
        definitionWrite: true,
      });
    }
  });

  it('the console edit renames and removes widgets, adds one, and changes or removes nodes; an unknown key changes nothing', async () => {
    const code = (await create(definition())).body.data.approval_code;
    const edited = await control(t.sandbox).patch(`/feishu/approvals/${code}`, {
      widgets: { field_1: { name: 'Component' }, field_2: null },
      addWidgets: [
        { id: 'ticket', name: 'Ticket', type: 'input', required: true },
      ],
      nodes: { stage_1: { type: 'AND', name: 'Lead' }, stage_2: null },
    });
    expect(edited.status).toBe(200);
    const read = (await t.api.get(`/approval/v4/approvals/${code}`)).body.data;
    expect(JSON.parse(read.form)).toEqual([
      { id: 'field_1', name: 'Component', type: 'input', required: true },
      { id: 'ticket', name: 'Ticket', type: 'input', required: true },
    ]);
    expect(read.node_list).toEqual([
      expect.objectContaining({
        custom_node_id: 'stage_1',
        name: 'Lead',
        node_type: 'AND',
      }),
    ]);

    const refused = await control(t.sandbox).patch(
      `/feishu/approvals/${code}`,
      { name: 'Renamed', widgets: { nope: null } },
    );
    expect(refused.status).toBe(404);
    expect(
      (await t.api.get(`/approval/v4/approvals/${code}`)).body.data
        .approval_name,
    ).toBe('Release');
  });
});
