import { mockServices } from '@backstage/backend-test-utils';
import { feishuIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import nock from 'nock';
import { imApiError, useNock } from '../__testUtils__/providerTestUtils';
import { FeishuClient } from './FeishuClient';
import { FEISHU_INSTANCE_STATUS } from './feishuStatus';

const BASE = 'https://open.feishu.test';

const integration = feishuIntegrationSchema.parse({
  id: 'feishu-test',
  provider: 'feishu',
  baseUrl: BASE,
  appId: 'cli_0123456789abcdef',
  appSecret: 'app-secret',
  verificationToken: 'v-token',
  encryptKey: 'e-key',
  initiator: 'ou_bot',
  instanceUrl: `${BASE}/instances/{instanceId}`,
});

function client() {
  return new FeishuClient(integration, {
    logger: mockServices.logger.mock(),
    callbackMaxAgeSeconds: 300,
    keepToRateLimits: true,
  });
}

function tokenOnce(token = 't-1') {
  return nock(BASE)
    .post('/open-apis/auth/v3/tenant_access_token/internal', {
      app_id: 'cli_0123456789abcdef',
      app_secret: 'app-secret',
    })
    .reply(200, {
      code: 0,
      msg: 'ok',
      tenant_access_token: token,
      expire: 7200,
    });
}

function definition(form: string, nodeType = 'OR') {
  return {
    code: 0,
    data: {
      approval_name: 'Deploy',
      form,
      node_list: [
        { name: 'Start', node_id: 'START' },
        {
          name: 'Approve',
          node_id: 'n-1',
          custom_node_id: 'approvers',
          node_type: nodeType,
          need_approver: true,
        },
      ],
    },
  };
}

const FORM = JSON.stringify([
  { id: 'w-service', name: 'Service', type: 'input', required: true },
  { id: 'w-reason', name: 'Reason', type: 'textarea' },
]);

useNock();

describe('FeishuClient', () => {
  it('reads a definition once for describing its form and creating instances, and subscribes once', async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/approvals/DEPLOY')
      .once()
      .reply(200, definition(FORM));
    nock(BASE)
      .post('/open-apis/approval/v4/approvals/DEPLOY/subscribe')
      .once()
      .reply(200, { code: 0, data: {} });
    const bodies: unknown[] = [];
    nock(BASE)
      .post('/open-apis/approval/v4/instances', body => bodies.push(body) > 0)
      .times(2)
      .reply(200, { code: 0, data: { instance_code: 'INST/1' } });
    const feishu = client();
    expect(await feishu.describeForm('DEPLOY')).toEqual([
      { id: 'w-service', name: 'Service', type: 'input', required: true },
      { id: 'w-reason', name: 'Reason', type: 'textarea', required: false },
    ]);
    const request = {
      approvalId: 'a-1',
      form: 'DEPLOY',
      title: 'Deploy api',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [{ approvers: ['ou_alice'], rule: 'any' as const }],
    };
    expect(await feishu.createInstance(request)).toEqual({
      instanceId: 'INST/1',
      url: `${BASE}/instances/INST%2F1`,
      labels: new Map([['Service', 'Service']]),
    });
    await feishu.createInstance({ ...request, approvalId: 'a-2' });
    expect(bodies[0]).toEqual({
      approval_code: 'DEPLOY',
      open_id: 'ou_bot',
      form: JSON.stringify([{ id: 'w-service', type: 'input', value: 'api' }]),
      node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
      uuid: 'a-1',
      title: '@i18n@title',
      i18n_resources: [
        {
          locale: 'zh-CN',
          is_default: true,
          texts: [{ key: '@i18n@title', value: 'Deploy api' }],
        },
        {
          locale: 'en-US',
          is_default: false,
          texts: [{ key: '@i18n@title', value: 'Deploy api' }],
        },
        {
          locale: 'ja-JP',
          is_default: false,
          texts: [{ key: '@i18n@title', value: 'Deploy api' }],
        },
      ],
    });
  });

  it('says so when the definition has a form that is not JSON, as an error of the IM', async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/approvals/BROKEN')
      .reply(200, definition('{not json'));
    const error = await imApiError(client().describeForm('BROKEN'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe(
      'Feishu answered with an unexpected shape when asked to read approval definition "BROKEN" (the form is not JSON at form); retrying later',
    );
  });

  it('refuses an approverMode the approval node does not have, naming both and the fix', async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/approvals/DEPLOY')
      .reply(200, definition(FORM, 'AND'));
    const error = await imApiError(
      client().createInstance({
        approvalId: 'a',
        form: 'DEPLOY',
        title: 't',
        fields: [],
        stages: [{ approvers: ['ou_alice', 'ou_bob'], rule: 'any' }],
      }),
    );
    expect(error.kind).toBe('invalid_request');
    expect(error.message).toMatch(
      /node "Approve" is AND \(all must approve\); change the node in Feishu or set the template's approverMode \(or its stage's rule\) to all/,
    );
  });

  it('takes one approver on an AND or an OR node alike: one person decides the same either way', async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/approvals/DEPLOY')
      .reply(200, definition(FORM, 'AND'));
    await expect(
      client().checkTemplate({
        form: 'DEPLOY',
        stages: [{ approvers: ['ou_alice'], rule: 'any' }],
      }),
    ).resolves.not.toThrow();
  });

  it.each([
    ['PENDING', [], { status: 'pending' }],
    [
      'APPROVED',
      [
        {
          type: 'PASS',
          open_id: 'ou_alice',
          comment: 'ship it',
          create_time: '1763712300000',
        },
      ],
      {
        status: 'approved',
        decidedBy: { id: 'ou_alice', name: 'Alice' },
        comment: 'ship it',
        decidedAt: new Date(1763712300000),
      },
    ],
    [
      'REJECTED',
      [{ type: 'REJECT', open_id: 'ou_alice', create_time: '1763712300000' }],
      {
        status: 'rejected',
        decidedBy: { id: 'ou_alice', name: 'Alice' },
        comment: undefined,
        decidedAt: new Date(1763712300000),
      },
    ],
    [
      'CANCELED',
      [{ type: 'CANCEL', create_time: '1763712300000' }],
      {
        status: 'canceled',
        decidedBy: undefined,
        comment: undefined,
        decidedAt: new Date(1763712300000),
      },
    ],
  ])(
    'reads a %s instance and who decided it from the timeline',
    async (status, timeline, expected) => {
      tokenOnce();
      nock(BASE)
        .get('/open-apis/approval/v4/instances/INST-1')
        .reply(200, {
          code: 0,
          data: { approval_code: 'DEPLOY', status, timeline },
        });
      if (timeline.some(entry => 'open_id' in entry)) {
        nock(BASE)
          .get('/open-apis/contact/v3/users/ou_alice')
          .query({ user_id_type: 'open_id' })
          .reply(200, {
            code: 0,
            data: { user: { name: 'Alice', email: 'alice@example.com' } },
          });
      }
      expect(await client().readInstance('INST-1')).toEqual(expected);
    },
  );

  it('reads tasks handed on and approvers added in Feishu from a decided instance, oldest first; a pending one is not looked into', async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .reply(200, {
        code: 0,
        data: {
          approval_code: 'DEPLOY',
          status: 'APPROVED',
          timeline: [
            { type: 'START', open_id: 'ou_bot', create_time: '1763712000000' },
            {
              type: 'TRANSFER',
              open_id: 'ou_bob',
              open_id_list: ['ou_carol'],
              comment: 'on leave',
              create_time: '1763712100000',
            },
            {
              type: 'ADD_APPROVER_AFTER',
              open_id: 'ou_carol',
              open_id_list: ['ou_dave'],
              create_time: '1763712200000',
            },
            // Not a hand-over, whatever its name looks like to an object.
            { type: 'constructor', open_id: 'ou_bot', open_id_list: ['x'] },
            { type: 'PASS', open_id: 'ou_dave', create_time: '1763712300000' },
          ],
        },
      });
    for (const [openId, name] of [
      ['ou_bob', 'Bob'],
      ['ou_carol', 'Carol'],
      ['ou_dave', 'Dave'],
    ]) {
      nock(BASE)
        .get(`/open-apis/contact/v3/users/${openId}`)
        .query(true)
        .reply(200, { code: 0, data: { user: { name } } });
    }
    const feishu = client();
    expect(await feishu.readInstance('INST-1')).toEqual({
      status: 'approved',
      decidedBy: { id: 'ou_dave', name: 'Dave' },
      comment: undefined,
      decidedAt: new Date(1763712300000),
      handovers: [
        {
          kind: 'transferred',
          from: { id: 'ou_bob', name: 'Bob' },
          to: [{ id: 'ou_carol', name: 'Carol' }],
          at: new Date(1763712100000),
          comment: 'on leave',
        },
        {
          kind: 'added',
          from: { id: 'ou_carol', name: 'Carol' },
          to: [{ id: 'ou_dave', name: 'Dave' }],
          at: new Date(1763712200000),
        },
      ],
    });

    // Pending, the same timeline costs no contact reads: none are answered here.
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-2')
      .reply(200, {
        code: 0,
        data: {
          approval_code: 'DEPLOY',
          status: 'PENDING',
          timeline: [
            { type: 'TRANSFER', open_id: 'ou_erin', open_id_list: ['ou_fay'] },
          ],
        },
      });
    expect(await feishu.readInstance('INST-2')).toEqual({
      status: 'pending',
    });
  });

  describe('creating an instance', () => {
    const request = {
      approvalId: 'a-1',
      form: 'DEPLOY',
      title: 'Deploy api',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [{ approvers: ['ou_alice'], rule: 'any' as const }],
    };
    const prepare = (definitionBody: object = definition(FORM)) => {
      tokenOnce();
      nock(BASE)
        .get('/open-apis/approval/v4/approvals/DEPLOY')
        .reply(200, definitionBody);
      nock(BASE)
        .post('/open-apis/approval/v4/approvals/DEPLOY/subscribe')
        .reply(200, { code: 0, data: {} });
    };
    const byUuid = (data: object) =>
      nock(BASE)
        .get('/open-apis/approval/v4/instances/a-1')
        .reply(200, { code: 0, data: { status: 'PENDING', ...data } });

    it("answers each widget's name, as approvers see it, by the field as the template names it; a widget without a name has no label", async () => {
      prepare(
        definition(
          JSON.stringify([
            { id: 'w-service', name: 'Service', type: 'input' },
            { id: 'w-reason', name: '变更原因 Reason', type: 'textarea' },
            { id: 'w-run', type: 'input' },
          ]),
        ),
      );
      nock(BASE)
        .post('/open-apis/approval/v4/instances')
        .reply(200, { code: 0, data: { instance_code: 'INST-1' } });

      const created = await client().createInstance({
        ...request,
        fields: [
          { field: 'Service', value: 'api' },
          { field: 'w-reason', value: 'hotfix' },
          { field: 'w-run', value: 'run 7' },
        ],
      });
      expect(created.labels).toEqual(
        new Map([
          ['Service', 'Service'],
          ['w-reason', '变更原因 Reason'],
        ]),
      );
    });

    it('fills a widget named "Context" with the context, one line each and its link after it', async () => {
      prepare(
        definition(
          JSON.stringify([
            { id: 'w-service', name: 'Service', type: 'input' },
            { id: 'w-context', name: 'Context', type: 'textarea' },
          ]),
        ),
      );
      let form: Array<{ id: string; value: string }> = [];
      nock(BASE)
        .post('/open-apis/approval/v4/instances', sent => {
          form = JSON.parse(sent.form);
          return true;
        })
        .reply(200, { code: 0, data: { instance_code: 'INST-1' } });

      await client().createInstance({
        ...request,
        context: [
          { kind: 'ref', label: 'Ref', value: 'main\n::set-output' },
          {
            kind: 'run',
            label: 'Run',
            value: 'release #42',
            url: 'https://github.com/acme/api/actions/runs/42',
          },
        ],
      });
      expect(form).toEqual([
        { id: 'w-service', type: 'input', value: 'api' },
        {
          id: 'w-context',
          type: 'textarea',
          value:
            'Ref: main ::set-output\nRun: release #42 https://github.com/acme/api/actions/runs/42',
        },
      ]);
    });

    it('title must be an @i18n@ key: sends the key, its text in i18n_resources, English first on Lark', async () => {
      prepare();
      let body: {
        title?: string;
        i18n_resources?: Array<{ locale: string; is_default: boolean }>;
      } = {};
      nock(BASE)
        .post('/open-apis/approval/v4/instances', sent => {
          body = sent;
          return true;
        })
        .reply(200, { code: 0, data: { instance_code: 'INST-1' } });
      const lark = new FeishuClient(
        feishuIntegrationSchema.parse({ ...integration, domain: 'lark' }),
        {
          logger: mockServices.logger.mock(),
          callbackMaxAgeSeconds: 300,
          keepToRateLimits: true,
        },
      );

      await lark.createInstance(request);

      expect(body.title).toBe('@i18n@title');
      expect(
        body.i18n_resources?.find(resource => resource.is_default)?.locale,
      ).toBe('en-US');
      expect(
        body.i18n_resources?.filter(resource => resource.is_default),
      ).toHaveLength(1);
    });

    it('uuid conflict (60012): returns the instance created earlier with that uuid, never creates another', async () => {
      prepare();
      const creates = nock(BASE)
        .post('/open-apis/approval/v4/instances')
        .once()
        .reply(400, { code: 60012, msg: 'uuid conflict' });
      byUuid({ approval_code: 'DEPLOY', instance_code: 'INST-EARLIER' });

      expect(await client().createInstance(request)).toEqual({
        instanceId: 'INST-EARLIER',
        url: `${BASE}/instances/INST-EARLIER`,
        labels: new Map([['Service', 'Service']]),
      });
      expect(creates.isDone()).toBe(true);
    });

    it('uuid conflict (60012) with an instance not readable yet: a transient error, tried again later, never a failure', async () => {
      prepare();
      nock(BASE)
        .post('/open-apis/approval/v4/instances')
        .reply(400, { code: 60012, msg: 'uuid conflict' });
      nock(BASE)
        .get('/open-apis/approval/v4/instances/a-1')
        .reply(400, { code: 1390003, msg: 'instance code not found' });

      const error = await imApiError(client().createInstance(request));
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(/uuid a-1 as already used \(code 60012\)/);
    });

    it('uuid conflict (60012) naming an instance of another approval: refused, saying so', async () => {
      prepare();
      nock(BASE)
        .post('/open-apis/approval/v4/instances')
        .reply(400, { code: 60012, msg: 'uuid conflict' });
      byUuid({ approval_code: 'OTHER', instance_code: 'INST-OTHER' });

      const error = await imApiError(client().createInstance(request));
      expect(error.kind).toBe('invalid_request');
      expect(error.message).toBe(
        'uuid a-1 already names Feishu instance INST-OTHER of approval "OTHER", not one of "DEPLOY"',
      );
    });

    it.each([
      [
        'HTTP 500',
        (scope: nock.Interceptor) => scope.reply(500, 'Internal Server Error'),
      ],
      [
        'a reset connection',
        (scope: nock.Interceptor) => scope.replyWithError('socket hang up'),
      ],
    ])(
      'lost answer (%s) after the instance was made: finds it by its uuid and returns it',
      async (_, lose) => {
        prepare();
        lose(nock(BASE).post('/open-apis/approval/v4/instances'));
        byUuid({ approval_code: 'DEPLOY', instance_code: 'INST-MADE' });

        expect((await client().createInstance(request)).instanceId).toBe(
          'INST-MADE',
        );
      },
    );

    it('lost answer with no instance behind it: the transient create error stands, for a later try', async () => {
      prepare();
      nock(BASE)
        .post('/open-apis/approval/v4/instances')
        .reply(500, 'Internal Server Error');
      nock(BASE)
        .get('/open-apis/approval/v4/instances/a-1')
        .reply(400, { code: 1390003, msg: 'instance code not found' });

      const error = await imApiError(client().createInstance(request));
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(/HTTP 500/);
    });

    describe('CC recipients', () => {
      const withCc = { ...request, cc: ['ou_carol', 'ou_dave', 'ou_carol'] };
      const ccCall = () =>
        nock(BASE).post('/open-apis/approval/v4/instances/cc', {
          approval_code: 'DEPLOY',
          instance_code: 'INST-1',
          user_id: 'ou_bot',
          cc_user_ids: ['ou_carol', 'ou_dave'],
        });

      it('are told through the instance CC after the create, once each, as the initiator', async () => {
        prepare();
        nock(BASE)
          .post('/open-apis/approval/v4/instances')
          .reply(200, { code: 0, data: { instance_code: 'INST-1' } });
        const cc = ccCall()
          .query({ user_id_type: 'open_id' })
          .reply(200, { code: 0, msg: 'success', data: {} });

        const created = await client().createInstance(withCc);

        expect(cc.isDone()).toBe(true);
        expect(created.instanceId).toBe('INST-1');
        expect(created.notes).toBeUndefined();
      });

      it('a refused CC leaves the instance standing and says so in its notes', async () => {
        prepare();
        nock(BASE)
          .post('/open-apis/approval/v4/instances')
          .reply(200, { code: 0, data: { instance_code: 'INST-1' } });
        ccCall()
          .query(true)
          .reply(400, { code: 1390001, msg: 'param is invalid' });

        const created = await client().createInstance(withCc);

        expect(created.instanceId).toBe('INST-1');
        expect(created.notes).toEqual([
          expect.stringMatching(/^CC recipients were not told: .*1390001/),
        ]);
      });

      it('a transient CC failure is thrown, so the create is tried again', async () => {
        prepare();
        nock(BASE)
          .post('/open-apis/approval/v4/instances')
          .reply(200, { code: 0, data: { instance_code: 'INST-1' } });
        ccCall()
          .query(true)
          .reply(400, { code: 1395001, msg: 'try again later' });

        const error = await imApiError(client().createInstance(withCc));
        expect(error.transient).toBe(true);
      });

      const lostAnswerFinding = (timeline: object[]) => {
        prepare();
        nock(BASE)
          .post('/open-apis/approval/v4/instances')
          .reply(500, 'Internal Server Error');
        byUuid({
          approval_code: 'DEPLOY',
          instance_code: 'INST-1',
          timeline: [{ type: 'START' }, ...timeline],
        });
      };

      it('found by its uuid after a lost answer with a CC entry: nobody is told twice', async () => {
        lostAnswerFinding([{ type: 'CC' }]);
        // No CC call is answered here: one made would fail the create.
        expect((await client().createInstance(withCc)).instanceId).toBe(
          'INST-1',
        );
      });

      it('found by its uuid after a lost answer without one: the try that made it was cut off before its CC, so they are told now', async () => {
        lostAnswerFinding([]);
        const cc = ccCall()
          .query(true)
          .reply(200, { code: 0, msg: 'success', data: {} });

        expect((await client().createInstance(withCc)).instanceId).toBe(
          'INST-1',
        );
        expect(cc.isDone()).toBe(true);
      });
    });

    it('approver_chosen_multi false: refuses several approvers before calling, saying why', async () => {
      tokenOnce();
      const { data } = definition(FORM);
      const single = {
        code: 0,
        data: {
          ...data,
          node_list: [
            data.node_list[0],
            { ...data.node_list[1], approver_chosen_multi: false },
          ],
        },
      };
      nock(BASE)
        .get('/open-apis/approval/v4/approvals/DEPLOY')
        .reply(200, single);

      const error = await imApiError(
        client().createInstance({
          ...request,
          stages: [
            {
              approvers: [
                'alice@example.com',
                'bob@example.com',
                'carol@example.com',
              ],
              rule: 'any',
            },
          ],
        }),
      );

      expect(error.kind).toBe('invalid_request');
      expect(error.message).toMatch(
        /^Feishu approval definition "DEPLOY"'s node "Approve" takes one approver; the template lists 3 /,
      );
      expect(nock.pendingMocks()).toEqual([]);
    });

    it('approver_chosen_multi false: checkTemplate refuses a template listing several approvers, and takes one', async () => {
      tokenOnce();
      const { data } = definition(FORM);
      const single = {
        code: 0,
        data: {
          ...data,
          node_list: [
            data.node_list[0],
            { ...data.node_list[1], approver_chosen_multi: false },
          ],
        },
      };
      nock(BASE)
        .get('/open-apis/approval/v4/approvals/DEPLOY')
        .reply(200, single);
      const feishu = client();

      const error = await imApiError(
        feishu.checkTemplate({
          form: 'DEPLOY',
          stages: [
            { approvers: ['a@example.com', 'b@example.com'], rule: 'any' },
          ],
        }),
      );
      expect(error.message).toMatch(
        /node "Approve" takes one approver; the template lists 2/,
      );
      await expect(
        feishu.checkTemplate({
          form: 'DEPLOY',
          stages: [{ approvers: ['a@example.com'], rule: 'any' }],
        }),
      ).resolves.toEqual([expect.objectContaining({ node_id: 'n-1' })]);
    });
  });

  it('says which credential to check when the app secret is refused', async () => {
    nock(BASE)
      .post('/open-apis/auth/v3/tenant_access_token/internal')
      .reply(200, { code: 10014, msg: 'app secret invalid' });
    const error = await imApiError(client().verifyCredentials());
    expect(error.kind).toBe('credentials');
    expect(error.message).toMatch(
      /^Invalid app secret for app cli_0123456789abcdef: copy the App Secret again/,
    );
  });
});

