import type { FaultRoute } from './state';

// Feishu's frequency limits per app, as its API reference states them (im-protocols.md 1.9):
// instance create, instance CC and subscribe 100/min, instance read 1,000/min and 50/s. Over the limit Feishu
// answers HTTP 400 with code 99991400 ("request trigger frequency limit").

export interface FeishuRateLimits {
  instanceCreatePerMinute: number;
  instanceCcPerMinute: number;
  instanceGetPerMinute: number;
  instanceGetPerSecond: number;
  subscribePerMinute: number;
}

export const FEISHU_RATE_LIMITS: Readonly<FeishuRateLimits> = {
  instanceCreatePerMinute: 100,
  instanceCcPerMinute: 100,
  instanceGetPerMinute: 1000,
  instanceGetPerSecond: 50,
  subscribePerMinute: 100,
};

/** The windows (length, budget) each limited route is counted in. */
function windowsOf(
  route: FaultRoute,
  limits: FeishuRateLimits,
): Array<[number, number]> {
  switch (route) {
    case 'instance.create':
      return [[60_000, limits.instanceCreatePerMinute]];
    case 'instance.cc':
      return [[60_000, limits.instanceCcPerMinute]];
    case 'instance.get':
      return [
        [60_000, limits.instanceGetPerMinute],
        [1000, limits.instanceGetPerSecond],
      ];
    case 'subscribe':
      return [[60_000, limits.subscribePerMinute]];
    default:
      return [];
  }
}

/** Sliding-window call budgets per app and route. */
export class FeishuRateLimiter {
  limits: FeishuRateLimits = { ...FEISHU_RATE_LIMITS };
  /** Calls refused for their frequency since the last reset. */
  refused = 0;
  private calls = new Map<string, number[]>();

  /** Counts a call at `now`; false (not counted) when a window's budget is spent. */
  take(appId: string, route: FaultRoute, now: number): boolean {
    const windows = windowsOf(route, this.limits);
    if (windows.length === 0) return true;
    const key = `${appId} ${route}`;
    const longest = Math.max(...windows.map(([length]) => length));
    const calls = (this.calls.get(key) ?? []).filter(at => at > now - longest);
    const spent = windows.some(
      ([length, budget]) =>
        calls.filter(at => at > now - length).length >= budget,
    );
    if (spent) {
      this.calls.set(key, calls);
      this.refused += 1;
      return false;
    }
    calls.push(now);
    this.calls.set(key, calls);
    return true;
  }

  /** Forgets the calls counted, and limits changed by a test. */
  reset(): void {
    this.limits = { ...FEISHU_RATE_LIMITS };
    this.calls = new Map();
    this.refused = 0;
  }
}
