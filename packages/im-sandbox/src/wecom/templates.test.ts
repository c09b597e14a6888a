import { WECOM_APP, WECOM_TEMPLATE_ID, wecom } from '../testing/wecom';
import { call, control, useTestSandbox } from '../testing/sandbox';

// oa/approval/create_template and update_template: WeCom's rules and errcodes, templates used by
// requests with several approver nodes, and the administrator's edits in the console.

const zh = (text: string) => [{ text, lang: 'zh_CN' }];
const textControl = (id: string, title: string, require: 0 | 1 = 1) => ({
  property: { control: 'Text', id, title: zh(title), require },
});
const TEMPLATE = {
  template_name: zh('Release approval'),
  template_content: {
    controls: [
      textControl('Text-01', 'Service'),
      textControl('Text-02', 'Version', 0),
    ],
  },
};
const OTHER_APP = {
  ...WECOM_APP,
  agentId: 1000003,
  secret: 'wecom-other-secret',
};

describe('WeCom approval templates made by an app', () => {
  const t = useTestSandbox();

  it('creates a template that gettemplatedetail reads and requests with an any node then an all node walk in order', async () => {
    const api = await wecom(t.sandbox);
    const created = await api.post(
      '/cgi-bin/oa/approval/create_template',
      TEMPLATE,
    );
    expect(created.body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      template_id: expect.stringMatching(/^C4[A-Za-z0-9]{38}$/),
    });
    const templateId: string = created.body.template_id;
    const detail = await api.post('/cgi-bin/oa/gettemplatedetail', {
      template_id: templateId,
    });
    expect(detail.body.template_names).toEqual(zh('Release approval'));
    expect(
      detail.body.template_content.controls.map(
        ({ property }: any) =>
          `${property.control} ${property.id} ${property.title[0].text} ${property.require}`,
      ),
    ).toEqual(['Text Text-01 Service 1', 'Text Text-02 Version 0']);

    const spNo = await api.apply({
      template_id: templateId,
      process: {
        node_list: [
          { type: 1, apv_rel: 2, userid: ['alice', 'bob'] },
          { type: 1, apv_rel: 1, userid: ['bob', 'carol'] },
        ],
      },
      apply_data: {
        contents: [
          { control: 'Text', id: 'Text-01', value: { text: 'payments' } },
        ],
      },
    });
    const nodes = async () =>
      (await api.detail(spNo)).info.process_list.node_list.map(
        (node: any) =>
          `${node.apv_rel} ${node.sp_status}: ${node.sub_node_list.map((sub: any) => `${sub.userid} ${sub.sp_yj}`).join(', ')}`,
      );
    expect(await nodes()).toEqual([
      '2 1: alice 1, bob 1',
      '1 1: bob 1, carol 1',
    ]);

    // The second node's approvers are asked only once the first node is done.
    const early = await control(t.sandbox).post(
      `/wecom/instances/${spNo}/approve`,
      { userId: 'carol' },
    );
    expect(early.status).toBe(409);
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'alice',
    });
    expect(await nodes()).toEqual([
      '2 2: alice 2, bob 1',
      '1 1: bob 1, carol 1',
    ]);
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'carol',
    });
    expect((await api.detail(spNo)).info.sp_status).toBe(1);
    // The inbox shows a pending request's approvers by node.
    const page: string = (await call(t.sandbox.url, 'GET', '/')).body;
    expect(page).toContain('Step 1 · any one');
    expect(page).toContain('Step 2 · all');
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'bob',
    });
    expect(await nodes()).toEqual([
      '2 2: alice 2, bob 1',
      '1 2: bob 2, carol 2',
    ]);
    expect((await api.detail(spNo)).info.sp_status).toBe(2);
  });

  it.each([
    [
      'a name in zh-CN instead of zh_CN',
      { template_name: [{ text: 'Release approval', lang: 'zh-CN' }] },
      /template_name: needs an entry with lang "zh_CN"/,
    ],
    [
      'a name over 40 characters',
      { template_name: zh('x'.repeat(41)) },
      /template name "x+" is longer than 40 characters/,
    ],
    [
      'no controls',
      { template_content: { controls: [] } },
      /template_content\.controls: /,
    ],
    [
      'an unknown control type',
      {
        template_content: {
          controls: [
            { property: { control: 'Input', id: 'Input-1', title: zh('A') } },
          ],
        },
      },
      /unknown control type "Input"; WeCom takes Text, Textarea, Number/,
    ],
    [
      "an id that is not the control's type and digits",
      {
        template_content: {
          controls: [textControl('Textarea-1', 'Service')],
        },
      },
      /controls\[0\]\.property\.id: "Textarea-1" is not a Text control id/,
    ],
    [
      'an id without digits',
      { template_content: { controls: [textControl('Text-a', 'Service')] } },
      /"Text-a" is not a Text control id/,
    ],
    [
      'the same id twice',
      {
        template_content: {
          controls: [textControl('Text-1', 'A'), textControl('Text-1', 'B')],
        },
      },
      /controls\[1\]\.property\.id: "Text-1" is used twice/,
    ],
    [
      'the same title twice',
      {
        template_content: {
          controls: [textControl('Text-1', 'A'), textControl('Text-2', 'A')],
        },
      },
      /controls\[1\]\.property\.title: "A" is used twice/,
    ],
    [
      'a control type the sandbox cannot fill',
      {
        template_content: {
          controls: [
            {
              property: { control: 'Number', id: 'Number-1', title: zh('N') },
            },
          ],
        },
      },
      /Number controls are not supported by the sandbox/,
    ],
  ])(
    'refuses %s with 40058 naming it, and creates nothing',
    async (_case, change, message) => {
      const api = await wecom(t.sandbox);
      const answer = await api.post('/cgi-bin/oa/approval/create_template', {
        ...TEMPLATE,
        ...change,
      });
      expect(answer.body.errcode).toBe(40058);
      expect(answer.body.errmsg).toMatch(message);
      expect((await control(t.sandbox).get('/wecom/templates')).body).toEqual([
        expect.objectContaining({ templateId: WECOM_TEMPLATE_ID }),
      ]);
    },
  );

  it("refuses a template name another template has, the administrator's included", async () => {
    const api = await wecom(t.sandbox);
    expect(
      (await api.post('/cgi-bin/oa/approval/create_template', TEMPLATE)).body
        .errcode,
    ).toBe(0);
    for (const name of ['Release approval', 'Production deployment']) {
      const again = await api.post('/cgi-bin/oa/approval/create_template', {
        ...TEMPLATE,
        template_name: zh(name),
      });
      expect(again.body.errcode).toBe(40058);
      expect(again.body.errmsg).toMatch(
        `a template named "${name}" already exists`,
      );
    }
  });

  it('updates its own template in place under the same rules; not an unknown one, nor one it did not create', async () => {
    const api = await wecom(t.sandbox);
    const templateId: string = (
      await api.post('/cgi-bin/oa/approval/create_template', TEMPLATE)
    ).body.template_id;
    const updated = await api.post('/cgi-bin/oa/approval/update_template', {
      template_id: templateId,
      template_name: zh('Release approval v2'),
      template_content: {
        controls: [
          textControl('Text-01', 'Service'),
          textControl('Text-03', 'Ticket'),
        ],
      },
    });
    expect(updated.body).toEqual({ errcode: 0, errmsg: 'ok' });
    const detail = (
      await api.post('/cgi-bin/oa/gettemplatedetail', {
        template_id: templateId,
      })
    ).body;
    expect(detail.template_names).toEqual(zh('Release approval v2'));
    expect(
      detail.template_content.controls.map(({ property }: any) => property.id),
    ).toEqual(['Text-01', 'Text-03']);

    const update = (template_id: string, client = api) =>
      client.post('/cgi-bin/oa/approval/update_template', {
        ...TEMPLATE,
        template_id,
      });
    const unknown = await update('C4nope');
    expect([unknown.body.errcode, unknown.body.errmsg]).toEqual([
      40058,
      expect.stringMatching(/^invalid template_id C4nope/),
    ]);
    const consoleMade = await update(WECOM_TEMPLATE_ID);
    expect([consoleMade.body.errcode, consoleMade.body.errmsg]).toEqual([
      301055,
      expect.stringMatching(
        /was made in the admin console; an app may update only the templates it created/,
      ),
    ]);
    await control(t.sandbox).post('/wecom/apps', OTHER_APP);
    const other = await update(templateId, await wecom(t.sandbox, OTHER_APP));
    expect([other.body.errcode, other.body.errmsg]).toEqual([
      301055,
      expect.stringMatching(`was created by app ${WECOM_APP.agentId}`),
    ]);
    const invalid = await api.post('/cgi-bin/oa/approval/update_template', {
      ...TEMPLATE,
      template_id: templateId,
      template_name: zh('Production deployment'),
    });
    expect(invalid.body.errcode).toBe(40058);
  });

  it('answers 301055 to every OA call of an app taken off the Approval API list, naming the list, until it is added back', async () => {
    const api = await wecom(t.sandbox);
    const off = await control(t.sandbox).patch(
      `/wecom/apps/${WECOM_APP.agentId}`,
      { approvalApi: false },
    );
    expect(off.body.approvalApi).toBe(false);
    for (const [path, body] of [
      ['/cgi-bin/oa/approval/create_template', TEMPLATE],
      ['/cgi-bin/oa/gettemplatedetail', { template_id: WECOM_TEMPLATE_ID }],
      ['/cgi-bin/oa/getapprovaldetail', { sp_no: '202401010001' }],
    ] as const) {
      const answer = await api.post(path, body);
      expect([answer.body.errcode, answer.body.errmsg]).toEqual([
        301055,
        expect.stringMatching(
          /^no approval auth: app 1000002 is not in the Approval app's "apps that may call the API" list/,
        ),
      ]);
    }
    // Contacts are not the Approval app's.
    expect((await api.get('/cgi-bin/user/get?userid=alice')).body.errcode).toBe(
      0,
    );
    await control(t.sandbox).patch(`/wecom/apps/${WECOM_APP.agentId}`, {
      approvalApi: true,
    });
    expect(
      (await api.post('/cgi-bin/oa/approval/create_template', TEMPLATE)).body
        .errcode,
    ).toBe(0);
  });

  it('lets the administrator rename, remove and add controls as in the console; the template stays the app’s', async () => {
    const api = await wecom(t.sandbox);
    const templateId: string = (
      await api.post('/cgi-bin/oa/approval/create_template', TEMPLATE)
    ).body.template_id;
    const edited = await control(t.sandbox).patch(
      `/wecom/templates/${templateId}`,
      {
        rename: { 'Text-01': 'Component' },
        remove: ['Text-02'],
        add: [
          {
            control: 'Textarea',
            id: 'Textarea-9',
            title: 'Risk',
            required: true,
          },
        ],
      },
    );
    expect(edited.status).toBe(200);
    const controls = (
      await api.post('/cgi-bin/oa/gettemplatedetail', {
        template_id: templateId,
      })
    ).body.template_content.controls.map(
      ({ property }: any) =>
        `${property.id} ${property.title[0].text} ${property.require}`,
    );
    expect(controls).toEqual(['Text-01 Component 1', 'Textarea-9 Risk 1']);
    expect(
      (
        await control(t.sandbox).patch(`/wecom/templates/${templateId}`, {
          remove: ['Text-02'],
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api.post('/cgi-bin/oa/approval/update_template', {
          ...TEMPLATE,
          template_id: templateId,
        })
      ).body.errcode,
    ).toBe(0);
  });
});
