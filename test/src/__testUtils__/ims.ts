import type { Sandbox } from '@im-approval/im-sandbox';
import type { BackendProcess } from './backendProcess';

/** The IMs the sandbox plays, by their path segment in its control API. */
export type Im = 'feishu' | 'dingtalk' | 'wecom';

/**
 * One integration under test: what the sandbox is seeded with for it, how the backend is
 * configured for it, its template, and what to tell the sandbox once the backends are up.
 */
export interface ImSetup {
  im: Im;
  integrationId: string;
  template: string;
  /** This integration's part of the sandbox seed, under its IM's key (merged with the other setups'). */
  seed: Record<string, unknown>;
  integration(sandbox: Sandbox): Record<string, unknown>;
  /** The template, without its name and integration. */
  templateConfig: Record<string, unknown>;
  /** Called with the first backend, e.g. to point the sandbox's callbacks at it. */
  /** Points the sandbox's app at the backend: only its API root is needed. */
  attach?(
    control: SandboxControl,
    backend: Pick<BackendProcess, 'api'>,
  ): Promise<void>;
}

export type SandboxControl = <T = any>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<T>;

/** Variables and policy every e2e template shares, so one request body fits them all. */
const COMMON_TEMPLATE = {
  title: 'Deploy $${vars.service} from $${repository}',
  defaultTimeout: '1h',
  maxTimeout: '1d',
  policy: { repositories: ['acme/*'], environments: ['production', 'staging'] },
};

export const FEISHU_APP = {
  appId: 'cli_e2e',
  appSecret: 'e2e-app-secret',
  verificationToken: 'e2e-verification-token',
  encryptKey: 'e2e-encrypt-key',
};

const FEISHU_USERS = [
  {
    openId: 'ou_alice',
    name: 'Alice Chen',
    email: 'alice@example.com',
    mobile: '+8613800000001',
  },
  { openId: 'ou_bob', name: 'Bob Li', email: 'bob@example.com' },
  { openId: 'ou_bot', name: 'Release Bot', email: 'release-bot@example.com' },
];

const FEISHU_DEPLOY = {
  approvalCode: 'DEPLOY',
  name: 'Production deployment',
  form: [
    { id: 'widget_service', name: 'Service', type: 'input', required: true },
    { id: 'widget_reason', name: 'Reason', type: 'textarea', required: true },
    { id: 'widget_run', name: 'Run', type: 'input' },
  ],
  nodes: [
    {
      nodeId: 'node_1',
      customNodeId: 'approvers',
      name: 'Approvers',
      type: 'OR' as const,
      needApprover: true,
    },
  ],
};

const FEISHU_TEMPLATE = {
  ...COMMON_TEMPLATE,
  form: 'DEPLOY',
  fields: {
    Service: '$${vars.service}',
    widget_reason: '$${vars.reason}',
    Run: '$${runUrl}',
  },
  approvers: ['alice@example.com', 'ou_bob'],
  approverMode: 'any',
};

function feishuIntegration(
  id: string,
  app: {
    appId: string;
    appSecret: string;
    verificationToken: string;
    encryptKey: string;
  },
  connectionMode: string,
) {
  return (sandbox: Sandbox) => ({
    id,
    provider: 'feishu',
    baseUrl: sandbox.url,
    ...app,
    connectionMode,
    initiator: 'release-bot@example.com',
    instanceUrl: `${sandbox.url}/feishu/instances/{instanceId}`,
  });
}

/** Feishu over HTTP callbacks (encrypted and signed): the sandbox calls the first backend. */
export const feishuCallback: ImSetup = {
  im: 'feishu',
  integrationId: 'feishu-sandbox',
  template: 'deploy',
  seed: { apps: [FEISHU_APP], users: FEISHU_USERS, approvals: [FEISHU_DEPLOY] },
  integration: feishuIntegration('feishu-sandbox', FEISHU_APP, 'callback'),
  templateConfig: FEISHU_TEMPLATE,
  attach: (control, backend) =>
    control('PATCH', `/feishu/apps/${FEISHU_APP.appId}`, {
      callbackUrl: `${backend.api}/callbacks/feishu/feishu-sandbox`,
    }),
};

