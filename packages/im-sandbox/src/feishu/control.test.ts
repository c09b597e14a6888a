import type { Sandbox } from '../server';
import { control, feishu, startTestSandbox } from '../testing/sandbox';

describe('the Feishu control API', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox.close());
  beforeEach(() => control(sandbox).post('/reset'));

  describe('tenant configuration', () => {
    it('adds apps, users and approvals that the open API then serves', async () => {
      const app = {
        appId: 'cli_added',
        appSecret: 's3cret',
        verificationToken: 'vt',
      };
      expect((await control(sandbox).post('/feishu/apps', app)).body).toEqual({
        appId: 'cli_added',
        callbackUrl: null,
        cardCallbackUrl: null,
        callbacks: 'on',
        mode: 'callback',
        encrypted: false,
        definitionWrite: true,
        subscriptions: [],
      });
      await control(sandbox).post('/feishu/users', {
        openId: 'ou_dave',
        name: 'Dave Zhou',
        email: 'dave@example.com',
      });
      await control(sandbox).post('/feishu/approvals', {
        approvalCode: 'HOTFIX',
        name: 'Hotfix',
        form: [],
        nodes: [
          { nodeId: 'n1', name: 'Owners', type: 'AND', needApprover: true },
        ],
      });

      const api = await feishu(sandbox, app);
      expect(
        (await api.get('/approval/v4/approvals/HOTFIX')).body.data
          .approval_name,
      ).toBe('Hotfix');
      const ids = await api.post(
        '/contact/v3/users/batch_get_id?user_id_type=open_id',
        { emails: ['dave@example.com'] },
      );
      expect(ids.body.data.user_list[0].user_id).toBe('ou_dave');
    });

    it.each([
      [
        '/feishu/apps',
        {
          appId: 'cli_x',
          appSecret: 's',
          verificationToken: 't',
          callbackUrl: 'ftp://host/cb',
        },
        'callbackUrl',
      ],
      [
        '/feishu/users',
        { openId: 'ou_x', name: 'X', email: 'not-an-email' },
        'email',
      ],
      [
        '/feishu/approvals',
        {
          approvalCode: 'A',
          name: 'A',
          form: [],
          nodes: [{ nodeId: 'n', name: 'N', type: 'XOR', needApprover: true }],
        },
        'nodes[0].type',
      ],
      [
        '/feishu/approvals',
        {
          approvalCode: 'A',
          name: 'A',
          form: [],
          nodes: [{ nodeId: 'n', name: 'N', type: 'OR', needApprover: false }],
        },
        'nodes: at least one node',
      ],
    ])(
      'answers 400 naming the field for a bad %s upsert',
      async (path, body, field) => {
        const answer = await control(sandbox).post(path, body);

        expect(answer.status).toBe(400);
        expect(answer.body.error).toContain(field);
      },
    );

    it('switches an app’s callbacks and URL, and 404s for an unknown app', async () => {
      const patched = await control(sandbox).patch(
        '/feishu/apps/cli_test_app',
        { callbackUrl: null, callbacks: 'off' },
      );
      expect(patched.body).toMatchObject({
        appId: 'cli_test_app',
        callbackUrl: null,
        callbacks: 'off',
        encrypted: true,
      });

      const bad = await control(sandbox).patch('/feishu/apps/cli_test_app', {
        callbacks: 'maybe',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain('callbacks');
      expect(
        (
          await control(sandbox).patch('/feishu/apps/cli_nobody', {
            callbacks: 'on',
          })
        ).status,
      ).toBe(404);
      await control(sandbox).patch('/feishu/apps/cli_test_app', {
        callbacks: 'on',
      });
    });
  });

  describe('instances', () => {
    it('lists instances with their form, approvers, task statuses and timeline', async () => {
      const api = await feishu(sandbox);
      const code = await api.createInstance({
        approval_code: 'CHANGE',
        uuid: 'change-1',
        title: '@i18n@title',
        i18n_resources: [
          {
            locale: 'en-US',
            is_default: true,
            texts: [{ key: '@i18n@title', value: 'Bump billing' }],
          },
        ],
        form: JSON.stringify([
          { id: 'widget_service', type: 'input', value: 'billing' },
        ]),
        node_approver_open_id_list: [
          { key: 'lead', value: ['ou_alice'] },
          { key: 'reviewers', value: ['ou_bob'] },
        ],
      });

      const list = await control(sandbox).get('/feishu/instances');
      expect(list.body).toHaveLength(1);
      expect(list.body[0]).toEqual({
        instanceCode: code,
        approvalCode: 'CHANGE',
        approvalName: 'Change request',
        appId: 'cli_test_app',
        title: 'Bump billing',
        status: 'PENDING',
        uuid: 'change-1',
        serialNumber: expect.stringMatching(/^\d{12}$/),
        initiatorOpenId: 'ou_bot',
        initiatorName: 'Release Bot',
        form: [
          {
            id: 'widget_service',
            name: 'Service',
            type: 'input',
            value: 'billing',
          },
        ],
        approvers: [
          expect.objectContaining({
            openId: 'ou_alice',
            name: 'Alice Chen',
            nodeName: 'Lead',
            nodeType: 'OR',
            status: 'PENDING',
            taskId: expect.any(String),
          }),
          expect.objectContaining({
            openId: 'ou_bob',
            name: 'Bob Li',
            nodeName: 'Reviewers',
            nodeType: 'AND',
            status: 'WAITING',
            taskId: null,
          }),
        ],
        cc: [],
        createdAt: expect.any(String),
        endedAt: null,
        timeline: [
          expect.objectContaining({
            type: 'START',
            openId: 'ou_bot',
            name: 'Release Bot',
          }),
        ],
      });
      expect(
        (await control(sandbox).get(`/feishu/instances/${code}`)).body
          .instanceCode,
      ).toBe(code);
      expect(
        (await control(sandbox).get('/feishu/instances/NOPE')).status,
      ).toBe(404);
    });

    it.each([
      [{ comment: 5 }, 'comment'],
      [{ delivery: { delayMs: -1 } }, 'delivery.delayMs'],
      [{ open_id: 'ou_alice' }, 'Unrecognized key: "open_id"'],
    ])(
      'answers 400 naming the field for a bad decision %j',
      async (body, field) => {
        const code = await (await feishu(sandbox)).createInstance();

        const answer = await control(sandbox).post(
          `/feishu/instances/${code}/approve`,
          body,
        );

        expect(answer.status).toBe(400);
        expect(answer.body.error).toContain(field);
        expect(
          (await control(sandbox).get(`/feishu/instances/${code}`)).body.status,
        ).toBe('PENDING');
      },
    );
  });

  describe('faults, stats and reset', () => {
    it.each([
      [{ route: 'instance.delete', code: 1 }, 'route'],
      [{ route: 'token', code: 0 }, 'code: must be non-zero'],
      [{ route: 'token', code: 1, times: 0 }, 'times'],
    ])(
      'answers 400 naming the field for a bad fault %j',
      async (body, field) => {
        const answer = await control(sandbox).post('/feishu/faults', body);

        expect(answer.status).toBe(400);
        expect(answer.body.error).toContain(field);
      },
    );

    it('answers 400 for a body that is not JSON and 404 for an unknown control route', async () => {
      const answer = await fetch(`${sandbox.url}/_sandbox/feishu/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"route":',
      });
      expect(answer.status).toBe(400);
      expect((await answer.json()).error).toContain('not valid JSON');
      expect((await control(sandbox).get('/feishu/nothing-here')).status).toBe(
        404,
      );
    });

    it('counts calls, and reset forgets instances, deliveries, stats and faults but keeps the tenant', async () => {
      const api = await feishu(sandbox);
      const code = await api.createInstance();
      await api.get(`/approval/v4/instances/${code}`);
      await control(sandbox).post('/feishu/faults', {
        route: 'approval.get',
        code: 99991400,
      });
      expect((await control(sandbox).get('/feishu/stats')).body).toEqual({
        tokenRequests: { cli_test_app: 1 },
        instanceCreates: 1,
        instanceReads: 1,
        rateLimited: 0,
        calls: { token: 1, 'instance.create': 1, 'instance.get': 1 },
      });

      expect((await control(sandbox).post('/reset')).status).toBe(204);

      expect((await control(sandbox).get('/feishu/instances')).body).toEqual(
        [],
      );
      expect((await control(sandbox).get('/feishu/deliveries')).body).toEqual(
        [],
      );
      expect((await control(sandbox).get('/feishu/stats')).body).toEqual({
        tokenRequests: {},
        instanceCreates: 0,
        instanceReads: 0,
        rateLimited: 0,
        calls: {},
      });
      // The fault is gone, and the token, app and approval are still there.
      expect((await api.get('/approval/v4/approvals/DEPLOY')).body.code).toBe(
        0,
      );
    });
  });
});
