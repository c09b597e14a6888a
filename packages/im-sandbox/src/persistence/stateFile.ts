import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { ImDeliveryRecord } from '../delivery/log';
import { describeIssues } from '../validation';
import type { StateSnapshot } from './snapshot';

// A sandbox started with a state file keeps its IMs' instances, people, apps and delivery log
// across restarts, as a real tenant does: a backend's pending approvals can still be read, decided
// and reconciled after `bash scripts/start` runs again.

/** One IM's part of the file: its state and its delivery log. */
export interface PlatformSnapshot {
  state: StateSnapshot;
  deliveries: ImDeliveryRecord[];
}

export interface PersistablePlatform {
  snapshot(): PlatformSnapshot;
  restore(snapshot: PlatformSnapshot): void;
}

const FORMAT_VERSION = 1;

const fileSchema = z.object({
  version: z.literal(FORMAT_VERSION),
  platforms: z.record(
    z.string(),
    z.object({
      state: z.object({
        tables: z.record(
          z.string(),
          z.array(z.tuple([z.union([z.string(), z.number()]), z.unknown()])),
        ),
        counters: z.record(z.string(), z.number()),
      }),
      deliveries: z.array(z.unknown()),
    }),
  ),
});

/** Saves the IMs' state when it changed, at most once per `save()`; writes are atomic (a rename). */
export class SandboxStateFile {
  private lastWritten: string | undefined;

  constructor(
    readonly path: string,
    private readonly platforms: Record<string, PersistablePlatform>,
  ) {}

  /**
   * Restores what the file kept; false when there is no file yet. A file that cannot be read as a
   * state file is an error naming it: it is never silently replaced.
   */
  load(): boolean {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new Error(
        `cannot read the sandbox state file ${this.path}: ${(error as Error).message}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(
        `the sandbox state file ${this.path} is not JSON (${(error as Error).message}); delete it to start from the seed`,
      );
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `the sandbox state file ${this.path} is not one this sandbox wrote: ${describeIssues(parsed.error)}; delete it to start from the seed`,
      );
    }
    for (const [im, platform] of Object.entries(this.platforms)) {
      const kept = parsed.data.platforms[im];
      if (kept) platform.restore(kept as PlatformSnapshot);
    }
    this.lastWritten = text;
    return true;
  }

  save(): void {
    const platforms = Object.fromEntries(
      Object.entries(this.platforms).map(([im, platform]) => [
        im,
        platform.snapshot(),
      ]),
    );
    const text = JSON.stringify({ version: FORMAT_VERSION, platforms });
    if (text === this.lastWritten) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, this.path);
    this.lastWritten = text;
  }
}
