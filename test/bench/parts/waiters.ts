// 2. Waiters: N Actions long-polling at once (each with its own OIDC token, re-polling every
// ACTION_POLL_SECONDS as the Action does), then N decisions in a burst of signed callbacks. The backend's memory, CPU
// and file descriptors come from /proc; its live heap from the preloaded probe (a full GC, then
// process.memoryUsage()). The same N parked requests and N posts against a bare node:http server
// are the baseline. SQLite on one replica; PostgreSQL on two, each waiter on one replica and its
// callback on the other, so every decision crosses replicas.
import { FEISHU_APP, INTEGRATION } from '../../src/__testUtils__/stack';
import {
  ACTION_POLL_SECONDS,
  createApproval,
  oidcToken,
  waitLikeAction,
} from '../api';
import { startBare } from '../bare';
import {
  databaseConfig,
  dropDatabase,
  startBenchStack,
  startSandboxProcess,
  backendLayers,
} from '../benchStack';
import { agent, pool, request } from '../client';
import { commandCpuSeconds } from '../proc';
import { feishuApprovalCallback } from '../feishuEvent';
import {
  startProductionBackend,
  type Deployment,
  type ProductionBackend,
} from '../production';
import { figure, note, section } from '../report';
import { settled, sleep } from '../settle';
import { describe, quantiles } from '../stats';
import { feishuCallback } from '../../src/__testUtils__/ims';
import { startGithubOidcIssuer } from '@im-approval/im-sandbox';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';

export interface WaitersOptions {
  n: number;
  burst: number;
  /** Per configuration: opening the approvals may take half of it (the rest is for the burst). */
  'waiters-seconds': number;
}

/**
 * Parked waiters cost something at each heartbeat and each recheck, both every 30 s: a window of
 * exactly that holds one of each, whatever their phase. Idle is measured over as long.
 */
const CPU_WINDOW_MS = 30_000;
/**
 * Quiet enough to measure a steady state: after a burst (opening N approvals, parking N polls) V8
 * runs a few more GCs over the next half minute or so, seconds apart, as its allocation rate falls.
 * Ten quiet seconds, each under 5 % of a core, outlast the gaps between them, and are shorter than
 * the 30 s between beats.
 */
const QUIET = { share: 0.05, quietMs: 10_000, maxMs: 90_000, sampleMs: 1000 };

type Waited = Awaited<ReturnType<typeof waitLikeAction>> | undefined;

const mb = (value: number) => `${value.toFixed(0)} MB`;
/** New connections opened at once while parking, so the listen backlog (511) never overflows. */
const OPENING = 200;

async function cpuOver(cpu: () => number, windowMs: number): Promise<number> {
  const before = cpu();
  await sleep(windowMs);
  return cpu() - before;
}

/** How long after a full GC V8 takes to return the freed pages to the system. */
const RELEASE_MS = 3000;

interface Footprint {
  rssMb: number;
  heapMb?: number;
}

async function footprint(backends: ProductionBackend[]): Promise<Footprint> {
  // RSS after the probe's full GC, and after V8 has handed the freed pages back (it does so a
  // little after the GC): what is kept, not garbage a burst left.
  const heaps = await Promise.all(backends.map(b => b.heap()));
  await sleep(RELEASE_MS);
  const rssMb = backends.reduce((sum, b) => sum + b.rssMb(), 0);
  const heapMb = heaps.every(h => h)
    ? heaps.reduce((sum, h) => sum + h!.heapUsedMb, 0)
    : undefined;
  return { rssMb, heapMb };
}

const fp = (f: Footprint) =>
  `RSS ${mb(f.rssMb)}${f.heapMb === undefined ? '' : `, heap ${mb(f.heapMb)}`}`;

