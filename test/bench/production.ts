// The backend as an operator deploys it: `backstage-cli package build` in packages/backend, its
// dist/skeleton.tar.gz and dist/bundle.tar.gz unpacked into a directory of their own, the
// production dependencies installed there with `yarn workspaces focus --all --production` (as
// Backstage's Dockerfile does), and `node packages/backend --config …` run with plain Node.
//
// Why the bundle and not `packages/backend/dist/index.cjs.js` with the workspace's node_modules:
// the workspace links @im-approval/* to the plugins' directories, whose package.json point at
// src/*.ts (publishConfig only applies when packed), which plain Node cannot load. The bundle
// holds the plugins as packed, built to dist/ with their package.json pointing there.
//
// The build runs on a staged copy of packages/backend and the workspace packages it depends on
// (the working tree's sources as they are now), so it writes no dist/ into the tree and builds one
// consistent snapshot while others edit. A package without a build script would get the one
// `backstage-cli new` gives a plugin (the plugins have theirs).
//
// The install needs no network: yarn resolves from the lockfile and fetches from its cache
// (YARN_ENABLE_NETWORK=0). It is kept between runs, keyed by the lockfile and the workspace
// manifests; the build is done on every run (about 10 s), so the numbers are always of the tree.
import {
  execFileSync,
  spawn,
  spawnSync,
  type ChildProcess,
} from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { freePort, repoRoot } from '../src/__testUtils__/backendProcess';
import {
  clockTicksPerSecond,
  processCpuSeconds,
  processFdInfo,
  processRssMb,
} from './proc';