describe('Feishu stages and the forms the backend makes', () => {
  const TWO_NODES = {
    code: 0,
    data: {
      approval_name: 'Release',
      form: JSON.stringify([
        { id: 'field_1', name: 'Service', type: 'textarea', required: false },
      ]),
      node_list: [
        {
          name: 'Team lead',
          node_id: 'n-lead',
          custom_node_id: 'stage_1',
          node_type: 'OR',
          need_approver: true,
          approver_chosen_multi: true,
        },
        {
          name: 'SRE',
          node_id: 'n-sre',
          custom_node_id: 'stage_2',
          node_type: 'AND',
          need_approver: true,
          approver_chosen_multi: true,
        },
      ],
    },
  };
  const SPEC = {
    name: 'Release',
    fields: ['Service'],
    stages: [
      { name: 'Team lead', rule: 'any' as const },
      { name: 'SRE', rule: 'all' as const },
    ],
  };
  const stages = [
    {
      name: 'Team lead',
      approvers: ['ou_alice', 'ou_bob'],
      rule: 'any' as const,
    },
    { name: 'SRE', approvers: ['ou_carol', 'ou_dan'], rule: 'all' as const },
  ];
  const readDefinition = (body: object = TWO_NODES) =>
    nock(BASE).get('/open-apis/approval/v4/approvals/REL').reply(200, body);

  it("creates an instance with each stage's approvers on its node, in order", async () => {
    tokenOnce();
    readDefinition();
    nock(BASE)
      .post('/open-apis/approval/v4/approvals/REL/subscribe')
      .reply(200, { code: 0, data: {} });
    let sent: { node_approver_open_id_list?: unknown } = {};
    nock(BASE)
      .post('/open-apis/approval/v4/instances', body => {
        sent = body;
        return true;
      })
      .reply(200, { code: 0, data: { instance_code: 'INST-1' } });

    await client().createInstance({
      approvalId: 'a-1',
      form: 'REL',
      title: 'Release api',
      fields: [{ field: 'Service', value: 'api' }],
      stages,
    });
    expect(sent.node_approver_open_id_list).toEqual([
      { key: 'stage_1', value: ['ou_alice', 'ou_bob'] },
      { key: 'stage_2', value: ['ou_carol', 'ou_dan'] },
    ]);
  });

  it.each([
    [
      'a stage too many',
      [...stages, { approvers: ['ou_eve'], rule: 'any' as const }],
      TWO_NODES,
      /^The template has 3 stages, but Feishu approval "REL" has 2 nodes whose approvers are chosen per request \("Team lead", "SRE"\); give the template one stage per such node/,
    ],
    [
      "a stage whose rule is not its node's type",
      [stages[0], { ...stages[1], rule: 'any' as const }],
      TWO_NODES,
      /^Stage 2 \("SRE"\) asks for any approvers, but Feishu approval "REL" node "SRE" is AND \(all must approve\); change the node in Feishu or set stage 2's rule to all$/,
    ],
    [
      'several approvers for a node that takes one',
      stages,
      {
        ...TWO_NODES,
        data: {
          ...TWO_NODES.data,
          node_list: [
            TWO_NODES.data.node_list[0],
            { ...TWO_NODES.data.node_list[1], approver_chosen_multi: false },
          ],
        },
      },
      /^Feishu approval definition "REL"'s node "SRE" takes one approver; stage 2 lists 2 \(ou_carol, ou_dan\)/,
    ],
  ])(
    'checkTemplate refuses %s, naming the stage and the node',
    async (_, given, body, message) => {
      tokenOnce();
      readDefinition(body);
      const error = await imApiError(
        client().checkTemplate({ form: 'REL', stages: given }),
      );
      expect(error.kind).toBe('invalid_request');
      expect(error.message).toMatch(message);
    },
  );

  it("reads each stage's progress from the task list: approved by whom, pending on whom, or not reached", async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .reply(200, {
        code: 0,
        data: {
          approval_code: 'REL',
          status: 'PENDING',
          task_list: [
            { open_id: 'ou_alice', status: 'APPROVED', node_id: 'n-lead' },
            { open_id: 'ou_bob', status: 'DONE', node_id: 'n-lead' },
            { open_id: 'ou_carol', status: 'APPROVED', node_id: 'n-sre' },
            { open_id: 'ou_dan', status: 'PENDING', node_id: 'n-sre' },
          ],
        },
      });
    readDefinition();
    for (const [openId, name] of [
      ['ou_alice', 'Alice'],
      ['ou_carol', 'Carol'],
    ])
      nock(BASE)
        .get(`/open-apis/contact/v3/users/${openId}`)
        .query({ user_id_type: 'open_id' })
        .reply(200, { code: 0, data: { user: { name } } });

    expect(await client().readInstance('INST-1')).toEqual({
      status: 'pending',
      stages: [
        {
          status: 'approved',
          approvedBy: [{ id: 'ou_alice', name: 'Alice' }],
          waitingOn: [],
        },
        {
          status: 'pending',
          approvedBy: [{ id: 'ou_carol', name: 'Carol' }],
          waitingOn: ['ou_dan'],
        },
      ],
    });
  });

  it('a stage not reached yet is waiting; a rejected one is rejected', async () => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .reply(200, {
        code: 0,
        data: {
          approval_code: 'REL',
          status: 'REJECTED',
          task_list: [
            {
              open_id: 'ou_alice',
              status: 'REJECTED',
              custom_node_id: 'stage_1',
            },
          ],
          timeline: [{ type: 'REJECT', create_time: '1763712300000' }],
        },
      });
    readDefinition();
    expect(await client().readInstance('INST-1')).toMatchObject({
      status: 'rejected',
      stages: [
        { status: 'rejected', approvedBy: [], waitingOn: [] },
        { status: 'waiting', approvedBy: [], waitingOn: [] },
      ],
    });
  });

  it('saveForm creates the definition: @i18n@ texts in every locale, text widgets field_N, one Free node per stage (AND for all, OR for any); then reads it', async () => {
    tokenOnce();
    let sent: Record<string, any> = {};
    nock(BASE)
      .post('/open-apis/approval/v4/approvals', body => {
        sent = body;
        return true;
      })
      .query({ user_id_type: 'open_id' })
      .reply(200, {
        code: 0,
        data: { approval_code: 'REL', approval_id: '7000' },
      });
    const read = readDefinition();

    expect(
      await client().saveForm({
        ...SPEC,
        description: 'Releases to production',
        fields: ['Service', 'Reason'],
      }),
    ).toEqual({ formId: 'REL' });
    expect(read.isDone()).toBe(true);
    expect(sent).toMatchObject({
      approval_name: '@i18n@approval_name',
      description: '@i18n@description',
      viewers: [{ viewer_type: 'NONE' }],
      node_list: [
        { id: 'START' },
        {
          id: 'stage_1',
          name: '@i18n@stage_1',
          node_type: 'OR',
          approver: [{ type: 'Free' }],
          approver_chosen_multi: true,
        },
        {
          id: 'stage_2',
          name: '@i18n@stage_2',
          node_type: 'AND',
          approver: [{ type: 'Free' }],
        },
        { id: 'END' },
      ],
    });
    expect(sent.approval_code).toBeUndefined();
    expect(JSON.parse(sent.form.form_content)).toEqual([
      {
        id: 'field_1',
        name: '@i18n@field_1',
        type: 'textarea',
        required: false,
      },
      {
        id: 'field_2',
        name: '@i18n@field_2',
        type: 'textarea',
        required: false,
      },
    ]);
    expect(
      sent.i18n_resources.map((r: any) => [r.locale, r.is_default]),
    ).toEqual([
      ['zh-CN', true],
      ['en-US', false],
      ['ja-JP', false],
    ]);
    expect(sent.i18n_resources[0].texts).toEqual([
      { key: '@i18n@approval_name', value: 'Release' },
      { key: '@i18n@description', value: 'Releases to production' },
      { key: '@i18n@field_1', value: 'Service' },
      { key: '@i18n@field_2', value: 'Reason' },
      { key: '@i18n@stage_1', value: 'Team lead' },
      { key: '@i18n@stage_2', value: 'SRE' },
    ]);
  });

  it('saveForm with a formId overwrites that definition, keeping its code; unnamed stages are named by number', async () => {
    tokenOnce();
    let sent: Record<string, any> = {};
    nock(BASE)
      .post('/open-apis/approval/v4/approvals', body => {
        sent = body;
        return true;
      })
      .query(true)
      .reply(200, { code: 0, data: { approval_code: 'REL' } });
    readDefinition();
    await client().saveForm(
      {
        name: 'Release',
        fields: [],
        stages: [{ rule: 'any' }, { rule: 'all' }],
      },
      'REL',
    );
    expect(sent.approval_code).toBe('REL');
    expect(sent.i18n_resources[0].texts).toEqual(
      expect.arrayContaining([
        { key: '@i18n@stage_1', value: 'Stage 1' },
        { key: '@i18n@stage_2', value: 'Stage 2' },
      ]),
    );
  });

  it('a missing scope is a permission error naming the scopes and where to grant them', async () => {
    tokenOnce();
    nock(BASE).post('/open-apis/approval/v4/approvals').query(true).reply(400, {
      code: 99991672,
      msg: 'Access denied. One of the following scopes is required: [approval:approval, approval:definition].应用未开通所需的应用身份权限',
    });
    const error = await imApiError(client().saveForm(SPEC));
    expect(error.kind).toBe('permission');
    expect(error.message).toMatch(
      /^App cli_0123456789abcdef may not create approval definition "Release": it needs one of the scopes approval:approval, approval:definition\. Grant it in the Feishu developer console \(the app → Permissions & Scopes\), then create and publish a new app version/,
    );
  });

  it('formDrift reads the definition afresh and names each difference; none for the definition as made', async () => {
    tokenOnce();
    readDefinition();
    const edited = {
      code: 0,
      data: {
        approval_name: 'Release',
        form: JSON.stringify([
          { id: 'field_1', name: 'Component', type: 'input', required: true },
          { id: 'ticket', name: 'Ticket', type: 'input', required: true },
        ]),
        node_list: [
          { ...TWO_NODES.data.node_list[0], node_type: 'AND', name: 'Lead' },
          {
            name: 'Extra',
            node_id: 'n-x',
            node_type: 'OR',
            need_approver: true,
          },
        ],
      },
    };
    readDefinition(edited);
    const feishu = client();
    expect(await feishu.formDrift(SPEC, 'REL')).toEqual([]);
    expect(await feishu.formDrift(SPEC, 'REL')).toEqual([
      'Field "Service" (field_1) is named "Component" in Feishu approval "REL"',
      'Feishu approval "REL" has a required field "Ticket" (ticket) that the template does not fill',
      'Node "Team lead" (stage_1, stage 1) is named "Lead" in Feishu approval "REL"',
      'Node "Team lead" (stage_1, stage 1) is AND in Feishu approval "REL", not OR (the stage needs any one of its approvers)',
      'Node "SRE" (stage_2, stage 2) is missing from Feishu approval "REL"',
      'Feishu approval "REL" has an extra node "Extra" whose approvers are chosen per request; no stage fills it',
    ]);
  });
});

