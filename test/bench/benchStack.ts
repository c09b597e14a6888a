// The stack the benchmarks run against: the IM sandbox in a process of its own (so its work is
// not the benchmark client's), a GitHub OIDC issuer, and production-build backends sharing one
// database, configured as test/src/__testUtils__/stack.ts configures the e2e backends.
import {
  startGithubOidcIssuer,
  type GithubOidcIssuer,
  type Sandbox,
} from '@im-approval/im-sandbox';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, repoRoot } from '../src/__testUtils__/backendProcess';
import {
  feishuCallback,
  mergeSeeds,
  type ImSetup,
} from '../src/__testUtils__/ims';
import {
  POSTGRES_URL,
  sandboxControl,
  type DatabaseKind,
} from '../src/__testUtils__/stack';
import {
  startProductionBackend,
  trackChild,
  type Deployment,
  type ProductionBackend,
} from './production';
import { clockTicksPerSecond, processCpuSeconds } from './proc';

export interface SandboxProcess extends Omit<Sandbox, 'github'> {
  pid: number;
  cpuSeconds(): number;
}

/** `packages/im-sandbox/src/main.ts`, as `yarn workspace @im-approval/im-sandbox start` runs it, with the setups' seed. */
export async function startSandboxProcess(
  ims: ImSetup[],
): Promise<SandboxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'im-approval-bench-sandbox-'));
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(mergeSeeds(ims)));
  const port = await freePort();
  const outputDir = join(repoRoot, '.test-output');
  mkdirSync(outputDir, { recursive: true });
  const logFd = openSync(join(outputDir, 'bench-sandbox.log'), 'w');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SANDBOX_PORT: String(port),
    SANDBOX_HOST: '127.0.0.1',
    SANDBOX_SEED: seedFile,
    // No state file: serialising thousands of instances every second would be the sandbox's CPU, not the backend's.
    SANDBOX_STATE_FILE: '',
  };
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      'packages/im-sandbox/src/main.ts',
    ],
    { cwd: repoRoot, env, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  trackChild(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${url}/_sandbox/feishu/stats`).then(
      r => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null)
      throw new Error(
        `the IM sandbox exited with ${child.exitCode} (log .test-output/bench-sandbox.log)`,
      );
    if (Date.now() > deadline)
      throw new Error('the IM sandbox did not start within 60 s');
    await new Promise(r => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    cpuSeconds: () => processCpuSeconds(pid, clockTicksPerSecond()),
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Feishu's frequency limits in the sandbox, far above anything a run reaches. */
const RAISED_FEISHU_LIMITS = {
  instanceCreatePerMinute: 1_000_000,
  instanceGetPerMinute: 1_000_000,
  instanceGetPerSecond: 1_000_000,
  subscribePerMinute: 1_000_000,
};
let toldAboutLimits = false;

export interface BenchStack {
  sandbox: SandboxProcess;
  /** The sandbox's own Feishu limits (its defaults are Feishu's); undefined when this sandbox has none. */
  feishuLimits?: Record<string, number>;
  /** Calls the sandbox refused for their frequency so far, every IM together. */
  imRefusals(): Promise<number>;
  issuer: GithubOidcIssuer;
  backends: ProductionBackend[];
  database: DatabaseKind;
  control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  database: DatabaseKind;
  replicas?: number;
  ims?: ImSetup[];
  /**
   * The reconciler's period. Long by default, so only callbacks decide (a pass would otherwise
   * find the decisions the benchmark makes in the sandbox before their callbacks arrive).
   */
  reconcileSeconds?: number;
  /**
   * The sandbox's Feishu frequency limits (instance create 100/min, read 1,000/min and 50/s per app):
   * raised by default, so what is measured is the backend and not one Feishu app's quota.
   */
  imLimits?: 'real' | 'raised';
  /** Deployment gates: the backends become the sandbox GitHub's App, with these gates; the webhook goes to the first. */
  gates?: object[];
}

/** The sandbox GitHub's App, as its control API hands it out. */
export interface SandboxGithubApp {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  apiUrl: string;
}

export const BACKEND_CONFIG_NOTE =
  "app-config.yaml + a generated layer (port, database, the sandbox's integrations, OIDC issuer)";

export function backendLayers(
  port: number,
  sandboxUrl: string,
  issuer: string,
  database: object,
  ims: ImSetup[],
  reconcileSeconds: number,
  /** 'raised': the sandbox's limits are out of the way, and so are the backend's own budgets. */
  imLimits: 'real' | 'raised' = 'raised',
  gating?: { app: SandboxGithubApp; gates: object[] },
) {
  const sandbox = { url: sandboxUrl } as Sandbox;
  const app = gating && {
    appId: gating.app.appId,
    privateKey: gating.app.privateKey,
    webhookSecret: gating.app.webhookSecret,
    apiBaseUrl: gating.app.apiUrl,
  };
  return [
    {
      backend: {
        baseUrl: `http://127.0.0.1:${port}`,
        listen: { port, host: '127.0.0.1' },
        database,
      },
      imApproval: {
        github: {
          oidc: { issuer, audience: 'im-approval', allowedOwners: ['acme'] },
          ...(app && { app }),
        },
        ...(gating && { gates: gating.gates }),
        reconciler: { frequency: { seconds: reconcileSeconds } },
        imRateLimits: imLimits === 'real' ? 'documented' : 'off',
        integrations: ims.map(setup => setup.integration(sandbox)),
        templates: ims.map(setup => ({
          name: setup.template,
          integration: setup.integrationId,
          ...setup.templateConfig,
        })),
      },
    },
  ];
}

