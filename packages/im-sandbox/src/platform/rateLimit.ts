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
