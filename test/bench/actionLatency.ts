// The Action as a runner runs it: the time from the approver's click in the sandbox to the
// Action's process exiting, the bundle's size, and its start-up time beside bare Node's.
// Usage: yarn workspace @im-approval/e2e-tests bench:action [runs]
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { actionDir, approvalIdOf, startStep } from '../src/support/actionRunner';
import { decideInSandbox } from '../src/support/flow';
import { getWithTimeline, RUN, startStack, STATIC_TOKEN } from '../src/support/stack';
import { summarize } from './stats';

const runs = Number(process.argv[2] ?? 50);
const bundle = join(actionDir, 'dist/index.js');

async function clickToExit() {
  const stack = await startStack({ database: 'sqlite' });
  const backend = stack.backends[0];
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const attempt = String(i + 1);
      const step = startStep({
        inputs: { 'backstage-url': backend.url, template: 'deploy', variables: 'service=api\nreason=benchmark' },
        env: { GITHUB_RUN_ATTEMPT: attempt, ...stack.issuer.runnerEnv({ ...RUN, run_attempt: attempt }) },
      });
      const { body } = await getWithTimeline(backend, await approvalIdOf(step), STATIC_TOKEN);
      // Let the step settle into its long poll, as it would while a person reads the request.
      await new Promise(r => setTimeout(r, 50));
      const clicked = performance.now();
      await decideInSandbox(stack, body.imInstanceId!, 'approve', { openId: 'ou_alice' });
      const result = await step.finished;
      const exited = performance.now();
      if (result.exitCode !== 0) throw new Error(`run ${attempt} exited ${result.exitCode}:\n${result.stdout}`);
      samples.push(exited - clicked);
    }
  } finally {
    await stack.stop();
  }
  console.log(`approve click → Action exits  ${summarize(samples)}`);
}

/** Spawn to exit: the bundle failing on its first input check, against Node doing nothing. */
function startup() {
  const time = (args: string[], env: NodeJS.ProcessEnv) =>
    Array.from({ length: 30 }, () => {
      const started = performance.now();
      spawnSync(process.execPath, args, { env, stdio: 'ignore' });
      return performance.now() - started;
    });
  const bare = time(['-e', ''], {});
  const action = time([bundle], { PATH: process.env.PATH, 'INPUT_BACKSTAGE-URL': '' });
  console.log(`start-up, bare node           ${summarize(bare)}`);
  console.log(`start-up, the Action bundle   ${summarize(action)}`);
}

async function main() {
  console.log(`bundle: dist/index.js ${(statSync(bundle).size / 1024).toFixed(0)} KiB`);
  startup();
  await clickToExit();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
