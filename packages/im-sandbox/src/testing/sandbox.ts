import {
  type Sandbox,
  type SandboxOptions,
  type SandboxSeed,
  startSandbox,
} from '../server';
import { DINGTALK_SEED } from './dingtalk';
import { call } from './http';
import { WECOM_SEED } from './wecom';

export { call } from './http';

// Test helpers: a small tenant, and plain HTTP access to the sandbox as another process
// would have it (nothing here reaches into its memory).

export const APP = {
  appId: 'cli_test_app',
  appSecret: 'test-secret',
  verificationToken: 'test-verification-token',
  encryptKey: 'test-encrypt-key',
};

export const FORM_JSON = JSON.stringify([
  { id: 'widget_service', type: 'input', value: 'payments' },
  { id: 'widget_reason', type: 'textarea', value: 'hotfix' },
]);

/** DEPLOY: one OR node; CHANGE: an OR lead node, then an AND reviewers node; LOCKED: no revoking. */
export const TEST_SEED: SandboxSeed = {
  feishu: {
    apps: [APP],
    users: [
      {
        openId: 'ou_alice',
        userId: 'u_alice',
        name: 'Alice Chen',
        email: 'alice@example.com',
        mobile: '+8613800000001',
      },
      {
        openId: 'ou_bob',
        userId: 'u_bob',
        name: 'Bob Li',
        email: 'bob@example.com',
      },
      {
        openId: 'ou_carol',
        userId: 'u_carol',
        name: 'Carol Wang',
        email: 'carol@example.com',
      },
      {
        openId: 'ou_bot',
        userId: 'u_bot',
        name: 'Release Bot',
        email: 'bot@example.com',
      },
    ],
    approvals: [
      {
        approvalCode: 'DEPLOY',
        name: 'Production deployment',
        form: [
          {
            id: 'widget_service',
            name: 'Service',
            type: 'input',
            required: true,
          },
          {
            id: 'widget_reason',
            name: 'Reason',
            type: 'textarea',
            required: true,
          },
          { id: 'widget_run', name: 'Run', type: 'input' },
        ],
        nodes: [
          {
            nodeId: 'node_approvers',
            customNodeId: 'approvers',
            name: 'Approvers',
            type: 'OR',
            needApprover: true,
          },
        ],
      },
      {
        approvalCode: 'CHANGE',
        name: 'Change request',
        form: [
          {
            id: 'widget_service',
            name: 'Service',
            type: 'input',
            required: true,
          },
          { id: 'widget_reason', name: 'Reason', type: 'textarea' },
        ],
        nodes: [
          {
            nodeId: 'node_lead',
            customNodeId: 'lead',
            name: 'Lead',
            type: 'OR',
            needApprover: true,
          },
          {
            nodeId: 'node_reviewers',
            customNodeId: 'reviewers',
            name: 'Reviewers',
            type: 'AND',
            needApprover: true,
          },
          { nodeId: 'node_hr', name: 'HR', type: 'OR', needApprover: false },
        ],
      },
      {
        approvalCode: 'LOCKED',
        name: 'Locked request',
        form: [{ id: 'widget_service', name: 'Service', type: 'input' }],
        nodes: [
          {
            nodeId: 'node_approvers',
            name: 'Approvers',
            type: 'OR',
            needApprover: true,
          },
        ],
        allowRevoke: false,
      },
    ],
  },
  dingtalk: DINGTALK_SEED,
  wecom: WECOM_SEED,
};

export function startTestSandbox(
  options: SandboxOptions = {},
): Promise<Sandbox> {
  return startSandbox({
    seed: TEST_SEED,
    callbackRetryDelaysMs: [50, 100],
    ...options,
  });
}

/** The control API, as tests elsewhere drive it. */
export const control = (sandbox: Sandbox) => ({
  get: <T = any>(path: string) =>
    call<T>(sandbox.url, 'GET', `/_sandbox${path}`),
  post: <T = any>(path: string, body?: unknown) =>
    call<T>(sandbox.url, 'POST', `/_sandbox${path}`, { body: body ?? {} }),
  patch: <T = any>(path: string, body: unknown) =>
    call<T>(sandbox.url, 'PATCH', `/_sandbox${path}`, { body }),
});

/** The open API with a tenant token, as the backend drives it. */
export async function feishu(
  sandbox: Sandbox,
  app: { appId: string; appSecret: string } = APP,
) {
  const token = await call(
    sandbox.url,
    'POST',
    '/open-apis/auth/v3/tenant_access_token/internal',
    {
      body: { app_id: app.appId, app_secret: app.appSecret },
    },
  );
  const tenantToken: string = token.body.tenant_access_token;
  const api = {
    token: tenantToken,
    get: <T = any>(path: string) =>
      call<T>(sandbox.url, 'GET', `/open-apis${path}`, { token: tenantToken }),
    post: <T = any>(path: string, body?: unknown) =>
      call<T>(sandbox.url, 'POST', `/open-apis${path}`, {
        body: body ?? {},
        token: tenantToken,
      }),
    /** Creates a DEPLOY instance (or another approval's, through `overrides`) and returns its code. */
    async createInstance(
      overrides: Record<string, unknown> = {},
    ): Promise<string> {
      const answer = await api.post('/approval/v4/instances', {
        approval_code: 'DEPLOY',
        open_id: 'ou_bot',
        form: FORM_JSON,
        node_approver_open_id_list: [
          { key: 'approvers', value: ['ou_alice', 'ou_bob'] },
        ],
        ...overrides,
      });
      if (answer.body.code !== 0)
        throw new Error(`create failed: ${JSON.stringify(answer.body)}`);
      return answer.body.data.instance_code;
    },
  };
  return api;
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) =>
  new Promise(resolve => setTimeout(resolve, ms));

/**
 * Starts a sandbox for the enclosing describe block, resets it before each test and signs in to
 * its Feishu API: `const t = useTestSandbox()`, then `t.sandbox` and `t.api` inside tests.
 */
export function useTestSandbox() {
  const context = {} as {
    sandbox: Sandbox;
    api: Awaited<ReturnType<typeof feishu>>;
  };
  beforeAll(async () => {
    context.sandbox = await startTestSandbox();
  });
  afterAll(() => context.sandbox.close());
  beforeEach(async () => {
    await control(context.sandbox).post('/reset');
    context.api = await feishu(context.sandbox);
  });
  return context;
}

/** A shared card whose form sends a comment with its one submit button, as the backend's do. */
export function formCard(button: 'Approve' | 'Reject', title?: string) {
  return {
    config: { update_multi: true },
    ...(title && { header: { title: { tag: 'plain_text', content: title } } }),
    elements: [
      {
        tag: 'form',
        name: 'decision',
        elements: [
          { tag: 'input', name: 'comment' },
          {
            tag: 'button',
            text: { tag: 'plain_text', content: button },
            action_type: 'form_submit',
            name: button.toLowerCase(),
            value: { approvalId: 'a-1', action: button.toLowerCase() },
          },
        ],
      },
    ],
  };
}