describe("Feishu's token endpoint", () => {
  const token = () =>
    nock(BASE).post('/open-apis/auth/v3/tenant_access_token/internal');
  const outage =
    /^Feishu answered HTTP 503.* when asked to get a tenant access token: an outage at Feishu, not a problem with the app's settings; retrying later$/;

  it.each([
    [
      '503 with a result code',
      () => token().reply(503, { code: 1, msg: 'Service Unavailable' }),
      outage,
    ],
    [
      '503 without JSON',
      () => token().reply(503, '<html>Service Unavailable</html>'),
      outage,
    ],
    [
      '500 with an error-looking code',
      () => token().reply(500, { code: 10014, msg: 'app secret invalid' }),
      /^Feishu answered HTTP 500 \(code 10014: app secret invalid\) .*an outage at Feishu/,
    ],
    [
      'a network error',
      () => token().replyWithError('connect ECONNRESET'),
      /^Could not reach Feishu at https:\/\/open\.feishu\.test to get a tenant access token: connect ECONNRESET/,
    ],
    [
      '"internal error"',
      () => token().reply(200, { code: 1500, msg: 'internal error' }),
      /^Feishu failed to get a tenant access token \(code 1500: internal error\); retrying later$/,
    ],
    [
      '"try again later"',
      () =>
        token().reply(200, {
          code: 1395001,
          msg: 'There have been some errors. Please try again later',
        }),
      /; retrying later$/,
    ],
  ])(
    'answering %s is an outage, tried again later, never a credentials problem',
    async (_, reply, message) => {
      reply();
      const error = await imApiError(client().verifyCredentials());
      expect(error.kind).toBe('unavailable');
      expect(error.transient).toBe(true);
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/app id and secret|credentials/i);
    },
  );

  it('is a rate limit at code 99991400 or HTTP 429', async () => {
    token().reply(400, {
      code: 99991400,
      msg: 'request trigger frequency limit',
    });
    token().reply(429, {
      code: 99991400,
      msg: 'request trigger frequency limit',
    });
    for (let i = 0; i < 2; i++)
      expect((await imApiError(client().verifyCredentials())).kind).toBe(
        'rate_limited',
      );
  });

  it('blames the credentials only for the codes Feishu documents for a wrong app id or secret', async () => {
    token().reply(200, { code: 10003, msg: 'invalid param' });
    token().reply(200, { code: 99992402, msg: 'field validation failed' });
    const unknownApp = await imApiError(client().verifyCredentials());
    expect([unknownApp.kind, unknownApp.message]).toEqual([
      'credentials',
      expect.stringMatching(/^Unknown app id cli_0123456789abcdef/),
    ]);
    const other = await imApiError(client().verifyCredentials());
    expect([other.kind, other.message]).toEqual([
      'invalid_request',
      'Feishu refused to get a tenant access token (code 99992402: field validation failed)',
    ]);
  });

  it('fails the call once the outage is over', async () => {
    token().reply(503, {});
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .reply(200, {
        code: 0,
        data: { approval_code: 'DEPLOY', status: 'PENDING', timeline: [] },
      });
    const feishu = client();
    expect((await imApiError(feishu.readInstance('INST-1'))).kind).toBe(
      'unavailable',
    );
    expect(await feishu.readInstance('INST-1')).toEqual({ status: 'pending' });
  });
});

