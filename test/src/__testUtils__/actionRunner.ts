import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './backendProcess';

export const actionDir = join(repoRoot, 'actions/im-approval');

interface ActionManifest {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; main: string; post: string };
}

const manifest = parse(
  readFileSync(join(actionDir, 'action.yml'), 'utf8'),
) as ActionManifest;

/** The job a step runs in, as the runner's environment describes it. */
export const JOB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'acme/api',
  GITHUB_REPOSITORY_OWNER: 'acme',
  GITHUB_RUN_ID: '1001',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: 'deploy',
  GITHUB_ACTION: 'approve',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: '0123abcd',
  GITHUB_ACTOR: 'octocat',
  GITHUB_WORKFLOW: 'deploy',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_SERVER_URL: 'https://github.com',
};

export interface StepResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  /** What the step saved for its post step. */
  state: Record<string, string>;
}

export interface RunningStep {
  process: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  outputs(): Record<string, string>;
  finished: Promise<StepResult>;
}

/**
 * Runs the committed bundle the way a runner does: `node <runs.main>` in a fresh process,
 * each input as `INPUT_<NAME>` (action.yml's default when the workflow leaves it out), and
 * the runner's files for outputs, the job summary and the post step's state.
 */
export function startStep(options: {
  inputs: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** The post step: pass the main step's saved state. */
  post?: { state: Record<string, string> };
}): RunningStep {
  const unknown = Object.keys(options.inputs).filter(
    name => !(name in manifest.inputs),
  );
  if (unknown.length > 0)
    throw new Error(`action.yml declares no input ${unknown.join(', ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'im-approval-step-'));
  const files = {
    output: join(dir, 'output'),
    summary: join(dir, 'summary'),
    state: join(dir, 'state'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');

  const inputEnv = Object.fromEntries(
    Object.entries(manifest.inputs).map(([name, spec]) => [
      `INPUT_${name.replace(/ /g, '_').toUpperCase()}`,
      options.inputs[name] ?? spec.default ?? '',
    ]),
  );
  const stateEnv = Object.fromEntries(
    Object.entries(options.post?.state ?? {}).map(([name, value]) => [
      `STATE_${name}`,
      value,
    ]),
  );
  const entry = options.post ? manifest.runs.post : manifest.runs.main;

  const child = spawn(process.execPath, [join(actionDir, entry)], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUNNER_TEMP: dir,
      ...JOB_ENV,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_STATE: files.state,
      ...inputEnv,
      ...stateEnv,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', chunk => (stdout += chunk));
  child.stderr!.on('data', chunk => (stdout += chunk));

  // The runner's files are read once the step exits, and their directory removed.
  let result: StepResult | undefined;
  const finished = new Promise<StepResult>((resolve, reject) => {
    child.once('error', error => {
      rmSync(dir, { recursive: true, force: true });
      reject(error);
    });
    child.once('exit', (exitCode, signal) => {
      try {
        result = {
          exitCode,
          signal,
          stdout,
          outputs: readFileCommands(files.output),
          summary: readFileSync(files.summary, 'utf8'),
          state: readFileCommands(files.state),
        };
        resolve(result);
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  return {
    process: child,
    stdout: () => stdout,
    outputs: () => result?.outputs ?? readFileCommands(files.output),
    finished,
  };
}

export const runStep = (options: Parameters<typeof startStep>[0]) =>
  startStep(options).finished;

/** The id of the approval the step opened, as soon as it sets the output; throws if it exits first. */
export async function approvalIdOf(
  step: RunningStep,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  step.finished.then(() => (exited = true));
  for (;;) {
    const id = step.outputs()['approval-id'];
    if (id) return id;
    if (exited || Date.now() > deadline)
      throw new Error(`the step opened no approval:\n${step.stdout()}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** `name<<DELIMITER\nvalue\nDELIMITER` records, as @actions/core writes GITHUB_OUTPUT and GITHUB_STATE. */
function readFileCommands(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (!match) continue;
    const end = lines.indexOf(match[2], i + 1);
    values[match[1]] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return values;
}
