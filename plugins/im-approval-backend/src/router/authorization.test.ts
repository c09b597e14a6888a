import { mockCredentials } from '@backstage/backend-test-utils';
import { APP } from '@im-approval/im-sandbox/testing';
import { imApprovalPermissions } from '@im-approval/plugin-im-approval-common';
import { apiOperations } from './__testUtils__/apiOperations';
import {
  installChangeLog,
  INTEGRATIONS,
  PERMISSIONS,
  startApiBackend,
  testDatabases,
  USER_WITH_ALL,
  userWithout,
  type ApiBackend,
  type ChangeLog,
  type PermissionName,
} from './__testUtils__/apiHarness';
import type { MintOptions, RunClaims } from './__testUtils__/oidcIssuer';
import {
  send,
  truncate,
  type RawRequest,
  type RawResponse,
} from './__testUtils__/requests';

/**
 * Who may call what: every route of the API (and every IM callback route) × every kind of
 * caller, each cell's expected status derived from the one ROUTES table below. A route missing
 * from the table fails the suite, so a new route gets its row before it ships.
 */

jest.setTimeout(120_000);

// ---------------------------------------------------------------------------------------------
// The callers.

type WorkflowVariant =
  'own' | 'otherRepo' | 'otherOwner' | 'forbiddenRef' | 'forbiddenEnv';

type Caller =
  | {
      name: string;
      kind: 'anonymous' | 'invalid';
      authorization(backend: ApiBackend): Promise<string | undefined>;
    }
  /** A genuine GitHub token of an owner the backend does not trust. */
  | {
      name: string;
      kind: 'untrustedOwner';
      authorization(backend: ApiBackend): Promise<string | undefined>;
    }
  | {
      name: string;
      kind: 'workflow';
      variant: WorkflowVariant;
      authorization(backend: ApiBackend): Promise<string | undefined>;
    }
  | {
      name: string;
      kind: 'service';
      authorization(backend: ApiBackend): Promise<string | undefined>;
    }
  | {
      name: string;
      kind: 'user';
      missing?: PermissionName;
      authorization(backend: ApiBackend): Promise<string | undefined>;
    };

/** The run the approvals under test belong to: acme/api on main, deploying to production. */
const OWN_RUN: RunClaims = {
  repository: 'acme/api',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  environment: 'production',
  run_id: '100',
  actor: 'octocat',
};
const token =
  (claims: RunClaims, options?: MintOptions) => async (backend: ApiBackend) =>
    `Bearer ${await backend.issuer.mint(claims, options)}`;

/** A clock skew the verifier tolerates (~60 s) and one it must not. */
const WITHIN_SKEW = 30;
const BEYOND_SKEW = 300;