/** Parks one long-poll per entry, opening at most OPENING connections at a time; resolves when all requests are written. */
async function park<T>(
  count: number,
  start: (i: number, written: () => void) => Promise<T>,
): Promise<Promise<T>[]> {
  const results: Promise<T>[] = [];
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const nextWritten = () => new Promise<void>(r => (wake = r));
  /** Frees the request's opening slot, once, when it is written or settles. */
  const writtenOnce = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      inFlight--;
      wake?.();
    };
  };
  for (let i = 0; i < count; i++) {
    while (inFlight >= OPENING) await nextWritten();
    inFlight++;
    const written = writtenOnce();
    const result = start(i, written);
    result.catch(() => undefined).finally(written);
    results.push(result);
  }
  while (inFlight > 0) await nextWritten();
  return results;
}

async function idleFootprints(deployment: Deployment) {
  // A fresh backend as an operator starts it, with and without the plugin, on SQLite; nothing running against it.
  const sandbox = await startSandboxProcess([feishuCallback]);
  const issuer = await startGithubOidcIssuer();
  const results: Record<
    'with' | 'without',
    (Footprint & { startupMs: number }) | undefined
  > = { with: undefined, without: undefined };
  try {
    for (const variant of ['without', 'with'] as const) {
      if (variant === 'without' && !deployment.entryWithoutPlugin) continue;
      const database = databaseConfig('sqlite', randomUUID().slice(0, 8));
      const backend = await startProductionBackend(
        deployment,
        `idle-${variant}-plugin`,
        port =>
          backendLayers(
            port,
            sandbox.url,
            issuer.issuer,
            database,
            [feishuCallback],
            3600,
          ),
        { withoutPlugin: variant === 'without' },
      );
      try {
        await sleep(3000);
        results[variant] = {
          ...(await footprint([backend])),
          startupMs: backend.startupMs,
        };
      } finally {
        await backend.stop();
        await dropDatabase('sqlite', database);
      }
    }
  } finally {
    await sandbox.close();
    await issuer.close();
  }
  return results;
}

async function bareBurst(n: number, burst: number) {
  const bare = await startBare('roundTripServer');
  const waitPool = agent(Infinity);
  const postPool = agent(burst);
  try {
    const idle = bare.rssMb();
    const answers = await park(n, (i, written) => {
      return request(
        waitPool,
        `${bare.url}/api/im-approval/approvals/w${i}/wait?timeout=30s`,
        {
          headers: { authorization: 'Bearer x' },
          onWritten: written,
        },
      );
    });
    await settled(() => bare.cpuSeconds());
    const parked = bare.rssMb();
    const callback = feishuApprovalCallback('bare-instance');
    const first = performance.now();
    let lastAck = 0;
    await pool(n, burst, async i => {
      const ack = await request(
        postPool,
        `${bare.url}/api/im-approval/callbacks/feishu/${INTEGRATION}?id=w${i}`,
        {
          method: 'POST',
          headers: callback.headers,
          body: callback.body,
        },
      );
      lastAck = Math.max(lastAck, ack.at);
    });
    const done = await Promise.all(answers);
    const last = Math.max(...done.map(a => a.at));
    return {
      perSecond: n / ((last - first) / 1000),
      lastAfterMs: last - lastAck,
      idle,
      parked,
    };
  } finally {
    waitPool.destroy();
    postPool.destroy();
    await bare.stop();
  }
}

export async function waiters(deployment: Deployment, options: WaitersOptions) {
  const { n, burst } = options;
  section(
    'waiters',
    `${n} parked long-polls, then ${n} decisions in a burst (${burst} callbacks in flight)`,
  );

  const idle = await idleFootprints(deployment);
  figure(
    'idle RSS, production build with the plugin',
    idle.with
      ? `${fp(idle.with)}  (ready in ${(idle.with.startupMs / 1000).toFixed(1)} s)`
      : 'not measured',
    {
      measured: idle.with?.rssMb,
      budget: { op: '<=', limit: 400, text: '≤ 400 MB' },
      baseline: idle.without
        ? `the same backend without the plugin: ${fp(idle.without)} (plugin adds ${mb(idle.with!.rssMb - idle.without.rssMb)} RSS)`
        : 'without the plugin: not measured (the built entry has no line adding it)',
    },
  );

  const bare = await bareBurst(n, burst);
  const bareLine = `bare node:http: ${bare.perSecond.toFixed(0)}/s, last waiter ${bare.lastAfterMs.toFixed(0)} ms after last post, RSS idle ${mb(bare.idle)} → parked ${mb(bare.parked)}`;

  for (const setup of [
    { database: 'sqlite' as const, replicas: 1, perSecond: 500 },
    { database: 'postgres' as const, replicas: 2, perSecond: 1000 },
  ]) {
    await configuration(deployment, options, setup, bareLine);
  }
}

