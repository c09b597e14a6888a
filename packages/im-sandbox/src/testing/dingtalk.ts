import type { Sandbox, SandboxSeed } from '../server';
import { call } from './http';

// A small DingTalk corp for tests, and its APIs as a backend drives them.

export const DINGTALK_APP = {
  appKey: 'dingtestapp',
  appSecret: 'dingtalk-test-secret',
  agentId: 3001,
  token: 'dingtalk-test-token',
  aesKey: 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus',
};

export const DINGTALK_SEED: NonNullable<SandboxSeed['dingtalk']> = {
  corpId: 'dingtestcorp',
  apps: [DINGTALK_APP],
  users: [
    { userId: 'alice', name: 'Alice Chen', mobile: '+86 138-0000-0001' },
    { userId: 'bob', name: 'Bob Li', mobile: '13800000002' },
    { userId: 'carol', name: 'Carol Wang' },
    { userId: 'bot', name: 'Release Bot' },
  ],
  forms: [
    {
      processCode: 'PROC-DEPLOY',
      name: 'Production deployment',
      components: [
        {
          componentType: 'TextField',
          id: 'TextField_service',
          label: 'Service',
          required: true,
        },
        {
          componentType: 'TextareaField',
          id: 'TextareaField_reason',
          label: 'Reason',
        },
      ],
    },
  ],
};

/** A group with a robot, and a published card template that decides with a comment. */
export const DINGTALK_CHAT = {
  openConversationId: 'cidReleaseRoom==',
  name: 'Release room',
  members: ['alice', 'bob', 'carol'],
  robots: ['dingstreamapp'],
};
export const DINGTALK_CARD_TEMPLATE = {
  templateId: 'approval-card.schema',
  variables: ['title', 'status', 'decidable', 'notice'],
  lines: ['${title}', 'Status: ${status}', '${notice}'],
  buttons: [
    {
      actionId: 'approve',
      text: 'Approve',
      shownWhen: 'decidable',
      params: { action: 'approve', title: '${title}' },
    },
  ],
  input: 'comment',
};

export const DINGTALK_INSTANCE_REQUEST = {
  originatorUserId: 'bot',
  processCode: 'PROC-DEPLOY',
  formComponentValues: [
    { name: 'Service', value: 'payments' },
    { name: 'Reason', value: 'hotfix' },
  ],
  approvers: [{ actionType: 'OR', userIds: ['alice', 'bob'] }],
};

/** The new and old DingTalk APIs with a fresh token. */
export async function dingtalk(
  sandbox: Sandbox,
  app: { appKey: string; appSecret: string } = DINGTALK_APP,
) {
  const token = await call(sandbox.url, 'POST', '/v1.0/oauth2/accessToken', {
    body: { appKey: app.appKey, appSecret: app.appSecret },
  });
  const accessToken: string = token.body.accessToken;
  const headers = { 'x-acs-dingtalk-access-token': accessToken };
  const api = {
    token: accessToken,
    get: <T = any>(path: string) =>
      call<T>(sandbox.url, 'GET', path, { headers }),
    post: <T = any>(path: string, body?: unknown) =>
      call<T>(sandbox.url, 'POST', path, { body: body ?? {}, headers }),
    put: <T = any>(path: string, body?: unknown) =>
      call<T>(sandbox.url, 'PUT', path, { body: body ?? {}, headers }),
    async createInstance(
      overrides: Record<string, unknown> = {},
    ): Promise<string> {
      const answer = await api.post('/v1.0/workflow/processInstances', {
        ...DINGTALK_INSTANCE_REQUEST,
        ...overrides,
      });
      if (answer.status !== 200)
        throw new Error(`create failed: ${JSON.stringify(answer.body)}`);
      return answer.body.instanceId;
    },
  };
  return api;
}
