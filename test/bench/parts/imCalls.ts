// 4. IM API calls, counted by the sandbox (GET /_sandbox/<im>/stats): per approval lifecycle
// (opened through the API, decided by the approver in the IM, the IM's own callback delivered,
// the waiter answered) with the reconciler out of the way; token fetches per app; and the
// reconciler's reads per pass with many approvals pending, beside each IM's rate limit
// (/work/shared/im-protocols.md: Feishu instance read 1,000/min and 50/s, WeCom OA APIs 600/min).
import {
  dingtalkCallback,
  feishuCallback,
  wecomCallback,
  wecomPoll,
  type Im,
  type ImSetup,
} from '../../src/__testUtils__/ims';
import { createApproval, oidcToken, waitLikeAction } from '../api';
import { startBenchStack, type BenchStack } from '../benchStack';
import { agent, pool } from '../client';
import type { Deployment } from '../production';
import { figure, note, section } from '../report';

export interface ImCallsOptions {
  lifecycles: number;
  pending: number;
}

interface Stats {
  tokenRequests: Record<string, number>;
  instanceCreates: number;
  instanceReads: number;
  calls: Record<string, number>;
  rateLimited?: number;
}

const APPROVER: Record<Im, object> = {
  feishu: { openId: 'ou_alice' },
  dingtalk: { userId: 'alice' },
  wecom: { userId: 'alice' },
};
/** Token routes per IM: DingTalk's new and legacy APIs each have their own token. */
const TOKEN_ROUTES: Record<Im, string[]> = {
  feishu: ['token'],
  dingtalk: ['token', 'oapi.token'],
  wecom: ['gettoken'],
};
const RECONCILE_SECONDS = 5;
/** Each IM's documented limit on instance reads (im-protocols.md), and its words. */
const LIMITS: Record<
  Im,
  { perMinute: number; perSecond?: number; text: string }
> = {
  feishu: {
    perMinute: 1000,
    perSecond: 50,
    text: 'instance read 1,000/min and 50/s per app',
  },
  wecom: { perMinute: 600, text: 'all OA APIs together 600/min' },
  dingtalk: { perMinute: Infinity, text: 'none documented in im-protocols.md' },
};

const sleep = (msec: number) => new Promise(r => setTimeout(r, msec));
const stats = (stack: BenchStack, im: Im) =>
  stack.control<Stats>('GET', `/${im}/stats`);

function delta(after: Stats, before: Stats): Stats {
  const calls: Record<string, number> = {};
  for (const [route, count] of Object.entries(after.calls))
    calls[route] = count - (before.calls[route] ?? 0);
  return {
    tokenRequests: after.tokenRequests,
    instanceCreates: after.instanceCreates - before.instanceCreates,
    instanceReads: after.instanceReads - before.instanceReads,
    calls,
    rateLimited: (after.rateLimited ?? 0) - (before.rateLimited ?? 0),
  };
}

async function lifecycles(deployment: Deployment, k: number) {
  const setups = [feishuCallback, dingtalkCallback, wecomCallback];
  const stack = await startBenchStack(deployment, {
    database: 'sqlite',
    ims: setups,
    imLimits: 'real',
  });
  try {
    const backend = stack.backends[0];
    const startup = Object.fromEntries(
      await Promise.all(
        setups.map(async s => [s.im, await stats(stack, s.im)] as const),
      ),
    );
    note(
      `${k} approvals per IM, one after another: opened through the API, approved in the IM, its callback delivered by the sandbox,`,
    );
    note(
      `the Action-like waiter answered; the reconciler does not run (its period is an hour); the IMs' real rate limits`,
    );
    const connections = agent(8);
    for (const setup of setups) {
      const before = await stats(stack, setup.im);
      for (let i = 0; i < k; i++) {
        const token = await oidcToken(stack.issuer, 20_000 + i);
        const { approval } = await createApproval(
          connections,
          backend,
          token,
          setup.template,
        );
        const waiting = waitLikeAction(
          connections,
          backend,
          approval.id,
          token,
        );
        await stack.control(
          'POST',
          `/${setup.im}/instances/${encodeURIComponent(approval.imInstanceId!)}/approve`,
          APPROVER[setup.im],
        );
        const { approval: decided } = await waiting;
        if (decided.status !== 'approved')
          throw new Error(`${setup.im} approval ended ${decided.status}`);
      }
      const used = delta(await stats(stack, setup.im), before);
      const perApproval = Object.entries(used.calls)
        .filter(([, count]) => count > 0)
        .map(([route, count]) => `${route} ${(count / k).toFixed(2)}`)
        .join(', ');
      note(
        `${setup.im} (${setup.integrationId}): calls per approval: ${perApproval}`,
      );
      figure(
        `${setup.im}: instance reads per approval`,
        (used.instanceReads / k).toFixed(2),
        {
          measured: used.instanceReads / k,
          budget: {
            op: '<=',
            limit: 1.2,
            text: '≤ 1.2 outside the reconciler',
          },
        },
      );
      const tokens = TOKEN_ROUTES[setup.im].map(
        route =>
          `${route} ${used.calls[route] ?? 0} (${startup[setup.im].calls[route] ?? 0} at start-up)`,
      );
      const fetched = Math.max(
        ...TOKEN_ROUTES[setup.im].map(
          route =>
            (used.calls[route] ?? 0) + (startup[setup.im].calls[route] ?? 0),
        ),
      );
      figure(
        `${setup.im}: token fetches per app and token kind`,
        tokens.join(', '),
        {
          measured: fetched,
          budget: {
            op: '<=',
            limit: 1,
            text: 'one per app per token lifetime (2 h)',
          },
        },
      );
    }
    connections.destroy();
  } finally {
    await stack.stop();
  }
}

