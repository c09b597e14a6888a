// Baseline processes: plain Node servers from bare/, measured like the backend (from /proc).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { trackChild } from './production';
import { clockTicksPerSecond, processCpuSeconds, processRssMb } from './proc';

export interface BareServer {
  url: string;
  pid: number;
  /** What the first line of output said besides the port. */
  info: Record<string, unknown>;
  cpuSeconds(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

export async function startBare(
  script: 'roundTripServer' | 'verifyServer',
  env: Record<string, string> = {},
): Promise<BareServer> {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'bare', `${script}.cjs`)],
    {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  trackChild(child);
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', line => resolve(line));
    child.once('exit', code =>
      reject(new Error(`bare ${script} exited with ${code}`)),
    );
  });
  const info = JSON.parse(first);
  const pid = child.pid!;
  return {
    url: `http://127.0.0.1:${info.port}`,
    pid,
    info,
    cpuSeconds: () => processCpuSeconds(pid, clockTicksPerSecond()),
    rssMb: () => processRssMb(pid),
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
