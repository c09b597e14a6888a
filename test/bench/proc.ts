// What Linux says about a process, from /proc: resident memory, CPU time, file descriptors.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;
/** USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks =
        Number(
          execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(),
        ) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** VmRSS in MiB. */
export function processRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find(l => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}

/** utime + stime of the process (all its threads), in seconds. */
export function processCpuSeconds(
  pid: number,
  hz = clockTicksPerSecond(),
): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / hz;
}

export function processFdInfo(pid: number): {
  open: number;
  softLimit: number;
  hardLimit: number;
} {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find(l => l.startsWith('Max open files'));
  const [, soft, hard] =
    /Max open files\s+(\S+)\s+(\S+)/.exec(limits ?? '') ?? [];
  let open = NaN;
  try {
    open = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // not ours to read
  }
  const num = (value: string | undefined) =>
    value === 'unlimited' ? Infinity : Number(value);
  return { open, softLimit: num(soft), hardLimit: num(hard) };
}

/**
 * CPU time of every process with this command name (e.g. `postgres`: the server and its
 * connections), with that of their children that have exited, in seconds. Processes that exit
 * between two readings fall out of the later one, so compare readings over a steady pool.
 */
export function commandCpuSeconds(
  command: string,
  hz = clockTicksPerSecond(),
): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== command)
        continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime
      total += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    } catch {
      // gone between listing and reading, or not ours to read
    }
  }
  return total / hz;
}
