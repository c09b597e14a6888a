import { mockServices } from '@backstage/backend-test-utils';
import { feishuIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import nock from 'nock';
import { imApiError, useNock } from '../testing/providerTestUtils';
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
  initiator: 'ou_bot',
  instanceUrl: `${BASE}/instances/{instanceId}`,
});

function client() {
  return new FeishuClient(integration, { logger: mockServices.logger.mock(), callbackMaxAgeSeconds: 300 });
}

function tokenOnce(token = 't-1') {
  return nock(BASE)
    .post('/open-apis/auth/v3/tenant_access_token/internal', { app_id: 'cli_0123456789abcdef', app_secret: 'app-secret' })
    .reply(200, { code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 });
}

function definition(form: string, nodeType = 'OR') {
  return {
    code: 0,
    data: {
      approval_name: 'Deploy',
      form,
      node_list: [
        { name: 'Start', node_id: 'START' },
        { name: 'Approve', node_id: 'n-1', custom_node_id: 'approvers', node_type: nodeType, need_approver: true },
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
    nock(BASE).get('/open-apis/approval/v4/approvals/DEPLOY').once().reply(200, definition(FORM));
    nock(BASE).post('/open-apis/approval/v4/approvals/DEPLOY/subscribe').once().reply(200, { code: 0, data: {} });
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
    const request = { approvalId: 'a-1', form: 'DEPLOY', title: 'Deploy api', fields: [{ field: 'Service', value: 'api' }], approvers: ['ou_alice'], approverMode: 'any' as const };
    expect(await feishu.createInstance(request)).toEqual({ instanceId: 'INST/1', url: `${BASE}/instances/INST%2F1` });
    await feishu.createInstance({ ...request, approvalId: 'a-2' });
    expect(bodies[0]).toEqual({
      approval_code: 'DEPLOY',
      open_id: 'ou_bot',
      form: JSON.stringify([{ id: 'w-service', type: 'input', value: 'api' }]),
      node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
      uuid: 'a-1',
      title: 'Deploy api',
    });
  });

  it('says so when the definition has a form that is not JSON, as an error of the IM', async () => {
    tokenOnce();
    nock(BASE).get('/open-apis/approval/v4/approvals/BROKEN').reply(200, definition('{not json'));
    const error = await imApiError(client().describeForm('BROKEN'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('Feishu answered with an unexpected shape when asked to read approval definition "BROKEN" (the form is not JSON at form); retrying later');
  });

  it('refuses an approverMode the approval node does not have, naming both and the fix', async () => {
    tokenOnce();
    nock(BASE).get('/open-apis/approval/v4/approvals/DEPLOY').reply(200, definition(FORM, 'AND'));
    const error = await imApiError(
      client().createInstance({ approvalId: 'a', form: 'DEPLOY', title: 't', fields: [], approvers: ['ou_alice'], approverMode: 'any' }),
    );
    expect(error.kind).toBe('invalid_request');
    expect(error.message).toMatch(/node "Approve" is AND \(all must approve\); change the node in Feishu or set the template's approverMode to all/);
  });

  it.each([
    ['PENDING', [], { status: 'pending' }],
    ['APPROVED', [{ type: 'PASS', open_id: 'ou_alice', comment: 'ship it', create_time: '1763712300000' }], { status: 'approved', decidedBy: 'alice@example.com', comment: 'ship it', decidedAt: new Date(1763712300000) }],
    ['REJECTED', [{ type: 'REJECT', open_id: 'ou_alice', create_time: '1763712300000' }], { status: 'rejected', decidedBy: 'alice@example.com', comment: undefined, decidedAt: new Date(1763712300000) }],
    ['CANCELED', [{ type: 'CANCEL', create_time: '1763712300000' }], { status: 'canceled', decidedBy: undefined, comment: undefined, decidedAt: new Date(1763712300000) }],
  ])('reads a %s instance and who decided it from the timeline', async (status, timeline, expected) => {
    tokenOnce();
    nock(BASE).get('/open-apis/approval/v4/instances/INST-1').reply(200, { code: 0, data: { approval_code: 'DEPLOY', status, timeline } });
    if (timeline.some(entry => 'open_id' in entry)) {
      nock(BASE).get('/open-apis/contact/v3/users/ou_alice').query({ user_id_type: 'open_id' }).reply(200, { code: 0, data: { user: { name: 'Alice', email: 'alice@example.com' } } });
    }
    expect(await client().readInstance('INST-1')).toEqual(expected);
  });

  it('says which credential to check when the app secret is refused', async () => {
    nock(BASE).post('/open-apis/auth/v3/tenant_access_token/internal').reply(200, { code: 10014, msg: 'app secret invalid' });
    const error = await imApiError(client().verifyCredentials());
    expect(error.kind).toBe('credentials');
    expect(error.message).toMatch(/^Invalid app secret for app cli_0123456789abcdef: copy the App Secret again/);
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
