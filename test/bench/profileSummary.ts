// `yarn bench:profile <file.cpuprofile>…`: where a backend's CPU went, from the V8 profiles that
// `BENCH_CPU_PROF=<dir> yarn bench …` has each backend write when it stops. Self time by package
// (the node_modules package, the plugin, or Node's own code) and the functions that cost most,
// alone and with what they call. `--skip S` leaves out the first S seconds (the start-up).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Samples before this many seconds into a profile are left out: a backend's start-up is not its steady state. */
let skipSeconds = 0;

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

/** The package a script belongs to: the last node_modules package in its path, else its workspace folder. */
function packageOf(url: string, functionName: string): string {
  if (IDLE.has(functionName)) return functionName;
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node';
  const modules = url.split('/node_modules/');
  if (modules.length > 1) {
    const rest = modules[modules.length - 1].split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const plugin = /\/(plugins|packages)\/([^/]+)\//.exec(url);
  return plugin ? plugin[2] : url;
}

function summarise(file: string) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map(node => [node.id, node]));
  const selfUs = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= skipSeconds * 1e6)
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    if (IDLE.has(functionName)) continue;
    busy += us;
    const name = `${functionName || '(anonymous)'}  ${pkg}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (IDLE.has(byId.get(id)!.callFrame.functionName)) continue;
    const seen = new Set<string>();
    for (
      let at: number | undefined = id;
      at !== undefined;
      at = parent.get(at)
    ) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (!functionName || functionName === '(root)') continue;
      seen.add(
        `${functionName}  ${packageOf(url, functionName)}:${lineNumber + 1}`,
      );
    }
    for (const name of seen)
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map]
      .filter(([name]) => !IDLE.has(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(
        ([name, us]) =>
          `    ${(us / 1000).toFixed(0).padStart(7)} ms  ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${name}`,
      )
      .join('\n');
  console.log(`${file}: ${(busy / 1000).toFixed(0)} ms on the CPU`);
  console.log(`  by package (self time):\n${top(byPackage, 15)}`);
  console.log(`  by function (self time):\n${top(byFunction, 25)}`);
  console.log(`  by function (with what it calls):\n${top(inclusive, 60)}`);
}

const args = process.argv.slice(2);
if (args[0] === '--skip') {
  skipSeconds = Number(args[1]);
  args.splice(0, 2);
}
const files = args;
if (files.length === 0 || !Number.isFinite(skipSeconds)) {
  console.error(
    'usage: yarn bench:profile [--skip SECONDS] <file.cpuprofile>…',
  );
  process.exit(2);
}
files.forEach(summarise);
