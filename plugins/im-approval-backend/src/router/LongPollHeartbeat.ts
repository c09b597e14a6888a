import type { Response } from 'express';

export interface HeldResponse {
  /** Whether the status and headers went out with a heartbeat: the answer must then be the body alone. */
  readonly committed: boolean;
  release(): void;
}

/**
 * Keeps held long-polls alive through whatever drops a silent connection: proxies and load
 * balancers after about a minute, fetch after five minutes without headers. One timer serves every
 * held response: at each beat it writes a space, which JSON allows before the value, so the answer
 * still parses as the approval. The first beat commits the status, 200; a failure after that can
 * only end the connection, which the Action takes as a reset and asks again.
 */
export class LongPollHeartbeat {
  private readonly held = new Set<{ res: Response; committed: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  hold(res: Response): HeldResponse {
    const entry = { res, committed: false };
    this.held.add(entry);
    this.timer ??= setInterval(() => this.beat(), this.intervalMs).unref();
    return {
      get committed() {
        return entry.committed;
      },
      release: () => {
        this.held.delete(entry);
        if (this.held.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  private beat() {
    for (const entry of this.held) {
      const { res } = entry;
      if (res.destroyed || res.writableEnded) continue;
      if (!res.headersSent) {
        res.status(200);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        // Nothing on the way may hold the beats back to compress or buffer them.
        res.setHeader('cache-control', 'no-store, no-transform');
        res.setHeader('x-accel-buffering', 'no');
        entry.committed = true;
      }
      res.write(' ');
    }
  }
}