/** Feishu allows an app 100 instance creations a minute, and the backend keeps to it. */
const FEISHU_CREATIONS_PER_MINUTE = 100;

async function reconciler(deployment: Deployment, asked: number) {
  const pendingPerIm = Math.min(asked, FEISHU_CREATIONS_PER_MINUTE);
  if (pendingPerIm < asked)
    note(
      `--pending ${asked} cut to ${pendingPerIm}: Feishu allows an app ${FEISHU_CREATIONS_PER_MINUTE} instance creations a minute`,
    );
  const setups: ImSetup[] = [feishuCallback, dingtalkCallback, wecomPoll];
  // The IMs' real limits, in the sandbox and in the backend's budgets: what is measured is how
  // the reconciler keeps within them beside the creations.
  const stack = await startBenchStack(deployment, {
    database: 'sqlite',
    ims: setups,
    reconcileSeconds: RECONCILE_SECONDS,
    imLimits: 'real',
  });
  try {
    const backend = stack.backends[0];
    const connections = agent(16);
    const token = await oidcToken(stack.issuer, 30_000);
    for (const setup of setups) {
      await pool(pendingPerIm, 16, () =>
        createApproval(connections, backend, token, setup.template),
      );
    }
    connections.destroy();
    note(
      `${pendingPerIm} pending approvals in each of ${setups.map(s => `${s.im} (${s.integrationId})`).join(', ')};`,
    );
    note(
      `reconciler every ${RECONCILE_SECONDS} s, batch 200 by default; reads sampled every 200 ms`,
    );
    // Reads per IM sampled over several passes: their rate per minute and per pass, and the most in any second.
    const observeSeconds = RECONCILE_SECONDS * 4;
    const samples: Array<{
      at: number;
      reads: Record<Im, number>;
      refused: Record<Im, number>;
    }> = [];
    const until = performance.now() + observeSeconds * 1000;
    while (performance.now() < until) {
      const current = await Promise.all(setups.map(s => stats(stack, s.im)));
      samples.push({
        at: performance.now(),
        reads: Object.fromEntries(
          setups.map((s, i) => [s.im, current[i].instanceReads]),
        ) as Record<Im, number>,
        refused: Object.fromEntries(
          setups.map((s, i) => [s.im, current[i].rateLimited ?? 0]),
        ) as Record<Im, number>,
      });
      await sleep(200);
    }
    const [first, last] = [samples[0], samples.at(-1)!];
    const seconds = (last.at - first.at) / 1000;
    for (const setup of setups) {
      const reads = last.reads[setup.im] - first.reads[setup.im];
      const perMinute = (reads * 60) / seconds;
      const perPass = (reads * RECONCILE_SECONDS) / seconds;
      // The most reads within any sampled window of at most one second (a lower bound on the true peak).
      let peak = 0;
      for (let i = 0; i < samples.length; i++) {
        for (
          let j = i + 1;
          j < samples.length && samples[j].at - samples[i].at <= 1000;
          j++
        ) {
          peak = Math.max(
            peak,
            samples[j].reads[setup.im] - samples[i].reads[setup.im],
          );
        }
      }
      const refused = last.refused[setup.im] - first.refused[setup.im];
      const limit = LIMITS[setup.im];
      const over =
        Number.isFinite(limit.perMinute) &&
        (perMinute > limit.perMinute ||
          (limit.perSecond !== undefined && peak > limit.perSecond));
      figure(
        `${setup.im}: reconciler instance reads`,
        `${perPass.toFixed(0)} per ${RECONCILE_SECONDS} s pass, ${perMinute.toFixed(0)}/min, peak ${peak} in 1 s, ${refused} refused; limit: ${limit.text}`,
        Number.isFinite(limit.perMinute)
          ? {
              measured: over || refused > 0 ? 1 : 0,
              budget: {
                op: '<=',
                limit: 0,
                text: `within ${limit.perMinute}/min${limit.perSecond ? ` and ${limit.perSecond}/s` : ''}, none refused`,
              },
            }
          : {},
      );
    }
    note(
      `observed ${seconds.toFixed(0)} s (about ${(seconds / RECONCILE_SECONDS).toFixed(1)} passes)`,
    );
  } finally {
    await stack.stop();
  }
}

export async function imCalls(deployment: Deployment, options: ImCallsOptions) {
  section(
    'im-calls',
    'IM API calls per approval, token fetches, reconciler reads vs rate limits',
  );
  await lifecycles(deployment, options.lifecycles);
  await reconciler(deployment, options.pending);
}
