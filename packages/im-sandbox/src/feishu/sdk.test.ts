import * as lark from '@larksuiteoapi/node-sdk';
import type { Sandbox } from '../server';
import { quietLogger } from '../testing/lark';
import { APP, FORM_JSON, control, startTestSandbox } from '../testing/sandbox';

// The official Node SDK as a client: if it can use the sandbox, so can code written against Feishu.

/** The SDK's default token cache is process-wide; each client gets its own so tests stay apart. */
function sdkClient(sandbox: Sandbox, appSecret = APP.appSecret): lark.Client {
  const cache = new Map<string, unknown>();
  return new lark.Client({
    appId: APP.appId,
    appSecret,
    domain: sandbox.url,
    logger: quietLogger,
    cache: {
      set: async (key, value, _expire, options) =>
        Boolean(cache.set(`${options?.namespace}/${String(key)}`, value)),
      get: async (key, options) =>
        cache.get(`${options?.namespace}/${String(key)}`),
    },
  });
}

const feishuCodeOf = (error: unknown) =>
  (error as { response?: { data?: { code?: number } } }).response?.data?.code;

describe('the official Feishu SDK against the sandbox', () => {
  let sandbox: Sandbox;
  let client: lark.Client;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox.close());
  beforeEach(async () => {
    await control(sandbox).post('/reset');
    client = sdkClient(sandbox);
  });

  it('reads an approval definition', async () => {
    const answer = await client.approval.v4.approval.get({
      path: { approval_code: 'DEPLOY' },
    });

    expect(answer.code).toBe(0);
    expect(answer.data?.approval_name).toBe('Production deployment');
    expect(answer.data?.status).toBe('ACTIVE');
    expect(JSON.parse(answer.data?.form ?? '')).toEqual([
      { id: 'widget_service', name: 'Service', type: 'input', required: true },
      { id: 'widget_reason', name: 'Reason', type: 'textarea', required: true },
      { id: 'widget_run', name: 'Run', type: 'input', required: false },
    ]);
    expect(answer.data?.node_list).toEqual([
      expect.objectContaining({
        name: 'Approvers',
        need_approver: true,
        node_id: 'node_approvers',
        custom_node_id: 'approvers',
        node_type: 'OR',
      }),
    ]);
  });

  it('subscribes once; subscribing again answers 1390007 as Feishu does', async () => {
    const first = await client.approval.v4.approval.subscribe({
      path: { approval_code: 'CHANGE' },
    });
    expect(first.code).toBe(0);

    const again = await client.approval.v4.approval
      .subscribe({ path: { approval_code: 'CHANGE' } })
      .catch(feishuCodeOf);
    expect(again).toBe(1390007);
    const apps = await control(sandbox).get('/feishu/apps');
    expect(
      apps.body.find((app: { appId: string }) => app.appId === APP.appId)
        .subscriptions,
    ).toContain('CHANGE');
  });

  it('creates an instance once per uuid (a repeat fails with 60012), reads it and cancels it', async () => {
    const request = {
      approval_code: 'DEPLOY',
      open_id: 'ou_bot',
      form: FORM_JSON,
      node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
      uuid: 'run-42-attempt-1',
    };
    const created = await client.approval.v4.instance.create({ data: request });
    const repeated = await client.approval.v4.instance
      .create({ data: request })
      .catch(feishuCodeOf);
    const code = created.data?.instance_code ?? '';

    expect(code).toMatch(/^[0-9A-F-]{36}$/);
    expect(repeated).toBe(60012);

    const read = await client.approval.v4.instance.get({
      path: { instance_id: code },
    });
    expect(read.data).toMatchObject({
      approval_code: 'DEPLOY',
      instance_code: code,
      status: 'PENDING',
      open_id: 'ou_bot',
      uuid: 'run-42-attempt-1',
      end_time: '0',
      task_list: [
        expect.objectContaining({
          open_id: 'ou_alice',
          status: 'PENDING',
          node_id: 'node_approvers',
          custom_node_id: 'approvers',
        }),
      ],
      timeline: [expect.objectContaining({ type: 'START', open_id: 'ou_bot' })],
    });
    expect(JSON.parse(read.data?.form ?? '')).toEqual([
      {
        id: 'widget_service',
        name: 'Service',
        type: 'input',
        value: 'payments',
      },
      {
        id: 'widget_reason',
        name: 'Reason',
        type: 'textarea',
        value: 'hotfix',
      },
    ]);

    const canceled = await client.approval.v4.instance.cancel({
      params: { user_id_type: 'open_id' },
      data: { approval_code: 'DEPLOY', instance_code: code, user_id: 'ou_bot' },
    });
    expect(canceled.code).toBe(0);
    const after = await client.approval.v4.instance.get({
      path: { instance_id: code },
    });
    expect(after.data?.status).toBe('CANCELED');
    expect(after.data?.timeline?.map(entry => entry.type)).toEqual([
      'START',
      'CANCEL',
    ]);
    expect(after.data?.task_list?.[0].status).toBe('DONE');

    const stats = await control(sandbox).get('/feishu/stats');
    expect(stats.body).toMatchObject({
      instanceCreates: 1,
      instanceReads: 2,
      tokenRequests: { [APP.appId]: 1 },
    });
  });

  it('finds users by email and mobile and reads them', async () => {
    const ids = await client.contact.v3.user.batchGetId({
      params: { user_id_type: 'open_id' },
      data: {
        emails: ['alice@example.com', 'nobody@example.com'],
        mobiles: ['13800000001'],
      },
    });
    expect(ids.data?.user_list).toEqual([
      expect.objectContaining({
        user_id: 'ou_alice',
        email: 'alice@example.com',
      }),
      { email: 'nobody@example.com' },
      expect.objectContaining({ user_id: 'ou_alice', mobile: '13800000001' }),
    ]);

    const user = await client.contact.v3.user.get({
      path: { user_id: 'ou_bob' },
      params: { user_id_type: 'open_id' },
    });
    expect(user.data?.user).toMatchObject({
      open_id: 'ou_bob',
      user_id: 'u_bob',
      name: 'Bob Li',
      email: 'bob@example.com',
    });

    const missing = await client.contact.v3.user
      .get({ path: { user_id: 'ou_nobody' } })
      .catch(feishuCodeOf);
    expect(missing).toBe(41012);
  });

  it('fails every call of an app whose secret is wrong', async () => {
    const wrong = sdkClient(sandbox, 'not-the-secret');

    await expect(
      wrong.approval.v4.approval.get({ path: { approval_code: 'DEPLOY' } }),
    ).rejects.toThrow(/code: 10014, msg: app secret invalid/);
  });
});