/** A self-built app's id, as the SDK's WSClient insists on. */
export const FEISHU_LONG_CONNECTION_APP = {
  appId: 'cli_a1b2c3d4e5f60718',
  appSecret: 'e2e-lc-secret',
  verificationToken: 'e2e-lc-verification-token',
  encryptKey: 'e2e-lc-encrypt-key',
};

/** Feishu over the long connection the backend holds: no callback URL at all. */
export const feishuLongConnection: ImSetup = {
  im: 'feishu',
  integrationId: 'feishu-long-connection',
  template: 'deploy-feishu-lc',
  seed: {
    apps: [{ ...FEISHU_LONG_CONNECTION_APP, mode: 'long-connection' }],
    users: FEISHU_USERS,
    approvals: [FEISHU_DEPLOY],
  },
  integration: feishuIntegration(
    'feishu-long-connection',
    FEISHU_LONG_CONNECTION_APP,
    'long-connection',
  ),
  templateConfig: FEISHU_TEMPLATE,
};

const DINGTALK_USERS = [
  { userId: 'alice', name: 'Alice Chen', mobile: '13800000001' },
  { userId: 'bob', name: 'Bob Li', mobile: '13800000002' },
  { userId: 'releasebot', name: 'Release Bot', mobile: '13800000009' },
];

const DINGTALK_DEPLOY = {
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
      required: true,
    },
    { componentType: 'TextField', id: 'TextField_run', label: 'Run' },
  ],
};

const DINGTALK_TEMPLATE = {
  ...COMMON_TEMPLATE,
  form: 'PROC-DEPLOY',
  fields: {
    Service: '$${vars.service}',
    TextareaField_reason: '$${vars.reason}',
    Run: '$${runUrl}',
  },
  // A mobile (looked up) and a user id.
  approvers: ['13800000001', 'bob'],
  approverMode: 'any',
};

export const DINGTALK_APP = {
  appKey: 'dinge2ecallback',
  appSecret: 'e2e-dingtalk-secret',
  agentId: 3001,
  token: 'e2e-dingtalk-token',
  aesKey: 'e2eDingtalkAesKey0123456789abcdefghijklmnop',
};

export const DINGTALK_STREAM_APP = {
  appKey: 'dinge2estream',
  appSecret: 'e2e-dingtalk-stream-secret',
  agentId: 3002,
  token: 'e2e-dingtalk-stream-token',
  aesKey: 'e2eDingtalkStreamKey0123456789abcdefghijklm',
};

function dingtalkIntegration(
  id: string,
  app: typeof DINGTALK_APP,
  connectionMode: string,
) {
  return (sandbox: Sandbox) => ({
    id,
    provider: 'dingtalk',
    baseUrl: sandbox.url,
    legacyBaseUrl: sandbox.url,
    ...app,
    connectionMode,
    initiator: 'releasebot',
    instanceUrl: `${sandbox.url}/dingtalk/instances/{instanceId}`,
  });
}

