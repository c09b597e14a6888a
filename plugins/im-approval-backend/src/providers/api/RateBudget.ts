import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { ApiCall } from './requestJson';

/** At most `count` calls in any `windowMs`, counted under `name` (calls of one limit share it). */
export interface RateLimit {
  name: string;
  count: number;
  windowMs: number;
}

export interface RateClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: RateClock = {
  now: () => Date.now(),
  sleep: ms => new Promise<void>(resolve => setTimeout(resolve, ms)),
};

/**
 * How long a call may wait for room. Longer, and it is refused as rate-limited, which its caller
 * treats as any throttling by the IM: the approval stays pending and is tried again later.
 */
export const MAX_RATE_WAIT_MS = 5_000;

/** A call counted against limits: when it was made, or, once answered, when its answer came. */
interface Counted {
  at: number;
  answered: boolean;
}

/**
 * One app's documented rate limits, shared by every caller in this process (creation, callbacks,
 * the reconciler, lookups), so that bursts are spaced here instead of refused by the IM.
 *
 * The IM counts a call when it arrives, which is some time after it is sent; so a call counts
 * here from when it is sent until its answer comes, and then as of its answer. A call in flight
 * holds its place in every window: the IM may see it at any moment.
 */
export class RateBudget {
  private readonly counted = new Map<string, Counted[]>();

  private readonly clock: RateClock;
  private readonly enabled: boolean;

  constructor(
    private readonly im: string,
    private readonly limitsOf: (call: ApiCall) => RateLimit[],
    /** `enabled: false` (`imApproval.imRateLimits: off`) sends every call as it comes. */
    options: { enabled?: boolean; clock?: RateClock } = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.clock = options.clock ?? realClock;
  }

  /** Makes the call (`send`) once every limit it counts against has room. */
  async run<T>(call: ApiCall, send: () => Promise<T>): Promise<T> {
    const limits = this.enabled ? this.limitsOf(call) : [];
    if (limits.length === 0) return send();
    const deadline = this.clock.now() + MAX_RATE_WAIT_MS;
    for (;;) {
      const now = this.clock.now();
      const { at, limit } = this.firstRoom(limits, now);
      if (at <= now) break;
      if (at > deadline)
        throw new ImApiError(
          'rate_limited',
          `${this.im} allows ${limit!.count} calls per ${limit!.windowMs / 1000} s to ${call.operation} for this app, ` +
            `and the calls already made leave no room for ${((at - now) / 1000).toFixed(0)} s; retrying later ` +
            '(for an app whose quota was raised, set imApproval.imRateLimits: off)',
        );
      await this.clock.sleep(at - now);
    }
    const counted: Counted = { at: this.clock.now(), answered: false };
    for (const limit of limits) this.calls(limit).push(counted);
    try {
      return await send();
    } finally {
      counted.at = this.clock.now();
      counted.answered = true;
    }
  }

  /** The first moment every limit has room for one more call, and the limit that decides it. */
  private firstRoom(limits: RateLimit[], now: number) {
    let at = now;
    let deciding: RateLimit | undefined;
    for (const limit of limits) {
      const calls = this.calls(limit);
      // Answered calls that have left the window no longer count.
      const kept = calls.filter(
        c => !c.answered || c.at > now - limit.windowMs,
      );
      calls.splice(0, calls.length, ...kept);
      if (kept.length < limit.count) continue;
      const times = kept
        .map(c => (c.answered ? c.at : now))
        .sort((a, b) => a - b);
      const free = times[times.length - limit.count] + limit.windowMs;
      if (free > at) {
        at = free;
        deciding = limit;
      }
    }
    return { at, limit: deciding };
  }

  private calls(limit: RateLimit): Counted[] {
    let calls = this.counted.get(limit.name);
    if (!calls) {
      calls = [];
      this.counted.set(limit.name, calls);
    }
    return calls;
  }
}
