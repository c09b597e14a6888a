import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import type {
  ApprovalWithTimeline,
  IntegrationView,
  TemplateView,
} from '@im-approval/plugin-im-approval-common';
import type { JsonObject } from '@backstage/types';
import { signalApiRef, type SignalApi } from '@backstage/plugin-signals-react';
import {
  catalogApiRef,
  type CatalogApi,
} from '@backstage/plugin-catalog-react';
import { SWRConfig } from 'swr';
import { imApprovalApiRef, type ImApprovalApi } from '../api/ImApprovalApi';
import { ImApprovalPage } from '../components/ImApprovalPage';

export const BASE_URL = 'http://backstage.test/api/im-approval';

/** An API whose every method fails unless the test gives it an answer, so unexpected calls show. */
export function fakeApi(
  overrides: { [K in keyof ImApprovalApi]?: jest.Mock } = {},
): jest.Mocked<ImApprovalApi> {
  const unexpected = (name: string) =>
    jest.fn(() => Promise.reject(new Error(`unexpected call to ${name}`)));
  return {
    getBaseUrl: jest.fn(async () => BASE_URL),
    getCapabilities: jest.fn(async () => ({
      manageIntegrations: true,
      manageTemplates: true,
      readApprovals: true,
      decideApprovals: true,
      databaseSettings: true,
    })),
    listApprovals: unexpected('listApprovals'),
    listApprovalFacets: jest.fn(async () => ({
      templates: [],
      repositories: [],
    })),
    getApproval: unexpected('getApproval'),
    cancelApproval: unexpected('cancelApproval'),
    decideApproval: unexpected('decideApproval'),
    listIntegrations: unexpected('listIntegrations'),
    createIntegration: unexpected('createIntegration'),
    updateIntegration: unexpected('updateIntegration'),
    deleteIntegration: unexpected('deleteIntegration'),
    testIntegration: unexpected('testIntegration'),
    testIntegrationSettings: unexpected('testIntegrationSettings'),
    listIntegrationHealth: jest.fn(async () => ({
      scope: 'replica' as const,
      observedAt: new Date().toISOString(),
      items: [],
    })),
    describeForm: unexpected('describeForm'),
    getGithubSetup: unexpected('getGithubSetup'),
    saveGithubApp: unexpected('saveGithubApp'),
    deleteGithubApp: unexpected('deleteGithubApp'),
    createGate: unexpected('createGate'),
    updateGate: unexpected('updateGate'),
    deleteGate: unexpected('deleteGate'),
    listTemplates: unexpected('listTemplates'),
    createTemplate: unexpected('createTemplate'),
    updateTemplate: unexpected('updateTemplate'),
    deleteTemplate: unexpected('deleteTemplate'),
    saveTemplateForm: unexpected('saveTemplateForm'),
    sendTestApproval: unexpected('sendTestApproval'),
    ...overrides,
  } as jest.Mocked<ImApprovalApi>;
}

/** Backstage signals as the backend sends them: `send` delivers to the page's subscribers. */
export function fakeSignals() {
  const listeners = new Map<string, Set<(message: JsonObject) => void>>();
  const api: SignalApi = {
    subscribe<T extends JsonObject>(
      channel: string,
      onMessage: (message: T) => void,
    ) {
      const forChannel = listeners.get(channel) ?? new Set();
      listeners.set(channel, forChannel);
      const listener = onMessage as (message: JsonObject) => void;
      forChannel.add(listener);
      return { unsubscribe: () => forChannel.delete(listener) };
    },
  };
  return {
    api,
    send: (channel: string, message: JsonObject) =>
      listeners.get(channel)?.forEach(listener => listener(message)),
  };
}

