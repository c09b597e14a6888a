export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0 ≤ random() < 1; injectable so tests are exact. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: the n-th delay is drawn from [½, 1] × min(max, initial × 2ⁿ),
 * so many runners retrying against one recovering backend spread out instead of arriving together.
 */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  next(): number {
    const ceiling = Math.min(
      this.options.maxMs,
      this.options.initialMs * 2 ** this.attempt,
    );
    this.attempt += 1;
    const random = this.options.random ?? Math.random;
    return Math.round(ceiling * (0.5 + random() / 2));
  }
}

export const sleep = (ms: number) =>
  new Promise<void>(resolve => setTimeout(resolve, ms));
