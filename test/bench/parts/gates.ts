// 7. Deployment gates: jobs held by the sandbox's GitHub, each approved in the sandbox's Feishu.
// Two latencies, from the sandbox's own clock: the job requested (the webhook sent) → the status
// report on GitHub (the approval stored, its IM instance made, the report posted), and the approver's
// decision → GitHub has the verdict (callback, inbox, transition, claim, installation token, review).
// One replica on SQLite, two on PostgreSQL (the webhook on the first, the verdict from either).
// The baseline is a round trip to the sandbox's control API with the same client, in the same loop.
import type { GithubRun } from '@im-approval/im-sandbox';
import { startBenchStack } from '../benchStack';
import type { Deployment } from '../production';
import { figure, note, section } from '../report';
import { describe, quantiles } from '../stats';

const WARMUP = 5;
const sleep = (msec: number) => new Promise(r => setTimeout(r, msec));

export interface GatesOptions {
  'gate-runs': number;
}

const GATE = {
  name: 'production',
  environments: ['production'],
  template: 'deploy',
  variables: { service: 'api', reason: 'benchmark' },
};

export async function gates(deployment: Deployment, options: GatesOptions) {
  const n = options['gate-runs'];
  section(
    'gates',
    `${n} jobs held by the sandbox's GitHub, each approved in the sandbox's Feishu`,
  );
  for (const setup of [
    { database: 'sqlite' as const, replicas: 1 },
    { database: 'postgres' as const, replicas: 2 },
  ]) {
    const stack = await startBenchStack(deployment, {
      database: setup.database,
      replicas: setup.replicas,
      gates: [GATE],
    });
    try {
      const requested: number[] = [];
      const decided: number[] = [];
      const roundTrips: number[] = [];
      const until = async (id: number, done: (run: GithubRun) => boolean) => {
        for (;;) {
          const t0 = performance.now();
          const run = await stack.control<GithubRun>(
            'GET',
            `/github/runs/${id}`,
          );
          roundTrips.push(performance.now() - t0);
          if (done(run)) return run;
          await sleep(2);
        }
      };
      for (let i = 0; i < n + WARMUP; i++) {
        const { id } = await stack.control<GithubRun>('POST', '/github/jobs', {
          repository: 'acme/api',
          environment: 'production',
        });
        const held = await until(id, r => r.jobs[0].statusReports.length > 0);
        const instance = /instances\/([A-Za-z0-9-]+)/.exec(
          held.jobs[0].statusReports[0].comment,
        )?.[1];
        if (!instance)
          throw new Error(`run ${id}: no IM instance in the status report`);
        const decidedAt = Date.now();
        await stack.control('POST', `/feishu/instances/${instance}/approve`, {
          openId: 'ou_alice',
        });
        const done = await until(id, r => r.jobs[0].review !== null);
        if (i < WARMUP) continue;
        requested.push(
          Date.parse(held.jobs[0].statusReports[0].at) -
            Date.parse(held.createdAt),
        );
        decided.push(Date.parse(done.jobs[0].review!.at) - decidedAt);
      }
      const label = `${setup.database}, ${setup.replicas} replica(s)`;
      const baseline = `control API round trip ${describe(quantiles(roundTrips))}`;
      figure(
        `${label}: job held → status report (IM instance made)`,
        describe(quantiles(requested)),
        {
          baseline,
        },
      );
      figure(
        `${label}: IM decision → verdict on GitHub`,
        describe(quantiles(decided)),
        {
          baseline,
        },
      );
      const refused = await stack.imRefusals();
      if (refused > 0)
        note(`the IM sandbox refused ${refused} calls for their frequency`);
    } finally {
      await stack.stop();
    }
  }
}
