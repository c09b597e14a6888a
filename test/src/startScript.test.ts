import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './__testUtils__/backendProcess';

jest.setTimeout(30_000);

/** The stack's ports, as scripts/start names them (the first test checks them against app-config.yaml). */
const STACK_PORTS = [
  [7007, 'backend'],
  [7010, 'sandbox'],
  [3000, 'app'],
] as const;

/**
 * Stand-ins for the tools scripts/start would run, each writing its command line to `calls`: Node
 * and Yarn say they are the versions the toolchain wants, so nothing is installed and nothing runs.
 */
function stubTools(dir: string) {
  const calls = join(dir, 'calls');
  const versions: Record<string, string> = {
    node: 'v24.0.0',
    yarn: '4.12.0',
    npm: '11.0.0',
    corepack: '0.34.0',
  };
  for (const [tool, version] of Object.entries(versions)) {
    const file = join(dir, tool);
    writeFileSync(
      file,
      `#!/bin/bash\necho "${tool} $*" >> "${calls}"\n[ "$1" = --version ] && echo "${version}"\nexit 0\n`,
    );
    chmodSync(file, 0o755);
  }
  return {
    path: `${dir}:/usr/bin:/bin`,
    calls: () => (existsSync(calls) ? readFileSync(calls, 'utf8') : ''),
  };
}

function runStart(path: string) {
  const child = spawn('bash', ['scripts/start'], {
    cwd: repoRoot,
    env: { PATH: path, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000,
  });
  let output = '';
  child.stdout!.on('data', chunk => (output += chunk));
  child.stderr!.on('data', chunk => (output += chunk));
  return new Promise<{ code: number | null; output: string }>(resolve =>
    child.once('exit', code => resolve({ code, output })),
  );
}

/** Listens on 127.0.0.1:port, as a running stack does; undefined when something else already does. */
async function occupy(port: number): Promise<Server | undefined> {
  const server = createServer(socket => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', error =>
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? resolve(undefined)
        : reject(error),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function listening(port: number): boolean {
  return (
    spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], {
      stdio: 'ignore',
    }).status === 0
  );
}

describe('bash scripts/start', () => {
  let dir: string;
  let tools: ReturnType<typeof stubTools>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-approval-start-'));
    tools = stubTools(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("knows the ports app-config.yaml gives the stack, as yarn start's Ready banner does", () => {
    const config = parse(
      readFileSync(join(repoRoot, 'app-config.yaml'), 'utf8'),
    );
    const sandboxUrls = new Set<string>(
      config.imApproval.integrations.map(
        (integration: { baseUrl: string }) => integration.baseUrl,
      ),
    );
    expect(sandboxUrls.size).toBe(1);
    const configured = [
      [config.backend.listen.port, 'backend'],
      [Number(new URL([...sandboxUrls][0]).port), 'sandbox'],
      [Number(new URL(config.app.baseUrl).port), 'app'],
    ];
    expect(configured).toEqual(STACK_PORTS);

    const { scripts } = JSON.parse(
      readFileSync(join(repoRoot, 'package.json'), 'utf8'),
    );
    for (const [port] of STACK_PORTS)
      expect(scripts.start).toContain(`=http://localhost:${port}/`);
  });

  it.each(STACK_PORTS)(
    'refuses a second start while port %d (%s) is taken, naming it, before installing anything',
    async (port, part) => {
      const server = await occupy(port);
      try {
        const { code, output } = await runStart(tools.path);
        expect(code).toBe(1);
        expect(output).toContain('The stack is already running');
        expect(output).toContain(`port ${port} (${part})`);
        expect(tools.calls()).toBe('');
      } finally {
        await new Promise(r => (server ? server.close(r) : r(undefined)));
      }
    },
  );

  // Skipped where the stack runs already (a developer may run it beside the tests).
  const stackRunning = STACK_PORTS.some(([port]) => listening(port));
  (stackRunning ? describe.skip : describe)(
    'with none of its ports taken',
    () => {
      it('installs, then starts the stack', async () => {
        const { code, output } = await runStart(tools.path);
        expect({ code, output }).toEqual({ code: 0, output: '' });
        expect(tools.calls()).toContain('yarn install --immutable\n');
        expect(tools.calls()).toMatch(/yarn start\n$/);
      });
    },
  );
});
