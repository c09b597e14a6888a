import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort, repoRoot } from './__testUtils__/backendProcess';

jest.setTimeout(30_000);

const BANNER_SCRIPT = join(repoRoot, 'scripts/ready-banner.mjs');

function runBanner(args: string[]) {
  const child = spawn(process.execPath, [BANNER_SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', chunk => (stdout += chunk));
  child.stderr!.on('data', chunk => (stderr += chunk));
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => resolve(code)),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** A server on 127.0.0.1 answering every request with the status `status()` gives at the time. */
async function listen(port: number, status: () => number): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(status()).end());
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve));
  return server;
}

const pause = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('scripts/ready-banner.mjs, the "Ready:" line of bash scripts/start', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(s => new Promise(r => s.close(r))));
  });

  it('prints the banner once, after every URL answers, and not before', async () => {
    const [appPort, sandboxPort, backendPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ]);
    servers.push(await listen(appPort, () => 200));
    // A backend still starting answers 503 (and the API's 404 for its root once up counts as an answer).
    let backendStatus = 503;
    servers.push(await listen(backendPort, () => backendStatus));
    // The sandbox is not listening yet at all.
    const banner = runBanner([
      `app=http://localhost:${appPort}/`,
      `sandbox inbox=http://localhost:${sandboxPort}/`,
      `API=http://localhost:${backendPort}/api/im-approval`,
    ]);

    await pause(1500);
    backendStatus = 404;
    await pause(1500);
    expect(banner.stdout()).toBe('');
    expect(banner.child.exitCode).toBeNull();

    servers.push(await listen(sandboxPort, () => 200));
    expect(await banner.exited).toBe(0);
    expect(banner.stdout()).toBe(
      [
        'Ready:',
        `  app            http://localhost:${appPort}/`,
        `  sandbox inbox  http://localhost:${sandboxPort}/`,
        `  API            http://localhost:${backendPort}/api/im-approval`,
        'Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
    expect(banner.stderr()).toBe('');
  });

  it('with --keep-running (as yarn start runs it), stays after the banner until stopped', async () => {
    const port = await freePort();
    servers.push(await listen(port, () => 200));
    const banner = runBanner([
      '--keep-running',
      `app=http://localhost:${port}/`,
    ]);
    try {
      const deadline = Date.now() + 10_000;
      while (
        !banner.stdout().includes('Stop with Ctrl-C.') &&
        Date.now() < deadline
      )
        await pause(50);
      expect(banner.stdout()).toContain(`  app  http://localhost:${port}/\n`);
      // concurrently --kill-others would stop the whole stack if it ended here.
      await pause(1000);
      expect(banner.child.exitCode).toBeNull();
    } finally {
      banner.child.kill('SIGINT');
    }
    expect(await banner.exited).toBeNull();
  });

  it('with --timeout, gives up naming what never answered, without a banner', async () => {
    const [upPort, downPort] = await Promise.all([freePort(), freePort()]);
    servers.push(await listen(upPort, () => 200));
    const banner = runBanner([
      '--timeout',
      '1',
      `app=http://localhost:${upPort}/`,
      `API=http://localhost:${downPort}/api/im-approval`,
    ]);
    expect(await banner.exited).toBe(1);
    expect(banner.stdout()).toBe('');
    expect(banner.stderr()).toBe(
      `Not up after 1 s: API (http://localhost:${downPort}/api/im-approval)\n`,
    );
  });

  it.each([
    [['app'], 'expected <label>=<url>, got "app"'],
    [
      ['app=localhost:3000'],
      '"localhost:3000" (for app) is not an http:// URL',
    ],
    [['app=not a url'], '"not a url" (for app) is not a URL'],
    [
      ['--timeout', 'soon', 'app=http://localhost:3000/'],
      '--timeout: expected a number of seconds, got "soon"',
    ],
  ])('refuses %j: %s', async (args, message) => {
    const banner = runBanner(args);
    expect(await banner.exited).toBe(2);
    expect(banner.stderr()).toContain(`ready-banner: ${message}\nUsage:`);
    expect(banner.stdout()).toBe('');
  });
});
