import { mockServices } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestApprovalAction } from './requestApproval';

// One client against the backend's HTTP API: a loopback server answers as the backend does, in
// turn, and records what the action sent. The action end to end, through the real scaffolder and
// backend, is in test/src/scaffolder.e2e.test.ts.

const ID = '6f1c1f9e-8a43-4a57-9a52-0d9b1d7c8e11';

function approval(overrides: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    id: ID,
    status: 'pending',
    template: 'deploy',
    integration: 'feishu-main',
    provider: 'feishu',
    title: 'Create the billing service',
    idempotencyKey: 'k',
    context: {
      repository: 'acme/billing',
      verified: false,
      caller: 'user:default/alice',
    },
    variables: {},
    form: [],
    approvers: ['bob@example.com'],
    approverRefs: ['user:default/bob'],
    requester: {
      name: 'Alice Chen',
      identifiedBy: 'backstage-user',
      entityRef: 'user:default/alice',
    },
    imInstanceId: 'INST-1',
    imUrl: 'https://im.example/INST-1',
    decidedBy: null,
    decidedById: null,
    comment: null,
    decidedAt: null,
    error: null,
    createdAt: now,
    updatedAt: now,
    expiresAt: now,
    ...overrides,
  };
}

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: any;
}

/** An answer, or 'hang' for a request left unanswered (a wait the task is cancelled during). */
type Answer = { status: number; body: unknown } | 'hang';

async function fakeBackend(answers: Answer[], onHang?: () => void) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', chunk => (text += chunk));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        body: text ? JSON.parse(text) : undefined,
      });
      const answer = answers.shift() ?? {
        status: 500,
        body: { error: { message: 'no more answers' } },
      };
      if (answer === 'hang') {
        onHang?.();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    seen,
    baseUrl: `http://127.0.0.1:${port}/api/im-approval`,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

function actionFor(baseUrl: string) {
  return createRequestApprovalAction({
    discovery: mockServices.discovery.mock({ getBaseUrl: async () => baseUrl }),
    auth: mockServices.auth(),
  });
}

const input = {
  template: 'deploy',
  repository: 'acme/billing',
  variables: { service: 'billing' },
};

describe('im-approval:request', () => {
  it('opens the approval on behalf of the person running the template, waits, and outputs the decision', async () => {
    const backend = await fakeBackend([
      { status: 201, body: approval() },
      { status: 200, body: approval() },
      {
        status: 200,
        body: approval({
          status: 'approved',
          decidedBy: 'Bob Li',
          decidedById: 'ou_bob',
          comment: 'go',
          decidedAt: new Date().toISOString(),
        }),
      },
    ]);
    const logger = mockServices.logger.mock();
    const ctx = createMockActionContext({
      input,
      logger,
      task: { id: 'task-1' },
      templateInfo: { entityRef: 'template:default/new-service' },
    });
    await actionFor(backend.baseUrl).handler(ctx as any);
    await backend.close();

    const [create, ...waits] = backend.seen;
    expect(create).toMatchObject({
      method: 'POST',
      url: '/api/im-approval/approvals',
      body: {
        template: 'deploy',
        // The same task and step find the same approval when the step runs again.
        idempotencyKey: 'scaffolder:task-1:mock-step-id',
        variables: { service: 'billing' },
        context: {
          repository: 'acme/billing',
          workflow: 'template:default/new-service',
          job: 'mock-step-id',
          runId: 'task-1',
        },
      },
    });
    // A token for the im-approval plugin, on behalf of the task's initiator.
    expect(create.authorization).toMatch(/^Bearer .*im-approval/);
    expect(waits.map(w => w.url)).toEqual([
      `/api/im-approval/approvals/${ID}/wait?timeout=25s`,
      `/api/im-approval/approvals/${ID}/wait?timeout=25s`,
    ]);
    expect(logger.info).toHaveBeenCalledWith(
      'Asked bob@example.com in feishu: https://im.example/INST-1',
    );
    expect(logger.info).toHaveBeenCalledWith(
      'The approval was approved by Bob Li (ou_bob): "go"',
    );
    expect(ctx.output).toHaveBeenCalledWith('status', 'approved');
    expect(ctx.output).toHaveBeenCalledWith('decidedBy', 'Bob Li (ou_bob)');
    expect(ctx.output).toHaveBeenCalledWith('comment', 'go');
    expect(ctx.output).toHaveBeenCalledWith('url', 'https://im.example/INST-1');
    expect(ctx.output).toHaveBeenCalledWith(
      'link',
      `/im-approval/approvals/${ID}`,
    );
  });

  it.each([
    [
      'rejected',
      { decidedBy: 'Bob Li', comment: 'not now' },
      /^The approval was rejected by Bob Li: "not now"$/,
    ],
    ['expired', {}, /^The approval expired undecided$/],
  ])(
    'fails the task when the approval is %s',
    async (status, extra, message) => {
      const backend = await fakeBackend([
        { status: 201, body: approval({ status, ...extra }) },
      ]);
      const ctx = createMockActionContext({ input, task: { id: 't' } });
      await expect(
        actionFor(backend.baseUrl).handler(ctx as any),
      ).rejects.toThrow(message);
      await backend.close();
      expect(ctx.output).toHaveBeenCalledWith('status', status);
    },
  );

  it("fails with the backend's sentence when it refuses the request", async () => {
    const backend = await fakeBackend([
      {
        status: 400,
        body: {
          error: {
            name: 'InputError',
            message: 'body.template: there is no template named "deploy"',
          },
        },
      },
    ]);
    const ctx = createMockActionContext({ input, task: { id: 't' } });
    await expect(
      actionFor(backend.baseUrl).handler(ctx as any),
    ).rejects.toThrow(
      'The IM approval backend answered 400 to POST /approvals: body.template: there is no template named "deploy"',
    );
    await backend.close();
  });

  it('cancels the approval when the task is cancelled while it waits', async () => {
    const controller = new AbortController();
    const backend = await fakeBackend(
      [
        { status: 201, body: approval() },
        'hang',
        { status: 200, body: approval({ status: 'canceled' }) },
      ],
      () => controller.abort(),
    );
    const ctx = {
      ...createMockActionContext({ input, task: { id: 't' } }),
      signal: controller.signal,
    };
    await expect(
      actionFor(backend.baseUrl).handler(ctx as any),
    ).rejects.toThrow();
    await backend.close();
    expect(backend.seen.map(s => `${s.method} ${s.url}`)).toEqual([
      'POST /api/im-approval/approvals',
      `GET /api/im-approval/approvals/${ID}/wait?timeout=25s`,
      `POST /api/im-approval/approvals/${ID}/cancel`,
    ]);
    expect(backend.seen[2].body).toEqual({
      reason: 'The software template task was cancelled',
    });
  });
});
