// `yarn bench [part…] [--option value…]`: the budgets of /work/shared/design.md measured on the
// backend's production build, each figure beside its budget and a baseline from the same run.
// Parts: latency, waiters, callbacks, im-calls, creation, action, gates (all by default, in that order).
// Asserts nothing: it exits 0 when over budget and marks those figures OVER BUDGET.
import { cpus, loadavg } from 'node:os';
import { action } from './parts/action';
import { callbacks } from './parts/callbacks';
import { creation } from './parts/creation';
import { gates } from './parts/gates';
import { imCalls } from './parts/imCalls';
import { latency } from './parts/latency';
import { waiters } from './parts/waiters';
import {
  killChildren,
  prepareProductionBuild,
  type Deployment,
} from './production';
import { summary } from './report';

const PARTS = [
  'latency',
  'waiters',
  'callbacks',
  'im-calls',
  'creation',
  'action',
  'gates',
] as const;
type Part = (typeof PARTS)[number];

const DEFAULTS = {
  /** latency: timed runs per configuration. */
  runs: 200,
  /** waiters: parked long-polls (and decisions). */
  n: 5000,
  /** waiters: callbacks in flight at once during the burst. */
  burst: 64,
  /** waiters: seconds per configuration; opening the N approvals may take half, or N is cut to what was opened. */
  'waiters-seconds': 60,
  /** callbacks: callbacks per measurement. */
  callbacks: 1000,
  /** creation: approvals per database, and requests in flight. */
  creations: 500,
  concurrency: 32,
  /** im-calls: lifecycles per IM, and pending approvals per IM for the reconciler. */
  lifecycles: 20,
  pending: 100,
  /** action: start-ups timed, and approve-click-to-exit runs. */
  'action-runs': 50,
  'click-runs': 10,
  /** gates: jobs held and approved per database. */
  'gate-runs': 30,
};
export type Options = typeof DEFAULTS;

const USAGE = `usage: yarn bench [${PARTS.join('|')} …] [--${Object.keys(DEFAULTS).join(' N] [--')} N]`;

class UsageError extends Error {}

function parse(argv: string[]): { parts: Part[]; options: Options } {
  const parts: Part[] = [];
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      if (!(name in options))
        throw new UsageError(`unknown option --${name}\n${USAGE}`);
      const value = Number(inline ?? argv[++i]);
      if (!Number.isInteger(value) || value <= 0)
        throw new UsageError(
          `--${name} takes a positive whole number\n${USAGE}`,
        );
      (options as Record<string, number>)[name] = value;
    } else if ((PARTS as readonly string[]).includes(arg)) {
      parts.push(arg as Part);
    } else {
      throw new UsageError(`unknown part "${arg}"\n${USAGE}`);
    }
  }
  return {
    parts: parts.length > 0 ? PARTS.filter(p => parts.includes(p)) : [...PARTS],
    options,
  };
}

async function main() {
  const { parts, options } = parse(process.argv.slice(2));
  const started = performance.now();
  console.log(`im-approval benchmark: ${parts.join(', ')}`);
  console.log(
    `  ${new Date().toISOString()}  node ${process.version}  ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}  load ${loadavg()
      .map(l => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `  options: ${Object.entries(options)
      .map(([k, v]) => `--${k} ${v}`)
      .join(' ')}`,
  );
  const deployment: Deployment = prepareProductionBuild();
  try {
    const run: Record<Part, () => Promise<void>> = {
      latency: () => latency(deployment, options),
      waiters: () => waiters(deployment, options),
      callbacks: () => callbacks(deployment, options),
      'im-calls': () => imCalls(deployment, options),
      creation: () => creation(deployment, options),
      action: () => action(deployment, options),
      gates: () => gates(deployment, options),
    };
    for (const part of parts) {
      const partStarted = performance.now();
      await run[part]();
      console.log(
        `   (${part}: ${((performance.now() - partStarted) / 1000).toFixed(0)} s)`,
      );
    }
  } finally {
    deployment.release();
  }
  summary();
  console.log(
    `\n  ${((performance.now() - started) / 1000).toFixed(0)} s in all; backend logs in .test-output/bench-*.log`,
  );
}

main().then(
  () => process.exit(0),
  error => {
    console.error(error instanceof UsageError ? error.message : error);
    killChildren();
    process.exit(1);
  },
);
