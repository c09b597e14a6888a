// 3. Callbacks per CPU-second: signed, encrypted Feishu callbacks posted as fast as the backend
// takes them, its CPU (utime + stime from /proc/<pid>/stat) measured over the run. For pending
// instances (verified, decrypted, the instance read from the IM, found still pending, the event id
// recorded) and for instances no approval knows. The baseline is a bare node:http server
// running the product's own check (parseFeishuCallback from the production build) on the same bodies.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { feishuCallback } from '../../src/__testUtils__/ims';
import { FEISHU_APP, INTEGRATION } from '../../src/__testUtils__/stack';
import { createApproval, oidcToken } from '../api';
import { startBare } from '../bare';
import { startBenchStack } from '../benchStack';
import { agent, pool, request } from '../client';
import { feishuApprovalCallback } from '../feishuEvent';
import type { Deployment } from '../production';
import { figure, note, ratio, section } from '../report';
import { settled } from '../settle';

export interface CallbacksOptions {
  callbacks: number;
}

const CONCURRENCY = 16;
const PENDING = 200;

interface Rate {
  perCpuSecond: number;
  perSecond: number;
  refused: number;
}

async function drive(
  url: string,
  bodies: Array<ReturnType<typeof feishuApprovalCallback>>,
  cpu: () => number,
): Promise<Rate> {
  const connections = agent(CONCURRENCY);
  let refused = 0;
  try {
    const cpuBefore = cpu();
    const started = performance.now();
    await pool(bodies.length, CONCURRENCY, async i => {
      const answer = await request(connections, url, {
        method: 'POST',
        headers: bodies[i].headers,
        body: bodies[i].body,
      });
      if (answer.status !== 200) refused++;
    });
    const seconds = (performance.now() - started) / 1000;
    // Processing the recorded events may go on after the IM has its answer; it counts.
    await settled(cpu, { quietMs: 400 });
    const cpuSeconds = cpu() - cpuBefore;
    return {
      perCpuSecond: bodies.length / cpuSeconds,
      perSecond: bodies.length / seconds,
      refused,
    };
  } finally {
    connections.destroy();
  }
}

export async function callbacks(
  deployment: Deployment,
  options: CallbacksOptions,
) {
  const m = options.callbacks;
  section(
    'callbacks',
    `${m} verified, decrypted callbacks per CPU-second of the backend (${CONCURRENCY} in flight)`,
  );
  const unknownBodies = () =>
    Array.from({ length: m }, () =>
      feishuApprovalCallback(`unknown-${randomBytes(8).toString('hex')}`),
    );

  const bare = await startBare('verifyServer', {
    BARE_VERIFY: join(
      deployment.dir,
      'plugins/im-approval-backend/dist/providers/feishu/feishuCallback.cjs.js',
    ),
    BARE_CRYPTO: join(
      deployment.dir,
      'plugins/im-approval-node/dist/index.cjs.js',
    ),
    BARE_APP: JSON.stringify({
      ...feishuCallback.integration({ url: 'http://127.0.0.1' } as any),
      encryptKey: FEISHU_APP.encryptKey,
    }),
  });
  let bareRate: Rate;
  try {
    const url = `${bare.url}/api/im-approval/callbacks/feishu/${INTEGRATION}`;
    await drive(url, unknownBodies().slice(0, 200), () => bare.cpuSeconds());
    bareRate = await drive(url, unknownBodies(), () => bare.cpuSeconds());
  } finally {
    await bare.stop();
  }
  const bareLine = `bare node:http + ${String(bare.info.kind)}: ${bareRate.perCpuSecond.toFixed(0)}/CPU-s (${bareRate.perSecond.toFixed(0)}/s wall, ${bareRate.refused} refused)`;

  for (const database of ['sqlite', 'postgres'] as const) {
    const stack = await startBenchStack(deployment, { database });
    try {
      const backend = stack.backends[0];
      const cpu = () => backend.cpuSeconds();
      const creating = agent(8);
      const token = await oidcToken(stack.issuer, 1);
      const pending = await pool(
        PENDING,
        8,
        async () =>
          (await createApproval(creating, backend, token)).approval
            .imInstanceId!,
      );
      creating.destroy();
      const url = `${backend.api}/callbacks/feishu/${INTEGRATION}`;
      await drive(url, unknownBodies().slice(0, 200), cpu);
      const sandboxBefore = stack.sandbox.cpuSeconds();
      const onPending = await drive(
        url,
        Array.from({ length: m }, (_, i) =>
          feishuApprovalCallback(pending[i % PENDING], { status: 'PENDING' }),
        ),
        cpu,
      );
      const sandboxSeconds = stack.sandbox.cpuSeconds() - sandboxBefore;
      const onUnknown = await drive(url, unknownBodies(), cpu);
      const refused = await stack.imRefusals();
      if (refused > 0)
        note(
          `${database}: the IM sandbox refused ${refused} calls for their frequency`,
        );
      figure(
        `${database}: pending instance (verify, record, IM read)`,
        `${onPending.perCpuSecond.toFixed(0)}/CPU-s  (${onPending.perSecond.toFixed(0)}/s wall, ${onPending.refused} refused)`,
        {
          measured: onPending.perCpuSecond,
          budget: { op: '>=', limit: 1000, text: '≥ 1,000/CPU-s' },
          baseline: `${bareLine}; ratio ${ratio(onPending.perCpuSecond / bareRate.perCpuSecond)}`,
        },
      );
      note(
        `${database}: the sandbox answered the ${m} instance reads with ${sandboxSeconds.toFixed(1)} CPU-s of its own`,
      );
      figure(
        `${database}: unknown instance (verify, record, lookup)`,
        `${onUnknown.perCpuSecond.toFixed(0)}/CPU-s  (${onUnknown.perSecond.toFixed(0)}/s wall, ${onUnknown.refused} refused)`,
        {
          measured: onUnknown.perCpuSecond,
          budget: { op: '>=', limit: 1000, text: '≥ 1,000/CPU-s' },
          baseline: `ratio to bare ${ratio(onUnknown.perCpuSecond / bareRate.perCpuSecond)}`,
        },
      );
    } finally {
      await stack.stop();
    }
  }
}
