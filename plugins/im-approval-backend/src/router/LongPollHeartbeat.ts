import type { Response } from 'express';

interface Held {
  res: Response;
  dueAt: number;
}

/**
 * Keeps held long-polls alive through whatever drops a silent connection: proxies and load
 * balancers after about a minute, fetch after five minutes without headers. Each held response
 * gets a space every interval, which JSON allows before the value, so the answer still parses as
 * the approval. The first beat commits the status, 200; a failure after that can only end the
 * connection, which the Action takes as a reset and asks again.
 *
 * One timer serves every held response, and beats each one an interval after it came (or after
 * its last beat), so beats are spread as the polls arrived: writing to thousands of sockets at
 * the same instant overflows the network's queues and stalls the event loop.
 */
export class LongPollHeartbeat {
  /** In the order their beats fall due: each is added, and added again after a beat, an interval ahead. */
  private readonly held = new Set<Held>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(private readonly intervalMs: number) {
    this.tickMs = Math.max(1, Math.min(1000, intervalMs / 10));
  }

  /**
   * Beats `res` until released. Once a beat has gone out, `res.headersSent` is true and the answer
   * must be the body alone.
   */
  hold(res: Response): { release(): void } {
    const entry: Held = { res, dueAt: Date.now() + this.intervalMs };
    this.held.add(entry);
    this.timer ??= setInterval(() => this.beatDue(), this.tickMs).unref();
    return {
      release: () => {
        this.held.delete(entry);
        if (this.held.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  private beatDue() {
    const now = Date.now();
    for (const entry of this.held) {
      if (entry.dueAt > now) return;
      this.held.delete(entry);
      const { res } = entry;
      if (res.destroyed || res.writableEnded) continue;
      if (!res.headersSent) {
        res.status(200);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        // Nothing on the way may hold the beats back to compress or buffer them.
        res.setHeader('cache-control', 'no-store, no-transform');
        res.setHeader('x-accel-buffering', 'no');
      }
      res.write(' ');
      entry.dueAt = now + this.intervalMs;
      this.held.add(entry);
    }
  }
}
