// Runs the Action's committed bundle, as a runner would, against the stack `bash scripts/start`
// brings up (backend :7007, IM sandbox :7010), and prints where to approve.
// Usage: yarn demo
import { approvalIdOf, startStep } from '../src/__testUtils__/actionRunner';

const BACKEND = process.env.DEMO_BACKEND_URL ?? 'http://localhost:7007';
const INBOX = process.env.DEMO_INBOX_URL ?? 'http://localhost:7010/';

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
  const step = startStep({
    inputs: {
      'backstage-url': BACKEND,
      template: 'production-deploy',
      variables: 'service=checkout\nreason=release 2.3 (yarn demo)',
      // The local stack trusts its static token; a real workflow uses the default, auth: oidc.
      auth: 'token',
      token: 'im-approval-local-dev-token',
    },
    env: { GITHUB_RUN_ID: String(Date.now()) },
  });
  step.process.stdout!.pipe(process.stdout);
  step.process.stderr!.pipe(process.stderr);
  const id = await approvalIdOf(step);
  console.log(
    `\n>>> Approve or reject "${id}" in the sandbox inbox: ${INBOX}\n`,
  );
  const result = await step.finished;
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
