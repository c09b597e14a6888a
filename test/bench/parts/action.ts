// 6. The Action: its committed bundle's size, its start-up (spawn to exit, failing on its first
// input check) beside bare `node -e 0`, interleaved; and the time from the approver's click in
// the sandbox to the Action's process exiting, against the production build.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  actionDir,
  approvalIdOf,
  startStep,
} from '../../src/__testUtils__/actionRunner';
import { RUN } from '../../src/__testUtils__/stack';
import { startBenchStack } from '../benchStack';
import type { Deployment } from '../production';
import { figure, note, section } from '../report';
import { describe, quantiles } from '../stats';

export interface ActionOptions {
  'action-runs': number;
  'click-runs': number;
}

const sleep = (msec: number) => new Promise(r => setTimeout(r, msec));

function time(args: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  return performance.now() - started;
}

export async function action(deployment: Deployment, options: ActionOptions) {
  section(
    'action',
    'the GitHub Action as a runner runs it (actions/im-approval/dist)',
  );
  const dist = join(actionDir, 'dist');
  const files = readdirSync(dist).map(name => ({
    name,
    size: statSync(join(dist, name)).size,
  }));
  const js = files
    .filter(f => /\.(c|m)?js$/.test(f.name))
    .reduce((sum, f) => sum + f.size, 0);
  figure(
    'bundle: JavaScript in dist/',
    `${(js / 1024).toFixed(0)} KiB  (${files.map(f => `${f.name} ${(f.size / 1024).toFixed(0)} KiB`).join(', ')})`,
    {
      measured: js / 1e6,
      budget: { op: '<=', limit: 1.5, text: '≤ 1.5 MB' },
    },
  );

  const runs = options['action-runs'];
  const bare: number[] = [];
  const bundle: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const b = time(['-e', '0'], { PATH: process.env.PATH });
    const a = time([join(dist, 'index.js')], {
      PATH: process.env.PATH,
      'INPUT_BACKSTAGE-URL': '',
    });
    if (i < 3) continue;
    bare.push(b);
    bundle.push(a);
  }
  const q = quantiles(bundle);
  figure('start-up, spawn to exit', describe(q), {
    measured: q.p99,
    budget: { op: '<=', limit: 150, text: 'p99 ≤ 150 ms' },
    baseline: `node -e 0: ${describe(quantiles(bare))}`,
  });

  const clicks = options['click-runs'];
  const stack = await startBenchStack(deployment, { database: 'sqlite' });
  try {
    const backend = stack.backends[0];
    const samples: number[] = [];
    for (let i = 0; i < clicks; i++) {
      const attempt = String(i + 1);
      const step = startStep({
        inputs: {
          'backstage-url': backend.url,
          template: 'deploy',
          variables: 'service=api\nreason=benchmark',
        },
        env: {
          GITHUB_RUN_ATTEMPT: attempt,
          ...stack.issuer.runnerEnv({ ...RUN, run_attempt: attempt }),
        },
      });
      const id = await approvalIdOf(step);
      const response = await fetch(`${backend.api}/approvals/${id}`, {
        headers: { authorization: 'Bearer im-approval-local-dev-token' },
      });
      const { imInstanceId } = (await response.json()) as {
        imInstanceId: string;
      };
      // Let the step settle into its long poll, as it would while a person reads the request.
      await sleep(50);
      const clicked = performance.now();
      await stack.control(
        'POST',
        `/feishu/instances/${encodeURIComponent(imInstanceId)}/approve`,
        { openId: 'ou_alice' },
      );
      const result = await step.finished;
      if (result.exitCode !== 0)
        throw new Error(
          `the Action exited ${result.exitCode}:\n${result.stdout}`,
        );
      samples.push(performance.now() - clicked);
    }
    note(
      `approve click in the IM → the Action's process exits, ${clicks} runs (sandbox delivers the callback; production backend, SQLite)`,
    );
    figure('click → Action exits', describe(quantiles(samples)));
  } finally {
    await stack.stop();
  }
}
