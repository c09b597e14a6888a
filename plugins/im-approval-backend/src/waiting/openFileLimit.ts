import type { LoggerService } from '@backstage/backend-plugin-api';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** Descriptors kept for the database, IM connections, logs and the rest of the backend. */
const RESERVED = 200;

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** This process's open-file limits, from /proc (Linux); undefined elsewhere. */
export async function readOpenFileLimit(
  limitsFile = '/proc/self/limits',
): Promise<OpenFileLimit | undefined> {
  const text = await readFile(limitsFile, 'utf8').catch(() => undefined);
  const match = text?.match(
    /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m,
  );
  if (!match) return undefined;
  const value = (field: string) =>
    field === 'unlimited' ? Infinity : Number(field);
  return { soft: value(match[1]), hard: value(match[2]) };
}

/**
 * Each waiting Action holds a socket. Node cannot raise its own soft limit, so where util-linux's
 * `prlimit` is present the soft limit is raised to the hard one (no privilege needed); either way
 * the log says how many waiters this process can hold, so an operator knows before it matters.
 */
export async function raiseOpenFileLimit(
  logger: LoggerService,
): Promise<OpenFileLimit | undefined> {
  let limit = await readOpenFileLimit();
  if (!limit) return undefined;
  if (limit.soft < limit.hard && Number.isFinite(limit.hard)) {
    await promisify(execFile)('prlimit', [
      `--pid=${process.pid}`,
      `--nofile=${limit.hard}:${limit.hard}`,
    ]).catch(() => undefined);
    limit = (await readOpenFileLimit()) ?? limit;
  }
  const holds = Math.max(0, limit.soft - RESERVED);
  const message = `Open-file limit ${limit.soft} (hard ${limit.hard}): room for about ${holds} waiting Actions on this replica`;
  if (holds < 5_000)
    logger.warn(`${message}; raise LimitNOFILE / ulimit -n for more`);
  else logger.info(message);
  return limit;
}