async function configuration(
  deployment: Deployment,
  { n: asked, burst, 'waiters-seconds': boxSeconds }: WaitersOptions,
  setup: {
    database: 'sqlite' | 'postgres';
    replicas: number;
    perSecond: number;
  },
  bareLine: string,
) {
  const stack = await startBenchStack(deployment, {
    database: setup.database,
    replicas: setup.replicas,
  });
  const { backends } = stack;
  const cpu = () => backends.reduce((sum, b) => sum + b.cpuSeconds(), 0);
  const createPool = agent(32);
  const waitPool = agent(Infinity);
  const postPool = agent(burst);
  const label = `${setup.database}, ${setup.replicas} replica${setup.replicas > 1 ? 's' : ''}`;
  try {
    if (setup.replicas > 1)
      note(
        `${label}: each waiter on one replica, its callback posted to the other`,
      );
    await stack.control('PATCH', `/feishu/apps/${FEISHU_APP.appId}`, {
      callbacks: 'off',
    });

    // Opening the approvals gets half the time box; the burst is expected to take about as long.
    const createdAt = performance.now();
    const createUntil = createdAt + (boxSeconds * 1000) / 2;
    const opened = await pool(asked, 32, async i => {
      if (performance.now() > createUntil) return undefined;
      const token = await oidcToken(stack.issuer, 10_000 + i);
      return {
        approval: (
          await createApproval(createPool, backends[i % backends.length], token)
        ).approval,
        token,
      };
    });
    const jobs = opened.filter(job => job !== undefined);
    const n = jobs.length;
    const createSeconds = (performance.now() - createdAt) / 1000;
    note(
      `${label}: ${n} approvals opened in ${createSeconds.toFixed(1)} s (${(n / createSeconds).toFixed(0)}/s, 32 in flight, OIDC)`,
    );
    if (n < asked) {
      note(
        `${label}: N = ${n}, not ${asked}: opening ${asked} at this rate would not fit the ${boxSeconds} s allowed (--waiters-seconds)`,
      );
    }
    createPool.destroy();

    await settled(cpu);
    const before = await footprint(backends);
    const fdsBefore = backends.map(b => b.fds().open);
    await settled(cpu, QUIET);
    const idleCpu = await cpuOver(cpu, CPU_WINDOW_MS);

    const waiterOf = (i: number) => backends[i % backends.length];
    const deciderOf = (i: number) => backends[(i + 1) % backends.length];
    const waitErrors: string[] = [];
    const parkStarted = performance.now();
    const cpuAtPark = cpu();
    const answers = await park(n, (i, written) =>
      waitLikeAction(
        waitPool,
        waiterOf(i),
        jobs[i].approval.id,
        jobs[i].token,
        written,
      ).catch(error => {
        waitErrors.push((error as Error).message);
        return undefined;
      }),
    );
    await settled(cpu);
    const parkSeconds = (performance.now() - parkStarted) / 1000;
    // The probe's full GC collects what parking left, so that the window below holds the parked
    // waiters alone; the GCs until it is quiet count as parking's.
    const parked = await footprint(backends);
    const fds = backends.map(b => b.fds());
    await settled(cpu, QUIET);
    const pollCpuMs = ((cpu() - cpuAtPark) * 1000) / n;
    const parkedCpu = await cpuOver(cpu, CPU_WINDOW_MS);

    // Decided in the IM, its own delivery off: the benchmark's callbacks are the only news.
    await pool(n, 16, i =>
      stack.control(
        'POST',
        `/feishu/instances/${encodeURIComponent(jobs[i].approval.imInstanceId!)}/approve`,
        { openId: 'ou_alice' },
      ),
    );
    const callbacks = jobs.map(job =>
      feishuApprovalCallback(job.approval.imInstanceId!),
    );
    const callbackErrors: string[] = [];
    let lastAck = 0;
    const ackTimes: number[] = [];
    const cpuAtBurst = {
      database: commandCpuSeconds('postgres'),
      backend: cpu(),
      sandbox: stack.sandbox.cpuSeconds(),
      bench: process.cpuUsage(),
    };
    const first = performance.now();
    await pool(n, burst, async i => {
      const sent = performance.now();
      try {
        const ack = await request(
          postPool,
          `${deciderOf(i).api}/callbacks/feishu/${INTEGRATION}`,
          {
            method: 'POST',
            headers: callbacks[i].headers,
            body: callbacks[i].body,
            timeoutMs: 60_000,
          },
        );
        if (ack.status !== 200)
          callbackErrors.push(`HTTP ${ack.status} ${ack.text.slice(0, 200)}`);
        ackTimes.push(ack.at - sent);
        lastAck = Math.max(lastAck, ack.at);
      } catch (error) {
        callbackErrors.push((error as Error).message);
      }
    });
    // Every answer that has come by then: a waiter never answered stays undefined.
    const done: Waited[] = new Array(n);
    answers.forEach((answer, i) => answer.then(result => (done[i] = result)));
    await Promise.race([Promise.all(answers), sleep(120_000)]);
    const answered = done.filter(a => a?.approval.status === 'approved');
    waitPool.destroy();
    const last = Math.max(...answered.map(a => a!.at));
    const wrong = done.filter(
      a => a && a.approval.status !== 'approved',
    ).length;
    const benchCpu = process.cpuUsage(cpuAtBurst.bench);
    const burstCpu = {
      database: commandCpuSeconds('postgres') - cpuAtBurst.database,
      backend: cpu() - cpuAtBurst.backend,
      sandbox: stack.sandbox.cpuSeconds() - cpuAtBurst.sandbox,
      bench: (benchCpu.user + benchCpu.system) / 1e6,
      wall: (last - first) / 1000,
    };
    await settled(cpu);
    await sleep(1000);
    const after = await footprint(backends);

    const perSecond = answered.length / ((last - first) / 1000);
    const perCore = 1000 / ((burstCpu.backend * 1000) / answered.length);
    figure(
      `${label}: decisions applied per second`,
      `${perSecond.toFixed(0)}/s over ${answered.length} decisions (first callback → last waiter answered)`,
      {
        measured: answered.length === n ? perSecond : NaN,
        budget: {
          op: '>=',
          limit: setup.perSecond,
          text: `≥ ${setup.perSecond.toLocaleString('en')}/s`,
        },
        baseline: bareLine,
      },
    );
    figure(
      `${label}: backend CPU per decision`,
      `${((burstCpu.backend * 1000) / answered.length).toFixed(2)} ms (at most ${perCore.toFixed(0)} decisions per CPU-second)`,
    );
    figure(
      `${label}: last waiter answered after last callback`,
      `${(last - lastAck).toFixed(0)} ms`,
      {
        measured: last - lastAck,
        budget: { op: '<=', limit: 10_000, text: '≤ 10 s' },
      },
    );
    figure(
      `${label}: each callback answered (IM acknowledged)`,
      describe(quantiles(ackTimes)),
    );
    figure(
      `${label}: CPU during the burst`,
      `backend${backends.length > 1 ? 's' : ''} ${burstCpu.backend.toFixed(1)} s, IM sandbox ${burstCpu.sandbox.toFixed(1)} s, ` +
        `benchmark client ${burstCpu.bench.toFixed(1)} s${setup.database === 'postgres' ? `, PostgreSQL server ${burstCpu.database.toFixed(1)} s` : ''}, in ${burstCpu.wall.toFixed(1)} s wall ` +
        `(${(((burstCpu.backend + burstCpu.sandbox + burstCpu.bench + (setup.database === 'postgres' ? burstCpu.database : 0)) / burstCpu.wall) * 100).toFixed(0)}% of one core; this machine has ${availableParallelism()})`,
    );
    figure(
      `${label}: RSS / heap: before → parked → after`,
      `${fp(before)} → ${fp(parked)} → ${fp(after)}`,
    );
    const perWaiterKb = ((parked.rssMb - before.rssMb) * 1024) / n;
    const heapPerWaiterKb =
      before.heapMb !== undefined && parked.heapMb !== undefined
        ? ((parked.heapMb - before.heapMb) * 1024) / n
        : NaN;
    figure(
      `${label}: RSS parked − before`,
      `${mb(parked.rssMb - before.rssMb)} (${perWaiterKb.toFixed(1)} KB per waiter, N = ${n}); live heap ${heapPerWaiterKb.toFixed(1)} KB per waiter`,
      {
        measured:
          n >= 5000 ? parked.rssMb - before.rssMb : (perWaiterKb * 5000) / 1024,
        budget: {
          op: '<=',
          limit: 50,
          text: '≤ 50 MB at 5,000 (10 KB per waiter)',
        },
      },
    );
    const windowSeconds = CPU_WINDOW_MS / 1000;
    const idlePerSecond = idleCpu / windowSeconds;
    const parkedPerSecond = parkedCpu / windowSeconds;
    // The window holds no re-poll: the Action asks again every ACTION_POLL_SECONDS, each time what parking cost.
    const heldPerWaiter = ((parkedPerSecond - idlePerSecond) / n) * 1e6;
    // A held cost below the noise of the two windows (negative) counts as nothing.
    const cpuPerWaiter =
      Math.max(0, heldPerWaiter) + (pollCpuMs * 1000) / ACTION_POLL_SECONDS;
    figure(
      `${label}: CPU per parked waiter`,
      `${cpuPerWaiter.toFixed(1)} µs per second: ${heldPerWaiter.toFixed(1)} held (idle ${(idlePerSecond * 1000).toFixed(1)} ms/s, ` +
        `parked ${(parkedPerSecond * 1000).toFixed(1)} ms/s, each over ${windowSeconds} s: a heartbeat and a recheck) + a ${pollCpuMs.toFixed(2)} ms poll every ${ACTION_POLL_SECONDS} s`,
      {
        measured: cpuPerWaiter,
        budget: { op: '<=', limit: 4, text: '≤ 4 µs/s' },
      },
    );
    // Projected to 10,000 waiters spread over the replicas, from what these N cost each replica.
    const projected = fds.map((f, i) =>
      Math.round(
        fdsBefore[i] +
          ((f.open - fdsBefore[i]) / (n / backends.length)) *
            (10_000 / backends.length),
      ),
    );
    figure(
      `${label}: file descriptors`,
      fds
        .map(
          (f, i) =>
            `${fdsBefore[i]} → ${f.open} parked, ~${projected[i]} at 10,000; soft limit ${f.softLimit}, hard ${f.hardLimit}`,
        )
        .join('; '),
      {
        measured: Math.min(...fds.map((f, i) => f.softLimit - projected[i])),
        budget: {
          op: '>=',
          limit: 0,
          text: '10,000 waiters within the soft limit Node starts with',
        },
      },
    );
    const resets = done.reduce((sum, a) => sum + (a?.resets ?? 0), 0);
    note(
      `${label}: parking took ${parkSeconds.toFixed(1)} s; errors: ${waitErrors.length} waiters, ${callbackErrors.length} callbacks, ` +
        `${wrong} answered other than approved, ${n - answered.length} not answered approved; ` +
        `${resets} long-polls reset before an answer and asked again, as the Action does`,
    );
    for (const message of [
      ...new Set([...waitErrors, ...callbackErrors]),
    ].slice(0, 3))
      note(`${label}: error: ${message}`);
    const refused = await stack.imRefusals();
    if (refused > 0)
      note(
        `${label}: the IM sandbox refused ${refused} calls for their frequency`,
      );
  } finally {
    createPool.destroy();
    waitPool.destroy();
    postPool.destroy();
    await stack.stop();
  }
}
