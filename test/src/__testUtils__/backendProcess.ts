import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../../..');
const outputDir = join(repoRoot, '.test-output');
/** The example organisation: app-config.yaml names it from packages/backend, these backends run from the root. */
const EXAMPLE_CATALOG = {
  catalog: {
    locations: [
      'org.yaml',
      'components.yaml',
      'templates/gated-release.yaml',
    ].map(file => ({
      type: 'file',
      target: join(repoRoot, 'examples', file),
    })),
  },
};

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface BackendProcess {
  name: string;
  url: string;
  /** The plugin's API root: `<url>/api/im-approval`. */
  api: string;
  stop(): Promise<void>;
  /** Stops and starts the same process again on the same port and database. */
  restart(): Promise<void>;
  /** Kills the process outright (SIGKILL: no shutdown, as a crash), then starts it again the same way. */
  crashAndRestart(): Promise<void>;
  logTail(): string;
  /** Everything the process has logged so far. */
  log(): string;
}

/**
 * Runs `packages/backend` as an operator would: its own Node process, the repository's
 * app-config.yaml, plus the given configuration on top (several objects: later ones win, merged deeply as Backstage does).
 */
export async function startBackendProcess(
  name: string,
  config: (port: number) => object | object[],
): Promise<BackendProcess> {
  const port = await freePort();
  mkdirSync(outputDir, { recursive: true });
  const configDir = mkdtempSync(join(tmpdir(), 'im-approval-e2e-'));
  const layers = [EXAMPLE_CATALOG, config(port)].flat();
  const configArgs = layers.flatMap((_, index) => [
    '--config',
    join(configDir, `app-config.e2e-${index}.json`),
  ]);
  // Written at each start: stop() removes them, and a stopped backend may be started again.
  const writeConfig = () => {
    mkdirSync(configDir, { recursive: true });
    layers.forEach((layer, index) =>
      writeFileSync(
        join(configDir, `app-config.e2e-${index}.json`),
        JSON.stringify(layer),
      ),
    );
  };
  const logFile = join(outputDir, `backend-${name}.log`);
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    writeConfig();
    const log = createWriteStream(logFile, { flags: 'a' });
    child = spawn(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        'packages/backend/src/index.ts',
        '--config',
        'app-config.yaml',
        ...configArgs,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', code =>
        reject(
          new Error(`backend ${name} exited with ${code}:\n${tail(logFile)}`),
        ),
      ),
    );
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const ready = await Promise.race([
        fetch(`${url}/.backstage/health/v1/readiness`).then(
          r => r.ok,
          () => false,
        ),
        exited,
      ]);
      if (ready) return;
      await new Promise(r => setTimeout(r, 200));
    }
    // Not left running (holding its port and database connections) after the suite gives up on it.
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    throw new Error(
      `backend ${name} did not become ready within 90 s:\n${tail(logFile)}`,
    );
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    running.removeAllListeners('exit');
    const exited = new Promise(r => running.once('exit', r));
    running.kill(signal);
    const killer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };

  // The config files go whenever the backend stops; start() writes them again.
  const removeConfig = () =>
    rmSync(configDir, { recursive: true, force: true });
  try {
    await start();
  } catch (error) {
    removeConfig();
    throw error;
  }
  return {
    name,
    url,
    api: `${url}/api/im-approval`,
    stop: async () => {
      await stop();
      removeConfig();
    },
    restart: async () => {
      await stop();
      await start();
    },
    crashAndRestart: async () => {
      await stop('SIGKILL');
      await start();
    },
    logTail: () => tail(logFile),
    log: () => readFileSync(logFile, 'utf8'),
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}
