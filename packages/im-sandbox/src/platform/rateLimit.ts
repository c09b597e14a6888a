// A per-minute call budget over a sliding window, as the open platforms' frequency limits work.

const WINDOW_MS = 60_000;

export class RateLimit {
  private calls: number[] = [];

  constructor(public perMinute: number) {}

  /** Counts a call at `now`; false when the last minute's budget is already spent (the call is refused, not counted). */
  take(now: number): boolean {
    this.calls = this.calls.filter(at => at > now - WINDOW_MS);
    if (this.calls.length >= this.perMinute) return false;
    this.calls.push(now);
    return true;
  }

  reset(): void {
    this.calls = [];
  }
}

/**
 * Call budgets over several sliding windows per key (an app, or an app and one recipient): a call
 * counts against every window, and is refused, uncounted, when any window's budget is spent.
 */
export class SlidingWindows {
  private calls = new Map<string, number[]>();

  /** `windows`: [length in ms, calls allowed in it]. */
  take(key: string, now: number, windows: Array<[number, number]>): boolean {
    const longest = Math.max(...windows.map(([length]) => length));
    const calls = (this.calls.get(key) ?? []).filter(at => at > now - longest);
    const spent = windows.some(
      ([length, budget]) =>
        calls.filter(at => at > now - length).length >= budget,
    );
    if (!spent) calls.push(now);
    this.calls.set(key, calls);
    return !spent;
  }

  reset(): void {
    this.calls = new Map();
  }
}
