// Runs the Action's committed bundle, as a runner would, against the stack `bash scripts/start`
// brings up (backend :7007, IM sandbox :7010), and prints where to approve. Ctrl-C cancels the job
// as GitHub does: the step is interrupted, then the Action's post step cancels the pending approval
// (POST /approvals/{id}/cancel) and the backend revokes its IM instance.
// Usage: yarn demo (or bash scripts/demo); DEMO_TEMPLATE=release-in-stages for one in stages.
import { approvalIdOf, startStep } from '../src/__testUtils__/actionRunner';

const BACKEND = process.env.DEMO_BACKEND_URL ?? 'http://localhost:7007';
const INBOX = process.env.DEMO_INBOX_URL ?? 'http://localhost:7010/';
/** What a shell reports for a process ended by Ctrl-C: 128 + SIGINT's number. */
const INTERRUPTED_EXIT_CODE = 130;

async function main() {
  const ready = await fetch(`${BACKEND}/.backstage/health/v1/readiness`).then(
    r => r.ok,
    () => false,
  );
  if (!ready) {
    console.error(
      `No backend at ${BACKEND}. Start the stack first: bash scripts/start`,
    );
    process.exit(1);
  }
  const inputs = {
    'backstage-url': BACKEND,
    template: process.env.DEMO_TEMPLATE ?? 'production-deploy',
    variables: 'service=checkout\nreason=release 2.3 (yarn demo)',
    // The local stack trusts its static token; a real workflow uses the default, auth: oidc.
    auth: 'token',
    token: 'im-approval-local-dev-token',
  };
  const env = { GITHUB_RUN_ID: String(Date.now()) };
  const step = startStep({ inputs, env });
  step.process.stdout!.pipe(process.stdout);
  step.process.stderr!.pipe(process.stderr);

  // A Ctrl-C in a terminal reaches the step as well (one process group); a SIGINT sent to this
  // process alone is passed on. Either way the step dies of SIGINT, as a runner's step does.
  process.once('SIGINT', () => step.process.kill('SIGINT'));
  const cancelled = () => step.process.signalCode === 'SIGINT';

  const id = await approvalIdOf(step).catch(error => {
    if (cancelled()) return undefined;
    throw error;
  });
  if (id)
    console.log(
      `\n>>> Approve or reject "${id}" in the sandbox inbox: ${INBOX}\n`,
    );
  const result = await step.finished;
  if (cancelled()) {
    console.log(
      '\n>>> Interrupted: the job is cancelled, and its post step cancels the approval (Ctrl-C again leaves it pending).\n',
    );
    // The runner's post step for a cancelled job (action.yml: post-if: cancelled() || failure()).
    const post = startStep({ inputs, env, post: { state: result.state } });
    post.process.stdout!.pipe(process.stdout);
    post.process.stderr!.pipe(process.stderr);
    const { exitCode } = await post.finished;
    if (exitCode !== 0)
      console.error(`\nThe post step exited with ${exitCode}.`);
    process.exit(INTERRUPTED_EXIT_CODE);
  }
  console.log(`\nThe step exited with ${result.exitCode}. Its outputs:`);
  for (const [name, value] of Object.entries(result.outputs))
    console.log(`  ${name}: ${value}`);
  console.log(`\nIts job summary (Markdown/HTML):\n${result.summary}`);
  process.exit(result.exitCode ?? 1);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