export function databaseConfig(kind: DatabaseKind, runId: string) {
  return kind === 'postgres'
    ? { client: 'pg', connection: POSTGRES_URL, prefix: `bench_${runId}_` }
    : {
        client: 'better-sqlite3',
        connection: {
          directory: join(tmpdir(), `im-approval-bench-db-${runId}`),
        },
      };
}

export async function startBenchStack(
  deployment: Deployment,
  options: BenchStackOptions,
): Promise<BenchStack> {
  const ims = options.ims ?? [feishuCallback];
  const runId = randomUUID().slice(0, 8);
  const database = databaseConfig(options.database, runId);
  if (options.database === 'postgres') await assertPostgres();
  const sandbox = await startSandboxProcess(ims);
  const issuer = await startGithubOidcIssuer();
  const backends: ProductionBackend[] = [];
  const control = <T = any>(method: string, path: string, body?: unknown) =>
    sandboxControl<T>(sandbox, method, path, body);
  let feishuLimits: Record<string, number> | undefined;
  const setFeishuLimits = async (which: 'real' | 'raised') => {
    if (feishuLimits)
      await control(
        'PATCH',
        '/feishu/rate-limits',
        which === 'real' ? feishuLimits : RAISED_FEISHU_LIMITS,
      );
  };
  const stop = async () => {
    await Promise.all(backends.map(b => b.stop()));
    await sandbox.close();
    await issuer.close();
    await dropDatabase(options.database, database);
  };
  try {
    feishuLimits = await control<Record<string, number>>(
      'GET',
      '/feishu/rate-limits',
    ).catch(() => undefined);
    if (!toldAboutLimits) {
      toldAboutLimits = true;
      console.log(
        feishuLimits
          ? `   (IM sandbox: Feishu's frequency limits ${JSON.stringify(feishuLimits)} are raised out of the way except where a part says otherwise)`
          : '   (IM sandbox: this sandbox enforces no Feishu frequency limits)',
      );
    }
    await setFeishuLimits(options.imLimits ?? 'raised');
    const gating = options.gates && {
      app: await control<SandboxGithubApp>('GET', '/github/app'),
      gates: options.gates,
    };
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      backends.push(
        await startProductionBackend(
          deployment,
          `${options.database}-${runId}-${i}`,
          port =>
            backendLayers(
              port,
              sandbox.url,
              issuer.issuer,
              database,
              ims,
              options.reconcileSeconds ?? 3600,
              options.imLimits,
              gating,
            ),
        ),
      );
    }
    for (const setup of ims) await setup.attach?.(control, backends[0]);
    if (gating)
      await control('PUT', '/github/app/webhook', {
        url: `${backends[0].api}/github/webhook`,
      });
  } catch (error) {
    await stop();
    throw error;
  }
  const imRefusals = async () => {
    const all = await Promise.all(
      ['feishu', 'dingtalk', 'wecom'].map(im =>
        control<{ rateLimited?: number }>('GET', `/${im}/stats`),
      ),
    );
    return all.reduce((sum, stats) => sum + (stats.rateLimited ?? 0), 0);
  };
  return {
    sandbox,
    feishuLimits,
    imRefusals,
    issuer,
    backends,
    database: options.database,
    control,
    stop,
  };
}

async function assertPostgres() {
  const client = new Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL} (${(error as Error).message}); set IM_APPROVAL_TEST_POSTGRES_URL`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropDatabase(kind: DatabaseKind, database: any) {
  if (kind === 'sqlite') {
    rmSync(database.connection.directory, { recursive: true, force: true });
    return;
  }
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`${database.prefix}%`],
    );
    for (const { datname } of rows)
      await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}
