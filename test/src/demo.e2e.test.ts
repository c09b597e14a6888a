import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './__testUtils__/backendProcess';
import {
  getWithTimeline,
  INTEGRATION,
  sandboxControl,
  startStack,
  STATIC_TOKEN,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

/** The template `yarn demo` asks for, as app-config.yaml names it; here on the stack's Feishu. */
const PRODUCTION_DEPLOY = {
  name: 'production-deploy',
  integration: INTEGRATION,
  form: 'DEPLOY',
  title: 'Deploy $${vars.service} from $${repository}',
  fields: { Service: '$${vars.service}', Reason: '$${vars.reason}' },
  approvers: ['alice@example.com'],
  approverMode: 'any',
};

const POST_STEP_REASON =
  'The workflow job was cancelled or failed while the approval was pending';

interface Demo {
  process: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('yarn demo, interrupted', () => {
  let stack: Stack;
  const demos: Demo[] = [];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      templates: [PRODUCTION_DEPLOY],
    });
  });
  afterAll(() => stack?.stop());
  // A demo a failed test left running would hold its step and poll the backend.
  afterEach(() => {
    for (const demo of demos.splice(0))
      if (demo.process.exitCode === null && demo.process.signalCode === null)
        process.kill(-demo.process.pid!, 'SIGKILL');
  });

  function startDemo(command: string, args: string[], cwd: string): Demo {
    const child = spawn(command, args, {
      cwd,
      env: {
        ...process.env,
        DEMO_BACKEND_URL: stack.backends[0].url,
        DEMO_INBOX_URL: `${stack.sandbox.url}/`,
      },
      // Its own process group, as a terminal's foreground job: a Ctrl-C signals the whole group.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', chunk => (output += chunk));
    child.stderr!.on('data', chunk => (output += chunk));
    const exited = new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
    }>(resolve =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const demo = { process: child, output: () => output, exited };
    demos.push(demo);
    return demo;
  }

  /** The id the demo prints once the step has opened its approval. */
  async function openedApproval(demo: Demo): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const id = /Approve or reject "([^"]+)"/.exec(demo.output())?.[1];
      if (id) return id;
      if (demo.process.exitCode !== null || Date.now() > deadline)
        throw new Error(`the demo opened no approval:\n${demo.output()}`);
      await new Promise(r => setTimeout(r, 50));
    }
  }

  async function expectCancelled(demo: Demo, id: string) {
    const { code } = await demo.exited;
    expect({ code, output: demo.output() }).toMatchObject({
      code: 130,
      output: expect.stringContaining(`Approval ${id} canceled`),
    });
    const { body } = await getWithTimeline(stack.backends[0], id, STATIC_TOKEN);
    expect(body).toMatchObject({
      status: 'canceled',
      comment: POST_STEP_REASON,
    });
    expect(body.timeline.map(event => event.type)).toEqual([
      'created',
      'im_instance_created',
      'canceled',
      'im_instance_revoked',
    ]);
    const instance = await sandboxControl(
      stack.sandbox,
      'GET',
      `/feishu/instances/${body.imInstanceId}`,
    );
    expect(instance.status).toBe('CANCELED');
  }

  it('cancels its approval and revokes the IM instance on Ctrl-C (SIGINT to `yarn demo` and all it runs)', async () => {
    const demo = startDemo('yarn', ['demo'], repoRoot);
    const id = await openedApproval(demo);
    const { body } = await getWithTimeline(stack.backends[0], id, STATIC_TOKEN);
    expect(body.status).toBe('pending');

    process.kill(-demo.process.pid!, 'SIGINT');
    await expectCancelled(demo, id);
  });

  it('cancels its approval on a SIGINT sent to the demo process alone', async () => {
    const demo = startDemo(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        'demo/actionDemo.ts',
      ],
      join(repoRoot, 'test'),
    );
    const id = await openedApproval(demo);

    demo.process.kill('SIGINT');
    await expectCancelled(demo, id);
  });
});
