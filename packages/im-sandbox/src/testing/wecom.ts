import type { Sandbox, SandboxSeed } from '../server';
import { call } from './http';

// A small WeCom corp for tests, and its API as a backend drives it.

export const WECOM_CORP_ID = 'wwtestcorp';

export const WECOM_APP = {
  agentId: 1000002,
  secret: 'wecom-test-secret',
  token: 'wecom-test-token',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
};

export const WECOM_TEMPLATE_ID = 'C4NwNa8vTestDeploy';

export const WECOM_SEED: NonNullable<SandboxSeed['wecom']> = {
  corpId: WECOM_CORP_ID,
  apps: [WECOM_APP],
  users: [
    {
      userId: 'alice',
      name: 'Alice Chen',
      email: 'alice@example.com',
      mobile: '+86 138-0000-0001',
    },
    {
      userId: 'bob',
      name: 'Bob Li',
      email: 'bob@example.com',
      mobile: '13800000002',
    },
    { userId: 'carol', name: 'Carol Wang' },
    { userId: 'bot', name: 'Release Bot', email: 'bot@example.com' },
  ],
  templates: [
    {
      templateId: WECOM_TEMPLATE_ID,
      name: 'Production deployment',
      controls: [
        { control: 'Text', id: 'Text-1', title: 'Service', required: true },
        { control: 'Textarea', id: 'Textarea-2', title: 'Reason' },
      ],
    },
  ],
};

/** An applyevent body: one node, any one of alice and bob. */
export const WECOM_APPLY_REQUEST = {
  creator_userid: 'bot',
  template_id: WECOM_TEMPLATE_ID,
  use_template_approver: 0,
  process: { node_list: [{ type: 1, apv_rel: 2, userid: ['alice', 'bob'] }] },
  apply_data: {
    contents: [
      { control: 'Text', id: 'Text-1', value: { text: 'payments' } },
      { control: 'Textarea', id: 'Textarea-2', value: { text: 'hotfix' } },
    ],
  },
  summary_list: [
    { summary_info: [{ text: 'Deploy payments', lang: 'zh_CN' }] },
  ],
};

/** WeCom's API with a fresh token for the test app. */
export async function wecom(
  sandbox: Sandbox,
  app: { secret: string } = WECOM_APP,
) {
  const answer = await call(
    sandbox.url,
    'GET',
    `/cgi-bin/gettoken?corpid=${WECOM_CORP_ID}&corpsecret=${encodeURIComponent(app.secret)}`,
  );
  const token: string = answer.body.access_token;
  const withToken = (path: string) =>
    `${path}${path.includes('?') ? '&' : '?'}access_token=${token}`;
  const api = {
    token,
    get: <T = any>(path: string) =>
      call<T>(sandbox.url, 'GET', withToken(path)),
    post: <T = any>(path: string, body?: unknown) =>
      call<T>(sandbox.url, 'POST', withToken(path), { body: body ?? {} }),
    /** Makes a request (WECOM_APPLY_REQUEST with `overrides`) and returns its sp_no. */
    async apply(overrides: Record<string, unknown> = {}): Promise<string> {
      const created = await api.post('/cgi-bin/oa/applyevent', {
        ...WECOM_APPLY_REQUEST,
        ...overrides,
      });
      if (created.body.errcode !== 0)
        throw new Error(`applyevent failed: ${JSON.stringify(created.body)}`);
      return created.body.sp_no;
    },
    async detail(spNo: string) {
      return (await api.post('/cgi-bin/oa/getapprovaldetail', { sp_no: spNo }))
        .body;
    },
  };
  return api;
}