const CACHE_ROOT = join(tmpdir(), 'im-approval-bench');
const BACKEND_DIR = 'packages/backend';
/** The plugin the "without the plugin" entry leaves out, as packages/backend/src/index.ts adds it. */
const PLUGIN_LINE =
  /^\s*backend\.add\(import\(['"]@im-approval\/plugin-im-approval-backend['"]\)\);\s*$/m;
const PROBE = join(__dirname, 'heapProbe.cjs');

export interface Deployment {
  /** The unpacked bundle with its node_modules: the working directory of every backend. */
  dir: string;
  /** packages/backend, as `node packages/backend` runs it (its package.json main: dist/index.cjs.js). */
  entry: string;
  /** The same entry without `backend.add(import('@im-approval/plugin-im-approval-backend'))`; undefined if that line was not found. */
  entryWithoutPlugin?: string;
  buildSeconds: number;
  installSeconds: number;
  /** The install was reused from an earlier run. */
  installReused: boolean;
  release(): void;
}

function log(line: string) {
  console.log(`  [build] ${line}`);
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; logFile: string },
) {
  const fd = openSync(options.logFile, 'a');
  try {
    const result = spawnSync(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
    if (result.status !== 0) {
      const lastLines = readFileSync(options.logFile, 'utf8')
        .split('\n')
        .slice(-40)
        .join('\n');
      throw new Error(
        `${command} ${args.join(' ')} (in ${options.cwd}) failed with ${result.status ?? result.signal}:\n${lastLines}`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

interface WorkspacePackage {
  name: string;
  dir: string;
  json: any;
}

function workspacePackages(): Map<string, WorkspacePackage> {
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const packages = new Map<string, WorkspacePackage>();
  for (const pattern of root.workspaces as string[]) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(repoRoot, pattern.slice(0, -2))).map(name =>
          join(pattern.slice(0, -2), name),
        )
      : [pattern];
    for (const dir of dirs) {
      const file = join(repoRoot, dir, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8'));
      packages.set(json.name, { name: json.name, dir, json });
    }
  }
  return packages;
}

/** The backend and the workspace packages it depends on at run time, transitively. */
function backendClosure(): WorkspacePackage[] {
  const all = workspacePackages();
  const backend = [...all.values()].find(pkg => pkg.dir === BACKEND_DIR)!;
  const seen = new Map<string, WorkspacePackage>([[backend.name, backend]]);
  const queue = [backend];
  while (queue.length > 0) {
    const pkg = queue.shift()!;
    for (const [name, range] of Object.entries<string>(
      pkg.json.dependencies ?? {},
    )) {
      const local = all.get(name);
      if (local && range.startsWith('workspace:') && !seen.has(name)) {
        seen.set(name, local);
        queue.push(local);
      }
    }
  }
  return [...seen.values()];
}

const COPY_EXCLUDES = new Set([
  'node_modules',
  'dist',
  'dist-types',
  '.data',
  'coverage',
]);

/** Copies the backend's workspace packages into a fresh directory laid out like the repository, ready to build. */
function stage(packages: WorkspacePackage[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'im-approval-bench-stage-'));
  for (const file of ['package.json', 'yarn.lock', '.yarnrc.yml'])
    cpSync(join(repoRoot, file), join(dir, file));
  for (const pkg of packages) {
    cpSync(join(repoRoot, pkg.dir), join(dir, pkg.dir), {
      recursive: true,
      filter: source =>
        !COPY_EXCLUDES.has(
          relative(join(repoRoot, pkg.dir), source).split('/')[0],
        ),
    });
    if (pkg.dir === BACKEND_DIR || pkg.json.scripts?.build) continue;
    // A plugin as `backstage-cli new` makes one: built by the CLI, published from dist/.
    const json = {
      ...pkg.json,
      scripts: { ...pkg.json.scripts, build: 'backstage-cli package build' },
    };
    if (/^src\/index\.tsx?$/.test(json.main ?? '')) {
      json.publishConfig = {
        ...json.publishConfig,
        main: 'dist/index.cjs.js',
        types: 'dist/index.d.ts',
      };
      if (Array.isArray(json.files) && !json.files.includes('dist'))
        json.files = [...json.files, 'dist'];
    }
    writeFileSync(
      join(dir, pkg.dir, 'package.json'),
      JSON.stringify(json, null, 2),
    );
  }
  // The build tools (the CLI, rollup, swc) are the repository's.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The install directory for this lockfile and these manifests, locked for this process; a private one if another run holds it. */
function claimDeployDir(key: string): { dir: string; release(): void } {
  mkdirSync(CACHE_ROOT, { recursive: true });
  const dir = join(CACHE_ROOT, `deploy-${key}`);
  const lock = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return {
        dir,
        release: () => rmSync(lock, { recursive: true, force: true }),
      };
    } catch {
      const holder = Number(
        readFileSync(join(lock, 'pid'), 'utf8').trim() || 0,
      );
      if (holder && pidAlive(holder)) break;
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const own = mkdtempSync(join(CACHE_ROOT, 'deploy-private-'));
  log(
    `another benchmark (pid in ${lock}) uses the cached install; installing into ${own}`,
  );
  return {
    dir: own,
    release: () => rmSync(own, { recursive: true, force: true }),
  };
}

function hashFiles(root: string, files: string[]): string {
  const hash = createHash('sha256').update(process.version);
  for (const file of files.sort())
    hash.update(file).update(readFileSync(join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Builds the backend's production bundle from the working tree and unpacks it into an installed directory. */
export function prepareProductionBuild(): Deployment {
  const packages = backendClosure();
  const logFile = join(CACHE_ROOT, 'build.log');
  mkdirSync(CACHE_ROOT, { recursive: true });
  writeFileSync(logFile, '');
  const started = performance.now();
  const stageDir = stage(packages);
  let deploy: { dir: string; release(): void } | undefined;
  try {
    log(
      `backstage-cli package build in a staged ${BACKEND_DIR} (${packages.map(p => p.name).join(', ')}); log ${logFile}`,
    );
    run(
      join(repoRoot, 'node_modules/.bin/backstage-cli'),
      ['package', 'build'],
      { cwd: join(stageDir, BACKEND_DIR), logFile },
    );
    const dist = join(stageDir, BACKEND_DIR, 'dist');
    const buildSeconds = (performance.now() - started) / 1000;
    const bundle = join(dist, 'bundle.tar.gz');
    log(
      `bundle.tar.gz ${(statSync(bundle).size / 1024).toFixed(0)} KiB, built in ${buildSeconds.toFixed(1)} s`,
    );

    // The skeleton holds every workspace's package.json: with the lockfile, what the install depends on.
    const skeletonDir = join(stageDir, 'skeleton');
    mkdirSync(skeletonDir);
    execFileSync('tar', [
      'xzf',
      join(dist, 'skeleton.tar.gz'),
      '-C',
      skeletonDir,
    ]);
    const manifests = execFileSync(
      'tar',
      ['tzf', join(dist, 'skeleton.tar.gz')],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
    const key = createHash('sha256')
      .update(hashFiles(stageDir, ['package.json', 'yarn.lock', '.yarnrc.yml']))
      .update(hashFiles(skeletonDir, manifests))
      .digest('hex')
      .slice(0, 16);
    deploy = claimDeployDir(key);
    const marker = join(deploy.dir, '.bench-installed');
    const installStarted = performance.now();
    const installReused = existsSync(marker);
    if (!installReused) {
      rmSync(deploy.dir, { recursive: true, force: true });
      mkdirSync(deploy.dir, { recursive: true });
      for (const file of ['package.json', 'yarn.lock', '.yarnrc.yml'])
        cpSync(join(stageDir, file), join(deploy.dir, file));
      execFileSync('tar', [
        'xzf',
        join(dist, 'skeleton.tar.gz'),
        '-C',
        deploy.dir,
      ]);
      log(
        `yarn workspaces focus --all --production in ${deploy.dir} (offline, from yarn's cache)`,
      );
      run('yarn', ['workspaces', 'focus', '--all', '--production'], {
        cwd: deploy.dir,
        logFile,
        env: {
          ...process.env,
          YARN_ENABLE_NETWORK: '0',
          YARN_ENABLE_IMMUTABLE_INSTALLS: '0',
          YARN_ENABLE_TELEMETRY: '0',
        },
      });
      writeFileSync(marker, new Date().toISOString());
    }
    const installSeconds = (performance.now() - installStarted) / 1000;
    log(
      installReused
        ? `production dependencies reused from ${deploy.dir}`
        : `installed in ${installSeconds.toFixed(1)} s`,
    );

    // A fresh bundle over the installed dependencies: the workspaces' old files go first.
    for (const pkg of packages)
      rmSync(join(deploy.dir, pkg.dir), { recursive: true, force: true });
    execFileSync('tar', ['xzf', bundle, '-C', deploy.dir]);

    const builtEntry = join(deploy.dir, BACKEND_DIR, 'dist/index.cjs.js');
    const source = readFileSync(builtEntry, 'utf8');
    let entryWithoutPlugin: string | undefined;
    if (PLUGIN_LINE.test(source)) {
      entryWithoutPlugin = join(
        dirname(builtEntry),
        'index.without-im-approval.cjs.js',
      );
      writeFileSync(entryWithoutPlugin, source.replace(PLUGIN_LINE, ''));
    }
    return {
      dir: deploy.dir,
      entry: join(deploy.dir, BACKEND_DIR),
      entryWithoutPlugin,
      buildSeconds,
      installSeconds,
      installReused,
      release: deploy.release,
    };
  } catch (error) {
    deploy?.release();
    throw error;
  } finally {
    rmSync(stageDir, { recursive: true, force: true });
  }
}

export interface ProductionBackend {
  name: string;
  url: string;
  api: string;
  pid: number;
  /** Spawn to ready (the readiness endpoint answering 200), in ms. */
  startupMs: number;
  rssMb(): number;
  cpuSeconds(): number;
  fds(): { open: number; softLimit: number; hardLimit: number };
  /** The V8 heap in use after a full GC, and RSS after it, by the preloaded probe; undefined if it did not answer. */
  heap(): Promise<{ heapUsedMb: number; rssMb: number } | undefined>;
  logFile: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
/** Children are not left behind when the benchmark is interrupted. */
export function killChildren() {
  for (const child of running)
    if (child.exitCode === null) child.kill('SIGKILL');
}
process.once('exit', killChildren);

export function trackChild(child: ChildProcess) {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Starts one backend from the deployment: `node [-r heapProbe.cjs] <entry> --config app-config.yaml --config <layer>…`,
 * NODE_ENV=production, logs to a file. The probe only installs a SIGUSR2 handler that reports
 * `process.memoryUsage()` after a full GC; nothing else of the process changes.
 */
export async function startProductionBackend(
  deployment: Deployment,
  name: string,
  config: (port: number) => object[],
  options: { withoutPlugin?: boolean; heapProbe?: boolean } = {},
): Promise<ProductionBackend> {
  const entry = options.withoutPlugin
    ? deployment.entryWithoutPlugin
    : deployment.entry;
  if (!entry)
    throw new Error(
      'the built entry has no line adding the plugin to leave out',
    );
  const port = await freePort();
  const workDir = mkdtempSync(join(tmpdir(), `im-approval-bench-${name}-`));
  const configArgs = config(port).flatMap((layer, index) => {
    const file = join(workDir, `app-config.bench-${index}.json`);
    writeFileSync(file, JSON.stringify(layer));
    return ['--config', file];
  });
  const outputDir = join(repoRoot, '.test-output');
  mkdirSync(outputDir, { recursive: true });
  const logFile = join(outputDir, `bench-backend-${name}.log`);
  const logFd = openSync(logFile, 'w');
  const probeFile = join(workDir, 'heap.json');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    IM_APPROVAL_BENCH_PROBE_FILE: probeFile,
  };
  delete env.NODE_OPTIONS;
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(options.heapProbe === false ? [] : ['--require', PROBE]),
      // BENCH_CPU_PROF=<dir>: each backend writes a V8 CPU profile there when it stops, to see where its time goes.
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
        : []),
      entry,
      '--config',
      join(repoRoot, 'app-config.yaml'),
      ...configArgs,
    ],
    { cwd: deployment.dir, env, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  trackChild(child);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', code =>
      reject(
        new Error(`backend ${name} exited with ${code}:\n${tail(logFile)}`),
      ),
    ),
  );
  exited.catch(() => undefined);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${url}/.backstage/health/v1/readiness`).then(
        r => r.ok,
        () => false,
      ),
      exited,
    ]);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `backend ${name} did not become ready within 90 s:\n${tail(logFile)}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
  const startupMs = performance.now() - started;
  const pid = child.pid!;
  let probes = 0;

  return {
    name,
    url,
    api: `${url}/api/im-approval`,
    pid,
    startupMs,
    logFile,
    rssMb: () => processRssMb(pid),
    cpuSeconds: () => processCpuSeconds(pid, clockTicksPerSecond()),
    fds: () => processFdInfo(pid),
    async heap() {
      if (options.heapProbe === false) return undefined;
      const seq = ++probes;
      child.kill('SIGUSR2');
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        try {
          const report = JSON.parse(readFileSync(probeFile, 'utf8'));
          if (report.seq === seq)
            return {
              heapUsedMb: report.heapUsed / 2 ** 20,
              rssMb: report.rss / 2 ** 20,
            };
        } catch {
          // not written yet
        }
        await new Promise(r => setTimeout(r, 50));
      }
      return undefined;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.removeAllListeners('exit');
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      // A profiled backend writes its profile only when it exits of itself, after its shutdown.
      const killer = setTimeout(
        () => child.kill('SIGKILL'),
        process.env.BENCH_CPU_PROF ? 120_000 : 10_000,
      );
      await gone;
      clearTimeout(killer);
      running.delete(child);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}
