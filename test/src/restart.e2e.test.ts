import { errorResponseSchema } from '@im-approval/plugin-im-approval-common';
import { connect } from 'node:net';
import {
  approvalIdOf,
  startStep,
  type RunningStep,
  type StepResult,
} from './__testUtils__/actionRunner';
import type { BackendProcess } from './__testUtils__/backendProcess';
import { decideInSandbox } from './__testUtils__/flow';
import {
  getWithTimeline,
  RUN,
  startStack,
  STATIC_TOKEN,
  type DatabaseKind,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

const ACTIONS = 8;
const RESTARTS = 3;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Asks for one approval over and over while the backend restarts, and keeps every answer that is
 * neither the approval nor Backstage's own "starting / shutting down" 503: a backend that serves
 * the plugin's paths before the plugin is mounted answers those with an empty 404.
 */
function probeAnswers(backend: BackendProcess, id: string) {
  const odd: string[] = [];
  let answers = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const response = await fetch(`${backend.api}/approvals/${id}`, {
          headers: { authorization: `Bearer ${STATIC_TOKEN}` },
        });
        const text = await response.text();
        answers += 1;
        const backstage503 =
          response.status === 503 &&
          errorResponseSchema.safeParse(safeJson(text)).success;
        if (response.status !== 200 && !backstage503)
          odd.push(`${response.status} ${JSON.stringify(text.slice(0, 100))}`);
      } catch {
        // Not listening, or the connection closed while stopping: the Action retries those too.
      }
      await sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { odd, answers };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Resolves once the backend's port has closed (the old process gone) and opened again. */
async function portReopened(backend: BackendProcess) {
  const { hostname, port } = new URL(backend.url);
  const open = () =>
    new Promise<boolean>(resolve => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  while (await open()) await sleep(5);
  while (!(await open())) await sleep(5);
}

/** The `::command::` lines a step printed, its masks and debug lines left out. */
const commands = (result: StepResult) =>
  result.stdout
    .split('\n')
    .filter(
      line =>
        line.startsWith('::') &&
        !line.startsWith('::add-mask::') &&
        !line.startsWith('::debug::'),
    )
    .map(line => line.replace(/retrying in \d+\.\d s$/, 'retrying in … s'));

describe.each<DatabaseKind>(['sqlite', 'postgres'])(
  'Actions waiting while the backend restarts, on %s',
  database => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ database });
    });
    afterAll(() => stack?.stop());

    it('every Action rides out the restarts and ends with the decision made in the IM', async () => {
      const backend = stack.backends[0];
      const steps: RunningStep[] = Array.from({ length: ACTIONS }, (_, i) =>
        startStep({
          inputs: {
            'backstage-url': backend.url,
            template: 'deploy',
            variables: `service=api-${i}\nreason=restart test`,
          },
          env: { GITHUB_JOB: `deploy-${i}`, ...stack.issuer.runnerEnv(RUN) },
        }),
      );
      const ids = await Promise.all(steps.map(step => approvalIdOf(step)));
      const approvals = await Promise.all(
        ids.map(
          async id => (await getWithTimeline(backend, id, STATIC_TOKEN)).body,
        ),
      );
      expect(approvals.map(a => a.status)).toEqual(
        Array(ACTIONS).fill('pending'),
      );

      const probe = probeAnswers(backend, ids[0]);
      // A job that starts while the backend restarts, waiting on an approval opened earlier: its first
      // request comes as soon as the port opens, while the plugin may not be mounted yet.
      const joiners: RunningStep[] = [];
      for (let i = 0; i < RESTARTS; i++) {
        const restarted = backend.restart();
        await portReopened(backend);
        joiners.push(
          startStep({
            inputs: { 'backstage-url': backend.url, 'approval-id': ids[i] },
            env: { GITHUB_JOB: `release-${i}`, ...stack.issuer.runnerEnv(RUN) },
          }),
        );
        await restarted;
        await sleep(1000);
      }
      const probed = await probe.stop();

      // Even steps are approved by Alice, odd ones rejected by Bob, each with its own comment.
      const decisions = approvals.map((_, i) =>
        i % 2 === 0
          ? {
              decision: 'approve' as const,
              openId: 'ou_alice',
              by: 'Alice Chen',
              status: 'approved',
              comment: `go ${i}`,
            }
          : {
              decision: 'reject' as const,
              openId: 'ou_bob',
              by: 'Bob Li',
              status: 'rejected',
              comment: `not now ${i}`,
            },
      );
      await Promise.all(
        approvals.map((approval, i) =>
          decideInSandbox(
            stack,
            approval.imInstanceId!,
            decisions[i].decision,
            { openId: decisions[i].openId, comment: decisions[i].comment },
          ),
        ),
      );
      const results = await Promise.all(steps.map(step => step.finished));
      const joined = await Promise.all(joiners.map(step => step.finished));

      const expectDecision = (name: string, result: StepResult, i: number) => {
        const { status, by, comment } = decisions[i];
        const outcome = `${status === 'approved' ? 'Approved' : 'Rejected'} by ${by} (${decisions[i].openId}): "${comment}"`;
        expect({
          name,
          exitCode: result.exitCode,
          outputs: result.outputs,
        }).toEqual({
          name,
          exitCode: status === 'approved' ? 0 : 1,
          outputs: expect.objectContaining({
            'approval-id': ids[i],
            status,
            'decided-by': by,
            'decided-by-id': decisions[i].openId,
            comment,
          }),
        });
        expect(result.stdout).toContain(outcome);
        // Only retry warnings, and for a rejection the step's failure: no error from the restarts.
        const unexpected = commands(result).filter(
          line =>
            !line.startsWith('::warning::') && line !== `::error::${outcome}`,
        );
        expect({ name, unexpected }).toEqual({ name, unexpected: [] });
      };
      results.forEach((result, i) => expectDecision(`step ${i}`, result, i));
      joined.forEach((result, i) =>
        expectDecision(`joined during restart ${i}`, result, i),
      );
      // The Actions did wait across the restarts, and retried.
      expect(
        results.every(result =>
          result.stdout.includes('Backstage could not be reached'),
        ),
      ).toBe(true);
      // The example backend holds the plugin's paths until the plugin is ready instead of answering 404.
      expect(probed.answers).toBeGreaterThan(RESTARTS);
      expect(probed.odd).toEqual([]);
    });
  },
);
