// Decision-to-waiter latency: the time from the approver's decision in the sandbox to the
// long-poll answering, on one replica (SQLite) and across two replicas (PostgreSQL).
// Usage: yarn workspace @im-approval/e2e-tests bench:latency [runs]
import { decideInSandbox, openApproval, waitFor } from '../src/support/flow';
import { startStack, type DatabaseKind } from '../src/support/stack';
import { summarize } from './stats';

const runs = Number(process.argv[2] ?? 50);

async function measure(database: DatabaseKind, replicas: number) {
  const stack = await startStack({ database, replicas });
  const [decider, waiter] = [stack.backends[0], stack.backends[replicas - 1]];
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { approval, token } = await openApproval(stack, decider);
      const waiting = waitFor(waiter, approval.id, token, '60s').then(() => performance.now());
      await new Promise(r => setTimeout(r, 20));
      const decidedAt = performance.now();
      await decideInSandbox(stack, approval.imInstanceId!, 'approve', { openId: 'ou_alice' });
      samples.push((await waiting) - decidedAt);
    }
  } finally {
    await stack.stop();
  }
  const label = `${database}, ${replicas} replica${replicas > 1 ? 's' : ''}`.padEnd(24);
  console.log(`${label} ${summarize(samples)}`);
}

async function main() {
  await measure('sqlite', 1);
  await measure('postgres', 2);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