/** DingTalk over HTTP push: encrypted, signed, answered with the encrypted success. */
export const dingtalkCallback: ImSetup = {
  im: 'dingtalk',
  integrationId: 'dingtalk-sandbox',
  template: 'deploy-dingtalk',
  seed: {
    apps: [DINGTALK_APP],
    users: DINGTALK_USERS,
    forms: [DINGTALK_DEPLOY],
  },
  integration: dingtalkIntegration(
    'dingtalk-sandbox',
    DINGTALK_APP,
    'callback',
  ),
  templateConfig: DINGTALK_TEMPLATE,
  attach: (control, backend) =>
    control('PATCH', `/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbackUrl: `${backend.api}/callbacks/dingtalk/dingtalk-sandbox`,
    }),
};

/** An older corp-level callback registration: events encrypted for the CorpId, timestamps in seconds. */
export const DINGTALK_CORP_APP = {
  appKey: 'dinge2ecorpreg',
  appSecret: 'e2e-dingtalk-corp-secret',
  token: 'e2e-dingtalk-corp-token',
  aesKey: 'e2eDingtalkCorpKey0123456789abcdefghijklmno',
};
const DINGTALK_CORP_ID = 'dinge2ecorp';

export const dingtalkCorpRegistration: ImSetup = {
  im: 'dingtalk',
  integrationId: 'dingtalk-corp-registration',
  template: 'deploy-dingtalk-corp',
  seed: {
    corpId: DINGTALK_CORP_ID,
    apps: [
      { ...DINGTALK_CORP_APP, receiveId: DINGTALK_CORP_ID, timestampUnit: 's' },
    ],
    users: DINGTALK_USERS,
    forms: [DINGTALK_DEPLOY],
  },
  integration: sandbox => ({
    ...dingtalkIntegration(
      'dingtalk-corp-registration',
      { ...DINGTALK_CORP_APP, agentId: 3003 },
      'callback',
    )(sandbox),
    receiveId: DINGTALK_CORP_ID,
  }),
  templateConfig: DINGTALK_TEMPLATE,
  attach: (control, backend) =>
    control('PATCH', `/dingtalk/apps/${DINGTALK_CORP_APP.appKey}`, {
      callbackUrl: `${backend.api}/callbacks/dingtalk/dingtalk-corp-registration`,
    }),
};

/** DingTalk over the Stream connection the backend holds. */
export const dingtalkStream: ImSetup = {
  im: 'dingtalk',
  integrationId: 'dingtalk-stream',
  template: 'deploy-dingtalk-stream',
  seed: {
    apps: [{ ...DINGTALK_STREAM_APP, mode: 'stream' }],
    users: DINGTALK_USERS,
    forms: [DINGTALK_DEPLOY],
  },
  integration: dingtalkIntegration(
    'dingtalk-stream',
    DINGTALK_STREAM_APP,
    'stream',
  ),
  templateConfig: DINGTALK_TEMPLATE,
};

export const WECOM_CORP_ID = 'wwe2ecorp';

const WECOM_USERS = [
  {
    userId: 'alice',
    name: 'Alice Chen',
    email: 'alice@example.com',
    mobile: '+8613800000001',
  },
  {
    userId: 'bob',
    name: 'Bob Li',
    email: 'bob@example.com',
    mobile: '13800000002',
  },
  {
    userId: 'releasebot',
    name: 'Release Bot',
    email: 'release-bot@example.com',
  },
];

const WECOM_DEPLOY = {
  templateId: 'C4NwNa8vE2eDeploy',
  name: 'Production deployment',
  controls: [
    { control: 'Text', id: 'Text-1', title: 'Service', required: true },
    { control: 'Textarea', id: 'Textarea-2', title: 'Reason', required: true },
    { control: 'Text', id: 'Text-3', title: 'Run' },
  ],
};

const WECOM_TEMPLATE = {
  ...COMMON_TEMPLATE,
  form: WECOM_DEPLOY.templateId,
  fields: {
    Service: '$${vars.service}',
    'Textarea-2': '$${vars.reason}',
    Run: '$${runUrl}',
  },
  // An email and a mobile, both looked up.
  approvers: ['alice@example.com', '13800000002'],
  approverMode: 'any',
};

export const WECOM_APP = {
  agentId: 1000002,
  secret: 'e2e-wecom-secret',
  token: 'e2e-wecom-token',
  encodingAesKey: 'e2eWecomAesKey0123456789abcdefghijklmnopqrs',
};

/** A second app of the corp, with no callback URL: the reconciler alone hears of its requests. */
export const WECOM_POLL_APP = {
  agentId: 1000003,
  secret: 'e2e-wecom-poll-secret',
  token: 'e2e-wecom-poll-token',
  encodingAesKey: 'e2eWecomPollKey0123456789abcdefghijklmnopqr',
};

function wecomIntegration(
  id: string,
  app: typeof WECOM_APP,
  connectionMode: 'callback' | 'poll',
) {
  return (sandbox: Sandbox) => ({
    id,
    provider: 'wecom',
    baseUrl: sandbox.url,
    corpId: WECOM_CORP_ID,
    agentId: app.agentId,
    secret: app.secret,
    // Poll mode takes no callback secrets.
    ...(connectionMode === 'callback'
      ? { token: app.token, encodingAESKey: app.encodingAesKey }
      : {}),
    connectionMode,
    // A WeCom user id, used as it is.
    initiator: 'releasebot',
    instanceUrl: `${sandbox.url}/wecom/instances/{instanceId}`,
  });
}

/** WeCom over HTTP callbacks: saving the URL makes the sandbox run WeCom's GET URL check against the first backend. */
export const wecomCallback: ImSetup = {
  im: 'wecom',
  integrationId: 'wecom-sandbox',
  template: 'deploy-wecom',
  seed: {
    corpId: WECOM_CORP_ID,
    apps: [WECOM_APP],
    users: WECOM_USERS,
    templates: [WECOM_DEPLOY],
  },
  integration: wecomIntegration('wecom-sandbox', WECOM_APP, 'callback'),
  templateConfig: WECOM_TEMPLATE,
  attach: (control, backend) =>
    control('PATCH', `/wecom/apps/${WECOM_APP.agentId}`, {
      callbackUrl: `${backend.api}/callbacks/wecom/wecom-sandbox`,
    }),
};

/** WeCom without a public URL: no callbacks, decisions found by the reconciler. */
export const wecomPoll: ImSetup = {
  im: 'wecom',
  integrationId: 'wecom-poll',
  template: 'deploy-wecom-poll',
  seed: {
    corpId: WECOM_CORP_ID,
    apps: [WECOM_POLL_APP],
    users: WECOM_USERS,
    templates: [WECOM_DEPLOY],
  },
  integration: wecomIntegration('wecom-poll', WECOM_POLL_APP, 'poll'),
  templateConfig: WECOM_TEMPLATE,
};

/** A template as the API takes it: app-config's `$${…}` escapes are for config files only. */
export function templateForApi<T extends object>(template: T): T {
  return JSON.parse(JSON.stringify(template).replaceAll('$${', '${'));
}

/** The setup with more people in its IM's seed, e.g. someone a test hands a task to. */
/** carol of the example catalog, as Feishu knows her (the seeds have alice and bob). */
export const FEISHU_CAROL = {
  openId: 'ou_carol',
  name: 'Carol Wang',
  email: 'carol@example.com',
};

export function withUsers(setup: ImSetup, ...users: object[]): ImSetup {
  return {
    ...setup,
    seed: {
      ...setup.seed,
      users: [...(setup.seed.users as object[]), ...users],
    },
  };
}

/** The sandbox seed of several setups: each IM's arrays joined, entries several setups share kept once. */
export function mergeSeeds(
  setups: ImSetup[],
): Record<string, Record<string, unknown>> {
  const seed: Record<string, Record<string, unknown>> = {};
  for (const setup of setups) {
    const target = (seed[setup.im] ??= {});
    for (const [key, value] of Object.entries(setup.seed)) {
      if (!Array.isArray(value)) {
        target[key] ??= value;
        continue;
      }
      const merged = (target[key] as unknown[] | undefined) ?? [];
      const seen = new Set(merged.map(item => JSON.stringify(item)));
      target[key] = [
        ...merged,
        ...value.filter(item => !seen.has(JSON.stringify(item))),
      ];
    }
  }
  return seed;
}

/**
 * The group chat card template as the README has operators build it in DingTalk's card designer:
 * its variables, what it shows, and Approve and Reject sending the comment typed above them.
 */
export const DINGTALK_CARD_TEMPLATE = {
  templateId: 'e2e-approval-card.schema',
  variables: [
    'approvalId',
    'title',
    'status',
    'details',
    'waitingOn',
    'outcome',
    'comment',
    'decidable',
    'instanceUrl',
    'approvalUrl',
    'notice',
  ],
  lines: [
    '${title}',
    '${status}',
    '${details}',
    'Waiting on: ${waitingOn}',
    '${outcome}',
    'Comment: ${comment}',
    '${notice}',
    'Open in DingTalk: ${instanceUrl}',
    'Open in Backstage: ${approvalUrl}',
  ],
  buttons: [
    { actionId: 'approve', text: 'Approve', shownWhen: 'decidable' },
    { actionId: 'reject', text: 'Reject', shownWhen: 'decidable' },
  ],
  input: 'comment',
};