describe('Feishu API errors', () => {
  it.each([
    [503, { code: 0 }, 'unavailable'],
    [502, { code: 1390003, msg: 'instance code not found' }, 'unavailable'],
    [
      200,
      {
        code: 1395001,
        msg: 'There have been some errors. Please try again later',
      },
      'unavailable',
    ],
    [200, { code: 1500, msg: 'internal error' }, 'unavailable'],
    [
      400,
      { code: 99991400, msg: 'request trigger frequency limit' },
      'rate_limited',
    ],
    [200, { code: 99991672, msg: 'Access denied' }, 'permission'],
    [200, { code: 1390003, msg: 'instance code not found' }, 'not_found'],
    [200, { code: 1390001, msg: 'param is invalid' }, 'invalid_request'],
  ] as const)('classify HTTP %s %j as %s', async (status, body, kind) => {
    tokenOnce();
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .reply(status, body);
    expect((await imApiError(client().readInstance('INST-1'))).kind).toBe(kind);
  });

  it("retry a refused token once, then call a second refusal Feishu's fault, not the credentials", async () => {
    tokenOnce('t-1');
    tokenOnce('t-2');
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .times(2)
      .reply(200, {
        code: 99991663,
        msg: 'Invalid access token for authorization',
      });
    const error = await imApiError(client().readInstance('INST-1'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe(
      'Feishu refused the access token it had just issued when asked to read an approval instance (code 99991663: Invalid access token for authorization); retrying later',
    );
  });

  it.each([
    [
      10003,
      'invalid param (the token endpoint: unknown app id)',
      'credentials',
    ],
    [10014, 'app secret invalid', 'credentials'],
    [10013, 'app not published or disabled', 'permission'],
    [99991401, 'IP not allowed', 'permission'],
    [99991672, 'the app lacks the scope', 'permission'],
    [99991679, 'the user has not authorised the scope', 'permission'],
    [1390008, 'no permission for the approval', 'permission'],
    [1390002, 'approval code not found', 'not_found'],
    [1390003, 'instance code not found', 'not_found'],
    [60001, 'not found', 'not_found'],
    [99991400, 'request trigger frequency limit', 'rate_limited'],
    [1500, 'internal error', 'unavailable'],
    [1503, 'internal error', 'unavailable'],
    [1551, 'internal error', 'unavailable'],
    [1557, 'internal error', 'unavailable'],
    [
      1395001,
      'There have been some errors. Please try again later',
      'unavailable',
    ],
    [1390001, 'param is invalid', 'invalid_request'],
  ] as const)('classify code %s (%s) as %s', async (code, msg, kind) => {
    nock(BASE)
      .post('/open-apis/auth/v3/tenant_access_token/internal')
      .reply(200, { code, msg });
    const error = await imApiError(client().verifyCredentials());
    expect(error.kind).toBe(kind);
    expect(error.transient).toBe(
      kind === 'unavailable' || kind === 'rate_limited',
    );
    // Only a credentials error may point at the app's secret.
    const unlessCredentials = kind === 'credentials' ? '' : error.message;
    expect(unlessCredentials).not.toMatch(/app id and secret|App Secret/);
  });
});

describe('Feishu status mapping', () => {
  it('maps CANCELED with one L and every terminal status', () => {
    expect(FEISHU_INSTANCE_STATUS).toEqual({
      PENDING: 'pending',
      APPROVED: 'approved',
      REJECTED: 'rejected',
      CANCELED: 'canceled',
      DELETED: 'deleted',
    });
    expect(FEISHU_INSTANCE_STATUS.CANCELLED).toBeUndefined();
  });
});

describe('Feishu messages and added approvers', () => {
  /** Instance INST-1 of DEPLOY, pending on these people's tasks (t1, t2, …). */
  const pendingTasks = (...people: string[]) =>
    nock(BASE)
      .get('/open-apis/approval/v4/instances/INST-1')
      .reply(200, {
        code: 0,
        data: {
          approval_code: 'DEPLOY',
          status: 'PENDING',
          task_list: people.map((person, i) => ({
            id: `t${i + 1}`,
            open_id: `ou_${person}`,
            user_id: `u_${person}`,
            status: 'PENDING',
          })),
        },
      });
  /** ou_carol as the contact API tells the app of her. */
  const carol = (user: object) =>
    nock(BASE)
      .get('/open-apis/contact/v3/users/ou_carol')
      .query({ user_id_type: 'open_id' })
      .reply(200, { code: 0, data: { user } });

  it('sends each person a rich-text message whose text is a text node and whose link is a link node, with a uuid', async () => {
    tokenOnce();
    const bodies: any[] = [];
    nock(BASE)
      .post('/open-apis/im/v1/messages', body => {
        bodies.push(body);
        return true;
      })
      .query({ receive_id_type: 'open_id' })
      .times(2)
      .reply(200, { code: 0, data: { message_id: 'om_1' } });
    await client().sendMessage(
      ['ou_alice', 'ou_bob', 'ou_alice'],
      'Reminder: <at user_id="all"></at>',
      'https://i/1',
    );
    expect(bodies.map(body => body.receive_id)).toEqual(['ou_alice', 'ou_bob']);
    expect(JSON.parse(bodies[0].content)).toEqual({
      zh_cn: {
        content: [
          [{ tag: 'text', text: 'Reminder: <at user_id="all"></at>' }],
          [{ tag: 'a', text: 'https://i/1', href: 'https://i/1' }],
        ],
      },
    });
    expect(bodies[0]).toMatchObject({ msg_type: 'post' });
    expect(bodies[0].uuid).toMatch(/^[0-9a-f]{50}$/);
    expect(bodies[1].uuid).not.toBe(bodies[0].uuid);
  });

  it('reminds in a group chat with a mention of each person before the text, which stays a text node', async () => {
    tokenOnce();
    let sent: any;
    nock(BASE)
      .post('/open-apis/im/v1/messages', body => {
        sent = body;
        return true;
      })
      .query({ receive_id_type: 'chat_id' })
      .reply(200, { code: 0, data: { message_id: 'om_2' } });
    await client().remindInChat(
      'oc_room',
      ['ou_alice', 'ou_bob', 'ou_alice'],
      'Reminder: <at user_id="all"></at>',
    );
    expect(sent).toMatchObject({ receive_id: 'oc_room', msg_type: 'post' });
    expect(JSON.parse(sent.content)).toEqual({
      zh_cn: {
        content: [
          [
            { tag: 'at', user_id: 'ou_alice' },
            { tag: 'at', user_id: 'ou_bob' },
            { tag: 'text', text: ' Reminder: <at user_id="all"></at>' },
          ],
        ],
      },
    });
    expect(sent.uuid).toMatch(/^[0-9a-f]{50}$/);
  });

  it('says how to give the app a bot when Feishu answers 230006', async () => {
    tokenOnce();
    nock(BASE)
      .post('/open-apis/im/v1/messages')
      .query(true)
      .reply(400, { code: 230006, msg: 'Bot ability is not activated.' });
    await expect(client().sendMessage(['ou_alice'], 'x')).rejects.toMatchObject(
      {
        kind: 'permission',
        message: expect.stringContaining('enable the Bot ability'),
      },
    );
  });

  it('adds approvers beside a pending task by user_id, leaving out anyone already asked', async () => {
    tokenOnce();
    pendingTasks('alice', 'dave');
    carol({ name: 'Carol', user_id: 'u_carol' });
    let sent: any;
    nock(BASE)
      .post('/open-apis/approval/v4/instances/add_sign', body => {
        sent = body;
        return true;
      })
      .reply(200, { code: 0, msg: 'success' });
    await client().addApprovers('INST-1', ['ou_carol', 'ou_dave'], 'escalated');
    expect(sent).toEqual({
      approval_code: 'DEPLOY',
      instance_code: 'INST-1',
      user_id: 'u_alice',
      task_id: 't1',
      comment: 'escalated',
      add_sign_user_ids: ['u_carol'],
      add_sign_type: 3,
    });
  });

  it('names the scope it needs when Feishu keeps user_ids from the app', async () => {
    tokenOnce();
    pendingTasks('alice');
    carol({ name: 'Carol' });
    await expect(
      client().addApprovers('INST-1', ['ou_carol']),
    ).rejects.toMatchObject({
      kind: 'permission',
      message: expect.stringContaining('contact:user.employee_id:readonly'),
    });
  });
});