const CALLERS: Caller[] = [
  {
    name: 'no credentials',
    kind: 'anonymous',
    authorization: async () => undefined,
  },
  {
    name: 'a garbage bearer token',
    kind: 'invalid',
    authorization: async () => 'Bearer not-a-token',
  },
  {
    name: 'an OIDC token that has expired',
    kind: 'invalid',
    authorization: token(OWN_RUN, {
      exp: -BEYOND_SKEW,
      iat: -BEYOND_SKEW - 300,
      nbf: -BEYOND_SKEW - 300,
    }),
  },
  {
    name: 'an OIDC token without exp',
    kind: 'invalid',
    authorization: token(OWN_RUN, { exp: null }),
  },
  {
    name: 'an OIDC token without iat',
    kind: 'invalid',
    authorization: token(OWN_RUN, { iat: null }),
  },
  {
    name: 'an OIDC token issued 5 minutes in the future',
    kind: 'invalid',
    authorization: token(OWN_RUN, {
      iat: BEYOND_SKEW,
      nbf: -5,
      exp: BEYOND_SKEW + 300,
    }),
  },
  {
    name: 'an OIDC token not valid for 5 minutes (nbf)',
    kind: 'invalid',
    authorization: token(OWN_RUN, { nbf: BEYOND_SKEW, exp: BEYOND_SKEW + 300 }),
  },
  {
    name: 'an OIDC token for another audience',
    kind: 'invalid',
    authorization: token(OWN_RUN, { audience: 'sts.amazonaws.com' }),
  },
  {
    name: 'an OIDC token signed with a key the issuer does not publish',
    kind: 'invalid',
    authorization: token(OWN_RUN, { untrustedKey: true }),
  },
  {
    name: 'an OIDC token of another issuer',
    kind: 'invalid',
    authorization: token(OWN_RUN, { issuer: 'https://token.example.com' }),
  },
  {
    name: 'an OIDC token without the repository claim',
    kind: 'invalid',
    authorization: token({ ...OWN_RUN, repository: undefined }),
  },
  {
    name: 'an OIDC token of an owner not allowed (initech/app)',
    kind: 'untrustedOwner',
    authorization: token({
      ...OWN_RUN,
      repository: 'initech/app',
      repository_owner: 'initech',
    }),
  },
  {
    name: "a workflow of acme/api (the approvals' own repository)",
    kind: 'workflow',
    variant: 'own',
    authorization: token(OWN_RUN),
  },
  {
    name: 'a workflow of acme/api whose clock is 30 s ahead',
    kind: 'workflow',
    variant: 'own',
    authorization: token(OWN_RUN, { iat: WITHIN_SKEW, nbf: WITHIN_SKEW }),
  },
  {
    name: 'a workflow of acme/web (another repository of the owner)',
    kind: 'workflow',
    variant: 'otherRepo',
    authorization: token({ ...OWN_RUN, repository: 'acme/web' }),
  },
  {
    name: 'a workflow of globex/app (another allowed owner)',
    kind: 'workflow',
    variant: 'otherOwner',
    authorization: token({
      ...OWN_RUN,
      repository: 'globex/app',
      repository_owner: 'globex',
    }),
  },
  {
    name: 'a workflow of acme/api on a ref the template forbids',
    kind: 'workflow',
    variant: 'forbiddenRef',
    authorization: token({ ...OWN_RUN, ref: 'refs/heads/feature' }),
  },
  {
    name: 'a workflow of acme/api in an environment the template forbids',
    kind: 'workflow',
    variant: 'forbiddenEnv',
    authorization: token({ ...OWN_RUN, environment: 'staging' }),
  },
  {
    name: 'a static/service token',
    kind: 'service',
    authorization: async () => mockCredentials.service.header(),
  },
  {
    name: 'a user with every permission',
    kind: 'user',
    authorization: async () => mockCredentials.user.header(USER_WITH_ALL),
  },
  ...PERMISSIONS.map((permission): Caller => ({
    name: `a user without ${permission}`,
    kind: 'user',
    missing: permission,
    authorization: async () =>
      mockCredentials.user.header(userWithout(permission)),
  })),
];

// ---------------------------------------------------------------------------------------------
// The table: per route, its success status, what users need, what services and workflows get.

const OK = 'ok' as const;
type Outcome = typeof OK | 403;
type WorkflowRule = Record<WorkflowVariant, Outcome>;

/** Workflows may read, wait on and cancel their own repository's approvals only. */
const OWN_REPOSITORY: WorkflowRule = {
  own: OK,
  forbiddenRef: OK,
  forbiddenEnv: OK,
  otherRepo: 403,
  otherOwner: 403,
};
/** Opening an approval is up to the template's policy (acme/*, refs/heads/main, environment production). */
const POLICY: WorkflowRule = {
  own: OK,
  otherRepo: OK,
  forbiddenRef: 403,
  forbiddenEnv: 403,
  otherOwner: 403,
};
const ANY_WORKFLOW: WorkflowRule = {
  own: OK,
  forbiddenRef: OK,
  forbiddenEnv: OK,
  otherRepo: OK,
  otherOwner: OK,
};
const NO_WORKFLOW: WorkflowRule = {
  own: 403,
  forbiddenRef: 403,
  forbiddenEnv: 403,
  otherRepo: 403,
  otherOwner: 403,
};

interface Route {
  /** The status of a caller who may. */
  ok: number;
  /** A user needs one of these permissions (none listed: any signed-in user). */
  user: PermissionName[];
  /** Services (static tokens) are trusted on approvals and settings, but are not people. */
  service: Outcome;
  workflow: WorkflowRule;
  /** Whether the route takes a user at all (decisions and test approvals are for people only). */
  peopleOnly?: boolean;
}

/** IM callback routes: no Backstage credentials needed, and none help: a forged callback gets this whoever sends it. */
interface CallbackRoute {
  callback: number;
}

const P = {
  integrations: 'im-approval.integration.manage',
  templates: 'im-approval.template.manage',
  create: 'im-approval.approval.create',
  read: 'im-approval.approval.read',
  decide: 'im-approval.approval.decide',
} as const;

