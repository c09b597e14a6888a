// 1. Decision latency: the benchmark posts a signed, encrypted Feishu callback for an instance
// that is decided in the sandbox (whose own delivery is switched off), and times it until the
// approval's long-poll answers. Beside it, in the same loop, the same two requests against a bare
// node:http server that answers the parked GET when the POST arrives: the bare round trip.
import { FEISHU_APP, INTEGRATION } from '../../src/__testUtils__/stack';
import { createApproval, oidcToken, waitOnce } from '../api';
import { startBare, type BareServer } from '../bare';
import { startBenchStack } from '../benchStack';
import { agent, json, request } from '../client';
import { feishuApprovalCallback } from '../feishuEvent';
import type { Deployment } from '../production';
import { figure, note, ratio, section } from '../report';
import { describe, quantiles } from '../stats';

const WARMUP = 10;
const sleep = (msec: number) => new Promise(r => setTimeout(r, msec));

export interface LatencyOptions {
  runs: number;
}

async function bareSample(
  bare: BareServer,
  pools: { wait: ReturnType<typeof agent>; post: ReturnType<typeof agent> },
  token: string,
) {
  const waiting = request(
    pools.wait,
    `${bare.url}/api/im-approval/approvals/x/wait?timeout=30s`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  await sleep(20);
  const callback = feishuApprovalCallback('bare-instance');
  const started = performance.now();
  const posted = request(
    pools.post,
    `${bare.url}/api/im-approval/callbacks/feishu/${INTEGRATION}`,
    {
      method: 'POST',
      headers: callback.headers,
      body: callback.body,
    },
  );
  const answered = await waiting;
  await posted;
  return answered.at - started;
}

export async function latency(deployment: Deployment, options: LatencyOptions) {
  section(
    'latency',
    'signed Feishu callback posted → waiting long-poll answered',
  );
  note(
    `${options.runs} runs each after ${WARMUP} warm-up runs; each run: create, park a waiter, decide in the sandbox with its delivery off,`,
  );
  note(
    'post the callback the sandbox would have sent, time until the waiter has the decision. Bare runs interleaved.',
  );
  const bare = await startBare('roundTripServer');
  const barePools = { wait: agent(4), post: agent(4) };
  const plain: number[] = [];
  try {
    for (const setup of [
      {
        database: 'sqlite' as const,
        replicas: 1,
        budget: { kind: 'ratio' as const, limit: 8 },
      },
      {
        database: 'postgres' as const,
        replicas: 2,
        budget: { kind: 'absolute' as const, limit: 100 },
      },
    ]) {
      const stack = await startBenchStack(deployment, {
        database: setup.database,
        replicas: setup.replicas,
      });
      try {
        await stack.control('PATCH', `/feishu/apps/${FEISHU_APP.appId}`, {
          callbacks: 'off',
        });
        const [decider, waiter] = [
          stack.backends[0],
          stack.backends[setup.replicas - 1],
        ];
        const pools = { create: agent(4), wait: agent(4), post: agent(4) };
        const token = await oidcToken(stack.issuer, 1);
        const decision: number[] = [];
        const acked: number[] = [];
        const bareRuns: number[] = [];
        for (let i = 0; i < WARMUP + options.runs; i++) {
          const bareMs = await bareSample(bare, barePools, token);
          const t0 = performance.now();
          await request(
            barePools.post,
            `${bare.url}/.backstage/health/v1/readiness`,
          );
          const plainMs = performance.now() - t0;

          const { approval } = await createApproval(
            pools.create,
            decider,
            token,
          );
          const waiting = waitOnce(pools.wait, waiter, approval.id, token);
          await sleep(20);
          await stack.control(
            'POST',
            `/feishu/instances/${encodeURIComponent(approval.imInstanceId!)}/approve`,
            { openId: 'ou_alice' },
          );
          const callback = feishuApprovalCallback(approval.imInstanceId!);
          const started = performance.now();
          const posted = request(
            pools.post,
            `${decider.api}/callbacks/feishu/${INTEGRATION}`,
            {
              method: 'POST',
              headers: callback.headers,
              body: callback.body,
            },
          );
          const answered = await waiting;
          const ack = await posted;
          if (ack.status !== 200)
            throw new Error(`the callback answered ${ack.status}: ${ack.text}`);
          const status = json(answered)?.status;
          if (status !== 'approved')
            throw new Error(
              `the waiter answered ${answered.status} with status ${status}`,
            );
          if (i < WARMUP) continue;
          decision.push(answered.at - started);
          acked.push(ack.at - started);
          bareRuns.push(bareMs);
          plain.push(plainMs);
        }
        const d = quantiles(decision);
        const b = quantiles(bareRuns);
        const label = `${setup.database}, ${setup.replicas === 1 ? '1 replica' : `${setup.replicas} replicas`}`;
        if (setup.replicas > 1)
          note('callback posted to one replica, the waiter on the other');
        figure(`${label}: callback → waiter answered`, describe(d), {
          measured: setup.budget.kind === 'ratio' ? d.p99 / b.p99 : d.p99,
          budget:
            setup.budget.kind === 'ratio'
              ? {
                  op: '<=',
                  limit: setup.budget.limit,
                  text: `p99 ≤ ${setup.budget.limit}× bare round trip p99`,
                }
              : {
                  op: '<=',
                  limit: setup.budget.limit,
                  text: `p99 ≤ ${setup.budget.limit} ms`,
                },
          baseline: `bare POST → parked GET answered ${describe(b)}`,
        });
        figure(
          `${label}: ratio to bare (p50, p99)`,
          `${ratio(d.p50 / b.p50)}, ${ratio(d.p99 / b.p99)}`,
        );
        figure(
          `${label}: callback answered (IM acknowledged)`,
          describe(quantiles(acked)),
        );
        Object.values(pools).forEach(p => p.destroy());
      } finally {
        await stack.stop();
      }
    }
    figure('bare GET round trip, same client', describe(quantiles(plain)));
  } finally {
    await bare.stop();
    barePools.wait.destroy();
    barePools.post.destroy();
  }
}
