import { Backoff } from './backoff';

describe('Backoff', () => {
  it('doubles up to the maximum, never below half of each step', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const high = new Backoff({
      initialMs: 100,
      maxMs: 1000,
      random: () => 0.999999,
    });
    expect(Array.from({ length: 6 }, () => low.next())).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('spreads retries of many clients over the step', () => {
    const delays = new Set(
      Array.from({ length: 50 }, () =>
        new Backoff({ initialMs: 1000, maxMs: 1000 }).next(),
      ),
    );
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(500);
  });
});
