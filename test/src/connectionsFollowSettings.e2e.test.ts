import type {
  ApprovalWithTimeline,
  IntegrationHealthList,
} from '@im-approval/plugin-im-approval-common';
import type { BackendProcess } from './__testUtils__/backendProcess';
import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  DINGTALK_STREAM_APP,
  dingtalkCallback,
  dingtalkStream,
  templateForApi,
} from './__testUtils__/ims';
import {
  api,
  errorMessage,
  getWithTimeline,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(180_000);

const ADDED = 'dingtalk-added';
const TEMPLATE = 'deploy-dingtalk-added';

describe('a DingTalk Stream app added through the settings API, on two replicas', () => {
  let stack: Stack;
  const settings = <T>(
    backend: BackendProcess,
    method: string,
    path: string,
    body?: unknown,
  ) => api<T>(backend, method, path, { token: STATIC_TOKEN, body });
  /** How many Stream connections the sandbox's DingTalk holds for the app. */
  const streamConnections = async () =>
    (
      await sandboxControl<Array<{ appId: string; connections: number }>>(
        stack.sandbox,
        'GET',
        '/dingtalk/stream',
      )
    ).find(v => v.appId === DINGTALK_STREAM_APP.appKey)?.connections ?? 0;
  const healthOf = async (backend: BackendProcess) => {
    const { status, body } = await settings<IntegrationHealthList>(
      backend,
      'GET',
      '/integration-health',
    );
    expect(status).toBe(200);
    expect(body.scope).toBe('replica');
    return body.items.find(item => item.id === ADDED);
  };

  beforeAll(async () => {
    // The reconciler waits ten minutes: a decision within the test came over the connection.
    stack = await startStack({
      database: 'postgres',
      replicas: 2,
      reconcileSeconds: 600,
      ims: [dingtalkCallback],
    });
    // The IM side of the app exists already; Backstage learns of it only through the API below.
    await sandboxControl(stack.sandbox, 'POST', '/dingtalk/apps', {
      ...DINGTALK_STREAM_APP,
      mode: 'stream',
    });
  });
  afterAll(() => stack?.stop());

  it('connects on every replica at once, and a decision arrives over the connection', async () => {
    const [a, b] = stack.backends;
    expect(await streamConnections()).toBe(0);

    const created = await settings(a, 'POST', '/integrations', {
      ...dingtalkStream.integration(stack.sandbox),
      id: ADDED,
    });
    expect(created.status).toBe(201);
    // One connection per replica: replica b heard of the app from replica a, without a restart.
    expect(
      await eventually(streamConnections, count => count === 2, 10_000),
    ).toBe(2);
    for (const backend of [a, b])
      expect(
        await eventually(
          () => healthOf(backend),
          item => item?.connection === 'connected',
        ),
      ).toMatchObject({ connection: 'connected', connectionMode: 'stream' });

    const templateConfig = templateForApi(dingtalkStream.templateConfig);
    const template = await settings(a, 'POST', '/templates', {
      name: TEMPLATE,
      integration: ADDED,
      ...templateConfig,
    });
    expect(template.status).toBe(201);

    const { approval, token } = await openApproval(stack, a, {
      template: TEMPLATE,
    });
    const waiting = waitFor(b, approval.id, token, '60s');
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      { userId: 'alice', comment: 'over the new stream' },
      'dingtalk',
    );
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedById: 'alice',
      comment: 'over the new stream',
    });
    const { body } = await getWithTimeline(a, approval.id, token);
    expect(
      (body as ApprovalWithTimeline).timeline.find(e => e.type === 'approved'),
    ).toMatchObject({ source: 'connection' });
    // The replica DingTalk pushed the event to says when it last heard from the app.
    const seen = await Promise.all([a, b].map(healthOf));
    expect(seen.some(item => item?.lastEventAt !== undefined)).toBe(true);
  });

  it('reopens the connection when the app changes, on every replica', async () => {
    const [a, b] = stack.backends;
    const before = await Promise.all([a, b].map(healthOf));
    const { status } = await settings(a, 'PUT', `/integrations/${ADDED}`, {
      ...dingtalkStream.integration(stack.sandbox),
      id: ADDED,
      title: 'DingTalk, renamed',
    });
    expect(status).toBe(200);
    for (const [i, backend] of [a, b].entries()) {
      const after = await eventually(
        () => healthOf(backend),
        item =>
          item?.connection === 'connected' && item.since !== before[i]?.since,
      );
      expect(Date.parse(after!.since!)).toBeGreaterThan(
        Date.parse(before[i]!.since!),
      );
    }
    expect(await eventually(streamConnections, count => count === 2)).toBe(2);
  });

  it('refuses to delete the app while a template uses it, then closes its connections once deleted', async () => {
    const [a, b] = stack.backends;
    const refused = await settings(a, 'DELETE', `/integrations/${ADDED}`);
    expect(refused.status).toBe(409);
    expect(errorMessage(refused)).toContain(`"${TEMPLATE}"`);
    expect(await streamConnections()).toBe(2);

    expect((await settings(a, 'DELETE', `/templates/${TEMPLATE}`)).status).toBe(
      204,
    );
    expect((await settings(a, 'DELETE', `/integrations/${ADDED}`)).status).toBe(
      204,
    );
    expect(
      await eventually(streamConnections, count => count === 0, 10_000),
    ).toBe(0);
    expect(await healthOf(b)).toBeUndefined();
  });
});