const ROUTES: Record<string, Route | CallbackRoute> = {
  createApproval: { ok: 201, user: [P.create], service: OK, workflow: POLICY },
  listApprovals: {
    ok: 200,
    user: [P.read],
    service: OK,
    workflow: ANY_WORKFLOW,
  },
  listApprovalFacets: {
    ok: 200,
    user: [P.read],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  getApproval: {
    ok: 200,
    user: [P.read],
    service: OK,
    workflow: OWN_REPOSITORY,
  },
  waitForApproval: {
    ok: 200,
    user: [P.read],
    service: OK,
    workflow: OWN_REPOSITORY,
  },
  cancelApproval: {
    ok: 200,
    user: [P.decide],
    service: OK,
    workflow: OWN_REPOSITORY,
  },
  decideApproval: {
    ok: 200,
    user: [P.decide],
    service: 403,
    workflow: NO_WORKFLOW,
    peopleOnly: true,
  },
  getCapabilities: { ok: 200, user: [], service: OK, workflow: NO_WORKFLOW },
  listIntegrations: {
    ok: 200,
    user: [P.integrations, P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  getIntegration: {
    ok: 200,
    user: [P.integrations, P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  listIntegrationHealth: {
    ok: 200,
    user: [P.integrations, P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  createIntegration: {
    ok: 201,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  updateIntegration: {
    ok: 200,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  deleteIntegration: {
    ok: 204,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  testIntegration: {
    ok: 200,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  testIntegrationSettings: {
    ok: 200,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  describeForm: {
    ok: 200,
    user: [P.integrations, P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  getGithubSetup: {
    ok: 200,
    user: [P.integrations, P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  // app-config names the App here, so saving one is a conflict for whoever may try; deleting too.
  saveGithubApp: {
    ok: 409,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  deleteGithubApp: {
    ok: 409,
    user: [P.integrations],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  createGate: {
    ok: 201,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  updateGate: {
    ok: 200,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  deleteGate: {
    ok: 204,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  listTemplates: {
    ok: 200,
    user: [P.templates, P.read],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  getTemplate: {
    ok: 200,
    user: [P.templates, P.read],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  createTemplate: {
    ok: 201,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  updateTemplate: {
    ok: 200,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  deleteTemplate: {
    ok: 204,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  saveTemplateForm: {
    ok: 200,
    user: [P.templates],
    service: OK,
    workflow: NO_WORKFLOW,
  },
  testTemplate: {
    ok: 201,
    user: [P.templates],
    service: 403,
    workflow: NO_WORKFLOW,
    peopleOnly: true,
  },
  // Forged: Feishu's does not decrypt, DingTalk's and WeCom's are unsigned; a GET is no Feishu or DingTalk callback.
  'callback:feishu:post': { callback: 401 },
  'callback:feishu:get': { callback: 400 },
  'callback:dingtalk:post': { callback: 401 },
  'callback:dingtalk:get': { callback: 400 },
  'callback:wecom:post': { callback: 401 },
  'callback:wecom:get': { callback: 401 },
  'callback:feishu-cards:post': { callback: 401 },
  'callback:feishu-cards:get': { callback: 400 },
};

/** The cell: what this caller must get from this route. */
function expectedStatus(route: Route | CallbackRoute, caller: Caller): number {
  if ('callback' in route) return route.callback;
  const outcome = (value: Outcome) => (value === OK ? route.ok : value);
  switch (caller.kind) {
    case 'anonymous':
    case 'invalid':
      return 401;
    case 'untrustedOwner':
      return 403;
    case 'workflow':
      return outcome(route.workflow[caller.variant]);
    case 'service':
      return outcome(route.service);
    case 'user':
      return caller.missing &&
        route.user.length > 0 &&
        route.user.every(permission => permission === caller.missing)
        ? 403
        : route.ok;
    default:
      throw new Error('unknown caller');
  }
}

// ---------------------------------------------------------------------------------------------
// What each route is asked: a request a permitted caller succeeds with, on resources of its own.

const service = mockCredentials.service.header();
const json = { 'content-type': 'application/json' };
const admin = mockCredentials.user.header(USER_WITH_ALL);
let unique = 0;
const next = () => `${Date.now().toString(36)}-${++unique}`;

/** A create request the `production` template's policy lets acme/api's main branch make. */
const createBody = () => ({
  template: 'production',
  idempotencyKey: `matrix-${next()}`,
  variables: { service: 'api' },
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    environment: 'production',
    runId: '100',
  },
});

const feishuIntegration = (backend: ApiBackend, id: string) => ({
  id,
  provider: 'feishu',
  baseUrl: backend.sandbox.url,
  ...APP,
  initiator: 'bot@example.com',
});
const template = (name: string) => ({
  name,
  integration: INTEGRATIONS.feishu,
  form: 'DEPLOY',
  fields: { Service: 'api' },
  approvers: ['alice@example.com'],
  // DEPLOY's approver node is OR; a template must say so to be saved.
  approverMode: 'any',
});
const gate = (name: string) => ({
  name,
  environments: ['production'],
  template: 'deploy',
  variables: { service: 'api' },
});

/** A gate saved by a trusted service, for a request about it. */
async function storedGate(backend: ApiBackend): Promise<string> {
  const name = `matrix-${next()}`;
  await must(
    backend,
    {
      method: 'post',
      url: '/gates',
      headers: { ...json, authorization: service },
      body: JSON.stringify(gate(name)),
    },
    201,
  );
  return name;
}

async function must(
  backend: ApiBackend,
  raw: RawRequest,
  status: number,
): Promise<RawResponse> {
  const response = await send(backend.server, raw);
  if (response.status !== status)
    throw new Error(
      `setting up failed: ${raw.method} ${raw.url} → ${response.status} ${response.text}`,
    );
  return response;
}

async function pendingApproval(backend: ApiBackend): Promise<string> {
  const authorization = `Bearer ${await backend.issuer.mint(OWN_RUN)}`;
  const { body } = await must(
    backend,
    {
      method: 'post',
      url: '/approvals',
      headers: { ...json, authorization },
      body: JSON.stringify(createBody()),
    },
    201,
  );
  return body.id;
}

interface Fixture {
  /** acme/api's approval, already approved: reading and waiting on it answers at once. */
  decided: string;
}

async function setUp(backend: ApiBackend): Promise<Fixture> {
  const decided = await pendingApproval(backend);
  await must(
    backend,
    {
      method: 'post',
      url: `/approvals/${decided}/decision`,
      headers: { ...json, authorization: admin },
      body: JSON.stringify({ decision: 'approved', comment: 'ok' }),
    },
    200,
  );
  return { decided };
}

type RequestOf = (
  backend: ApiBackend,
  fixture: Fixture,
) => Promise<
  Omit<RawRequest, 'headers'> & { headers?: Record<string, string> }
>;

const REQUESTS: Record<string, RequestOf> = {
  createApproval: async () => ({
    method: 'post',
    url: '/approvals',
    body: JSON.stringify(createBody()),
  }),
  listApprovals: async () => ({ method: 'get', url: '/approvals?limit=5' }),
  listApprovalFacets: async () => ({
    method: 'get',
    url: '/approval-facets?q=acme',
  }),
  getApproval: async (_b, f) => ({
    method: 'get',
    url: `/approvals/${f.decided}`,
  }),
  waitForApproval: async (_b, f) => ({
    method: 'get',
    url: `/approvals/${f.decided}/wait?timeout=1s`,
  }),
  cancelApproval: async b => ({
    method: 'post',
    url: `/approvals/${await pendingApproval(b)}/cancel`,
    body: JSON.stringify({ reason: 'not needed' }),
  }),
  decideApproval: async b => ({
    method: 'post',
    url: `/approvals/${await pendingApproval(b)}/decision`,
    body: JSON.stringify({ decision: 'rejected', comment: 'not now' }),
  }),
  getCapabilities: async () => ({ method: 'get', url: '/capabilities' }),
  listIntegrations: async () => ({ method: 'get', url: '/integrations' }),
  getIntegration: async () => ({
    method: 'get',
    url: `/integrations/${INTEGRATIONS.feishu}`,
  }),
  listIntegrationHealth: async () => ({
    method: 'get',
    url: '/integration-health',
  }),
  createIntegration: async b => ({
    method: 'post',
    url: '/integrations',
    body: JSON.stringify(feishuIntegration(b, `matrix-${next()}`)),
  }),
  updateIntegration: async b => {
    const id = `matrix-${next()}`;
    await must(
      b,
      {
        method: 'post',
        url: '/integrations',
        headers: { ...json, authorization: service },
        body: JSON.stringify(feishuIntegration(b, id)),
      },
      201,
    );
    return {
      method: 'put',
      url: `/integrations/${id}`,
      body: JSON.stringify({ ...feishuIntegration(b, id), title: 'Renamed' }),
    };
  },
  deleteIntegration: async b => {
    const id = `matrix-${next()}`;
    await must(
      b,
      {
        method: 'post',
        url: '/integrations',
        headers: { ...json, authorization: service },
        body: JSON.stringify(feishuIntegration(b, id)),
      },
      201,
    );
    return { method: 'delete', url: `/integrations/${id}` };
  },
  testIntegration: async () => ({
    method: 'post',
    url: `/integrations/${INTEGRATIONS.feishu}/test`,
  }),
  testIntegrationSettings: async b => ({
    method: 'post',
    url: '/integrations/test',
    body: JSON.stringify(feishuIntegration(b, `matrix-${next()}`)),
  }),
  describeForm: async () => ({
    method: 'get',
    url: `/integrations/${INTEGRATIONS.feishu}/forms/DEPLOY`,
  }),
  getGithubSetup: async () => ({ method: 'get', url: '/github/setup' }),
  saveGithubApp: async () => ({
    method: 'put',
    url: '/github/app',
    body: JSON.stringify({ appId: 1, webhookSecret: 'matrix' }),
  }),
  deleteGithubApp: async () => ({ method: 'delete', url: '/github/app' }),
  createGate: async () => ({
    method: 'post',
    url: '/gates',
    body: JSON.stringify(gate(`matrix-${next()}`)),
  }),
  updateGate: async b => {
    const name = await storedGate(b);
    return {
      method: 'put',
      url: `/gates/${name}`,
      body: JSON.stringify({ ...gate(name), environments: ['staging'] }),
    };
  },
  deleteGate: async b => ({
    method: 'delete',
    url: `/gates/${await storedGate(b)}`,
  }),
  listTemplates: async () => ({ method: 'get', url: '/templates' }),
  getTemplate: async () => ({ method: 'get', url: '/templates/deploy' }),
  createTemplate: async () => ({
    method: 'post',
    url: '/templates',
    body: JSON.stringify(template(`matrix-${next()}`)),
  }),
  updateTemplate: async b => {
    const name = `matrix-${next()}`;
    await must(
      b,
      {
        method: 'post',
        url: '/templates',
        headers: { ...json, authorization: service },
        body: JSON.stringify(template(name)),
      },
      201,
    );
    return {
      method: 'put',
      url: `/templates/${name}`,
      body: JSON.stringify({ ...template(name), description: 'changed' }),
    };
  },
  deleteTemplate: async b => {
    const name = `matrix-${next()}`;
    await must(
      b,
      {
        method: 'post',
        url: '/templates',
        headers: { ...json, authorization: service },
        body: JSON.stringify(template(name)),
      },
      201,
    );
    return { method: 'delete', url: `/templates/${name}` };
  },
  saveTemplateForm: async () => ({
    method: 'post',
    url: '/templates/made-form/form',
  }),
  testTemplate: async () => ({
    method: 'post',
    url: '/templates/deploy/test',
    body: '{}',
  }),
  'callback:feishu:post': async () => ({
    method: 'post',
    url: `/callbacks/feishu/${INTEGRATIONS.feishu}`,
    body: JSON.stringify({ encrypt: 'bm90IGVuY3J5cHRlZCBieSBmZWlzaHU=' }),
  }),
  'callback:feishu:get': async () => ({
    method: 'get',
    url: `/callbacks/feishu/${INTEGRATIONS.feishu}`,
  }),
  'callback:dingtalk:post': async () => ({
    method: 'post',
    url: `/callbacks/dingtalk/${INTEGRATIONS.dingtalk}?timestamp=${Date.now()}&nonce=n`,
    body: JSON.stringify({ encrypt: 'x'.repeat(44) }),
  }),
  'callback:dingtalk:get': async () => ({
    method: 'get',
    url: `/callbacks/dingtalk/${INTEGRATIONS.dingtalk}`,
  }),
  'callback:wecom:post': async () => ({
    method: 'post',
    url: `/callbacks/wecom/${INTEGRATIONS.wecom}?msg_signature=${'0'.repeat(40)}&timestamp=${Math.floor(Date.now() / 1000)}&nonce=n`,
    headers: { 'content-type': 'text/xml' },
    body: '<xml><Encrypt><![CDATA[bm90IGVuY3J5cHRlZA==]]></Encrypt></xml>',
  }),
  'callback:wecom:get': async () => ({
    method: 'get',
    url: `/callbacks/wecom/${INTEGRATIONS.wecom}?msg_signature=${'0'.repeat(40)}&timestamp=1&nonce=n&echostr=abc`,
  }),
  'callback:feishu-cards:post': async () => ({
    method: 'post',
    url: `/callbacks/feishu/${INTEGRATIONS.feishu}/cards`,
    body: JSON.stringify({ encrypt: 'bm90IGVuY3J5cHRlZCBieSBmZWlzaHU=' }),
  }),
  'callback:feishu-cards:get': async () => ({
    method: 'get',
    url: `/callbacks/feishu/${INTEGRATIONS.feishu}/cards`,
  }),
};

// ---------------------------------------------------------------------------------------------

const databases = testDatabases();
const operationIds = apiOperations().map(operation => operation.id);
const cells = operationIds.flatMap(id =>
  CALLERS.map(caller => ({
    id,
    caller,
    expected: ROUTES[id] ? expectedStatus(ROUTES[id], caller) : 0,
  })),
);

describe('the authorization table', () => {
  it('has a row, and a request, for every route of the API and every IM callback route', () => {
    expect(Object.keys(ROUTES).sort()).toEqual([...operationIds].sort());
    expect(Object.keys(REQUESTS).sort()).toEqual([...operationIds].sort());
  });

  it('asks for every permission the plugin has', () => {
    // The names the table uses are the plugin's own; a new permission needs its callers here.
    expect(imApprovalPermissions.map(p => p.name).sort()).toEqual(
      [...PERMISSIONS].sort(),
    );
  });
});

describe.each(databases.eachSupportedId())(
  'who may call what, on %s',
  databaseId => {
    let backend: ApiBackend;
    let fixture: Fixture;
    let changes: ChangeLog;

    beforeAll(async () => {
      backend = await startApiBackend(databases, databaseId);
      fixture = await setUp(backend);
      changes = await installChangeLog(backend.knex);
    });

    afterAll(async () => {
      await backend?.close();
    });

    it.each(
      cells.map(
        cell => [cell.id, cell.caller.name, cell.expected, cell] as const,
      ),
    )('%s as %s → %d', async (_id, _name, expected, cell) => {
      const raw = await REQUESTS[cell.id](backend, fixture);
      const authorization = await cell.caller.authorization(backend);
      await changes.take();
      const response = await send(backend.server, {
        ...raw,
        headers: {
          ...(raw.body !== undefined ? json : {}),
          ...raw.headers,
          ...(authorization ? { authorization } : {}),
        },
        deadlineMs: 10_000,
      });
      const message =
        response.body?.error?.message ?? truncate(response.text, 200);
      // The answer and its message, so that a wrong status says why it came.
      expect(`${response.status} ${message}`).toMatch(
        new RegExp(`^${expected} `),
      );
      // A refused request writes nothing.
      const written = await changes.take();
      const refused = response.status < 200 || response.status >= 300;
      expect(refused ? written : []).toEqual([]);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Idempotency keys: checked against the caller and the policy on every call, scoped to the caller.

describe.each(databases.eachSupportedId())(
  'idempotency keys and who uses them, on %s',
  databaseId => {
    let backend: ApiBackend;

    beforeAll(async () => {
      backend = await startApiBackend(databases, databaseId);
    });

    afterAll(async () => {
      await backend?.close();
    });

    const bearer = async (claims: RunClaims) =>
      `Bearer ${await backend.issuer.mint(claims)}`;
    const create = (authorization: string, body: object) =>
      send(backend.server, {
        method: 'post',
        url: '/approvals',
        headers: { ...json, authorization },
        body: JSON.stringify(body),
      });

    /** An approval acme/api's main branch opened for production, already approved. */
    async function approvedFromAllowedRef() {
      const body = createBody();
      const opened = await create(await bearer(OWN_RUN), body);
      expect(opened.status).toBe(201);
      const decided = await send(backend.server, {
        method: 'post',
        url: `/approvals/${opened.body.id}/decision`,
        headers: { ...json, authorization: admin },
        body: JSON.stringify({ decision: 'approved', comment: 'ship it' }),
      });
      expect(decided.status).toBe(200);
      return { body, approval: opened.body };
    }

    it.each([
      ['a ref the template forbids', { ...OWN_RUN, ref: 'refs/heads/feature' }],
      [
        'an environment the template forbids',
        { ...OWN_RUN, environment: 'staging' },
      ],
      [
        'a repository the template forbids',
        { ...OWN_RUN, repository: 'globex/app', repository_owner: 'globex' },
      ],
    ])(
      'refuses a verified workflow on %s the key of an approval approved for an allowed one (403)',
      async (_what, claims) => {
        const { body, approval } = await approvedFromAllowedRef();
        const reused = await create(await bearer(claims as RunClaims), body);
        expect({ status: reused.status, id: reused.body?.id }).toEqual({
          status: 403,
          id: undefined,
        });
        expect(JSON.stringify(reused.body)).not.toContain(approval.id);
      },
    );

    it.each([
      [
        'a workflow of another repository of the owner',
        async () => bearer({ ...OWN_RUN, repository: 'acme/web' }),
      ],
      ['a static/service token', async () => service],
      ['a user with every permission', async () => admin],
    ])(
      'never hands the approval a workflow opened to %s using the same key',
      async (_who, other) => {
        const { body, approval } = await approvedFromAllowedRef();
        const reused = await create(await other(), body);
        expect(reused.status).not.toBe(200);
        expect(reused.status).toBeLessThan(500);
        // Whatever the answer, it is not the approval (a 201 is a new one).
        expect(reused.body?.id).not.toBe(approval.id);
        expect(JSON.stringify(reused.body ?? {})).not.toContain(approval.id);
      },
    );

    it('never hands the approval a static token opened to a workflow using the same key', async () => {
      const body = createBody();
      const opened = await create(service, body);
      expect(opened.status).toBe(201);
      const reused = await create(await bearer(OWN_RUN), body);
      expect(reused.status).not.toBe(200);
      expect(reused.status).toBeLessThan(500);
      // Whatever the answer, it is not the approval (a 201 is a new one).
      expect(reused.body?.id).not.toBe(opened.body.id);
    });

    /** One request, and the same key with one part of it changed. */
    const original = {
      template: 'deploy',
      title: 'Deploy api',
      variables: { service: 'api' },
      approvers: ['alice@example.com'],
      timeout: '2h',
      context: {
        repository: 'acme/api',
        ref: 'refs/heads/main',
        environment: 'production',
        runId: '1',
      },
    };
    const changes: Array<[string, object]> = [
      ['template', { template: 'production' }],
      ['variables', { variables: { service: 'web' } }],
      ['title', { title: 'Deploy web' }],
      ['approvers', { approvers: ['bob@example.com'] }],
      ['timeout', { timeout: '3h' }],
      ['context', { context: { ...original.context, runId: '2' } }],
    ];

    it('answers the same caller repeating a request with its approval (200)', async () => {
      const body = { ...original, idempotencyKey: `same-${next()}` };
      const first = await create(service, body);
      expect(first.status).toBe(201);
      const again = await create(service, body);
      expect({ status: again.status, id: again.body.id }).toEqual({
        status: 200,
        id: first.body.id,
      });
    });

    it.each(changes)(
      'answers the same static token reusing a key with another %s with a 422 that says so',
      async (what, change) => {
        const key = `changed-${next()}`;
        const first = await create(service, {
          ...original,
          idempotencyKey: key,
        });
        expect(first.status).toBe(201);
        const changed = await create(service, {
          ...original,
          ...change,
          idempotencyKey: key,
        });
        expect({
          status: changed.status,
          message: changed.body?.error?.message,
        }).toEqual({ status: 422, message: expect.stringContaining(what) });
      },
    );

    it.each([
      ...changes.filter(([what]) => what !== 'context'),
      ['context', {}] as [string, object],
    ])(
      'answers the same workflow reusing a key with another %s with a 422 that says so',
      async (what, change) => {
        const key = `changed-${next()}`;
        const first = await create(await bearer(OWN_RUN), {
          ...original,
          idempotencyKey: key,
        });
        expect(first.status).toBe(201);
        // A workflow's context is its token's claims: another run of it is another context.
        const claims =
          what === 'context' ? { ...OWN_RUN, run_id: '101' } : OWN_RUN;
        const changed = await create(await bearer(claims), {
          ...original,
          ...change,
          idempotencyKey: key,
        });
        expect({
          status: changed.status,
          message: changed.body?.error?.message,
        }).toEqual({ status: 422, message: expect.stringContaining(what) });
      },
    );
  },
);