/** Renders the plugin's page at `path` (relative to where it is mounted), denying the permissions named. */
export async function renderPage(
  api: ImApprovalApi,
  path: string,
  options: {
    deny?: string[];
    /** Permission checks fail with this, as when the backend cannot be reached. */
    permissionError?: Error;
    signals?: SignalApi;
    catalog?: CatalogApi;
  } = {},
) {
  const deny = new Set(options.deny ?? []);
  const permissionApi = mockApis.permission({
    authorize: request => {
      if (options.permissionError) throw options.permissionError;
      return deny.has(request.permission.name)
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW;
    },
  });
  // usePermission caches answers in SWR; a fresh cache keeps one test's permissions out of the next.
  return renderInTestApp(
    <SWRConfig value={{ provider: () => new Map() }}>
      <TestApiProvider
        apis={[
          [imApprovalApiRef, api],
          [permissionApiRef, permissionApi],
          ...(options.signals
            ? [[signalApiRef, options.signals] as const]
            : []),
          ...(options.catalog
            ? [[catalogApiRef, options.catalog] as const]
            : []),
        ]}
      >
        <ImApprovalPage />
      </TestApiProvider>
    </SWRConfig>,
    { routeEntries: [path] },
  );
}

export const approval: ApprovalWithTimeline = {
  id: '6f1c2b8e-3d7a-4c5e-9b1a-2f3e4d5c6b7a',
  status: 'pending',
  template: 'deploy',
  integration: 'feishu-main',
  provider: 'feishu',
  title: 'Deploy api from acme/api',
  idempotencyKey: '1001/1/deploy/approve',
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    actor: 'octocat',
    environment: 'production',
    verified: true,
    caller: 'github:acme/api',
    runUrl: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
  },
  variables: { service: 'api' },
  form: [
    { field: 'Service', value: 'api' },
    { field: 'Reason', value: 'release 1.2' },
  ],
  approvers: ['alice@example.com'],
  cc: [],
  stages: [],
  approverRefs: ['user:default/alice'],
  requester: {
    name: 'Octo Cat',
    identifiedBy: 'github-actor',
    githubLogin: 'octocat',
    entityRef: 'user:default/octocat',
  },
  nextReminderAt: null,
  escalateTo: [],
  escalatesAt: null,
  imInstanceId: 'INST-1',
  imUrl: 'https://feishu.example/instances/INST-1',
  decidedBy: null,
  decidedById: null,
  comment: null,
  decidedAt: null,
  error: null,
  createdAt: '2025-01-02T10:00:00.000Z',
  updatedAt: '2025-01-02T10:00:00.000Z',
  expiresAt: '2025-01-02T11:00:00.000Z',
  timeline: [
    {
      type: 'created',
      at: '2025-01-02T10:00:00.000Z',
      source: 'api',
      actor: 'github:acme/api',
      message: null,
    },
    {
      type: 'im_instance_created',
      at: '2025-01-02T10:00:01.000Z',
      source: 'api',
      actor: null,
      message: 'instance opened',
    },
  ],
};

export const configIntegration: IntegrationView = {
  id: 'feishu-main',
  provider: 'feishu',
  title: 'Feishu main',
  domain: 'feishu',
  appId: 'cli_main',
  initiator: 'release-bot@example.com',
  connectionMode: 'callback',
  secrets: { appSecret: true, verificationToken: true, encryptKey: false },
  source: 'config',
  editable: false,
  callbackPath: '/callbacks/feishu/feishu-main',
};

export const databaseIntegration: IntegrationView = {
  ...configIntegration,
  id: 'feishu-ops',
  title: 'Feishu ops',
  appId: 'cli_ops',
  source: 'database',
  editable: true,
  callbackPath: '/callbacks/feishu/feishu-ops',
};

export const template: TemplateView = {
  name: 'deploy',
  description: 'Production deployments',
  integration: 'feishu-ops',
  form: 'DEPLOY',
  title: 'Deploy ${vars.service} from ${repository}',
  fields: { widget_service: '${vars.service}', widget_run: '${runUrl}' },
  approvers: ['alice@example.com'],
  cc: [],
  approverMode: 'any',
  allowApproverOverride: false,
  allowSelfApproval: false,
  defaultTimeout: 3600,
  maxTimeout: 86400,
  policy: { repositories: ['acme/*'] },
  source: 'database',
  editable: true,
};
