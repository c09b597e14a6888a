import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { sandboxSeedSchema, startSandbox } from './server';
import { describeIssues } from './validation';

// `yarn start`: the sandbox as its own process, configured through the environment.

// eslint-disable-next-line no-restricted-syntax
const DEFAULT_STATE_FILE = resolve(__dirname, '../.data/state.json');

const envSchema = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(7010),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  // Run from source by `yarn start`, never bundled, so the seed stays next to src/.
  // eslint-disable-next-line no-restricted-syntax
  SANDBOX_SEED: z.string().min(1).default(resolve(__dirname, '../seed.json')),
  // Runs the IMs' own redelivery schedules at this fraction of real time (Feishu's 15 s … 6 h).
  SANDBOX_TIME_SCALE: z.coerce.number().positive().optional(),
  // Where instances, people and deliveries are kept across restarts; empty keeps nothing.
  SANDBOX_STATE_FILE: z.string().default(DEFAULT_STATE_FILE),
});

/** The seed names the GitHub App's key by file (`github.privateKeyFile`, beside the seed): read it in. */
function withGithubKey(json: unknown, seedPath: string): unknown {
  const github = (json as { github?: { privateKeyFile?: unknown } })?.github;
  if (typeof github?.privateKeyFile !== 'string') return json;
  const { privateKeyFile, ...rest } = github;
  const file = resolve(dirname(seedPath), privateKeyFile);
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read github.privateKeyFile ${file}: ${(error as Error).message}`,
    );
  }
  return { ...(json as object), github: { ...rest, privateKeyPem } };
}

/** `--time-scale <n>` or `--time-scale=<n>` on the command line wins over SANDBOX_TIME_SCALE. */
function timeScaleArgument(argv: string[]): string | undefined {
  const index = argv.findIndex(
    arg => arg === '--time-scale' || arg.startsWith('--time-scale='),
  );
  if (index < 0) return undefined;
  const arg = argv[index];
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
}

async function main(): Promise<void> {
  const timeScaleArg = timeScaleArgument(process.argv.slice(2));
  const env = envSchema.safeParse({
    ...process.env,
    ...(timeScaleArg === undefined ? {} : { SANDBOX_TIME_SCALE: timeScaleArg }),
  });
  if (!env.success)
    throw new Error(`invalid environment: ${describeIssues(env.error)}`);
  const {
    SANDBOX_PORT: port,
    SANDBOX_HOST: host,
    SANDBOX_SEED: seedPath,
    SANDBOX_TIME_SCALE: timeScale,
    SANDBOX_STATE_FILE: stateFile,
  } = env.data;

  let json: unknown;
  try {
    json = JSON.parse(readFileSync(seedPath, 'utf8'));
  } catch (error) {
    throw new Error(
      `cannot read the seed ${seedPath}: ${(error as Error).message}`,
    );
  }
  const seed = sandboxSeedSchema.safeParse(withGithubKey(json, seedPath));
  if (!seed.success)
    throw new Error(`invalid seed ${seedPath}: ${describeIssues(seed.error)}`);

  const sandbox = await startSandbox({
    port,
    host,
    seed: seed.data,
    timeScale,
    stateFile: stateFile || undefined,
    log: line => console.log(line),
  });
  // One write, so whoever reads the output sees the whole announcement at once.
  const announcement = [
    `IM sandbox: approver inbox at ${sandbox.url}/ (seed ${seedPath})`,
    ...(timeScale !== undefined
      ? [`  redelivery schedules at ${timeScale} of real time`]
      : []),
    stateFile
      ? `  state kept in ${stateFile} (delete it to start from the seed)`
      : '  state kept nowhere: SANDBOX_STATE_FILE is empty',
    `  Feishu: domain ${sandbox.url} (open API /open-apis, long connection /callback/ws/endpoint)`,
    `  DingTalk: new and old API ${sandbox.url} (/v1.0, /gettoken, /topapi; Stream gateway /v1.0/gateway/connections/open)`,
    `  WeCom: API ${sandbox.url} (/cgi-bin)`,
    `  GitHub: App ${sandbox.github.appId} on ${sandbox.github.installationAccount}, API ${sandbox.github.apiUrl}; run a job that targets an environment at ${sandbox.url}/_sandbox/github (webhook ${sandbox.github.webhookUrl ?? 'not set'})`,
    ...(seed.data.feishu?.apps ?? []).map(
      app => `  Feishu app ${app.appId} (${app.mode ?? 'callback'})`,
    ),
    ...(seed.data.dingtalk?.apps ?? []).map(
      app => `  DingTalk app ${app.appKey} (${app.mode ?? 'callback'})`,
    ),
    ...(seed.data.wecom?.apps ?? []).map(
      app =>
        `  WeCom app ${app.agentId} of corp ${seed.data.wecom?.corpId ?? 'wwsandboxcorp'} (callback URL ${app.callbackUrl ?? 'none: poll getapprovaldetail'})`,
    ),
    '  ready; stop with Ctrl-C',
  ];
  console.log(announcement.join('\n'));

  const stop = () => {
    sandbox.close().then(
      () => process.exit(0),
      error => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(error => {
  console.error(`IM sandbox: ${(error as Error).message}`);
  process.exit(1);
});
