/** The p-th percentile (nearest rank) of samples sorted ascending. */
export function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

export function summarize(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `runs=${sorted.length}  p50=${percentile(sorted, 50).toFixed(1)} ms  p99=${percentile(sorted, 99).toFixed(1)} ms  max=${sorted.at(-1)!.toFixed(1)} ms`;
}

export interface Quantiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function quantiles(samples: number[]): Quantiles {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1)!,
  };
}

export const describe = (q: Quantiles, unit = 'ms') =>
  `p50 ${q.p50.toFixed(1)} ${unit}  p99 ${q.p99.toFixed(1)} ${unit}  max ${q.max.toFixed(1)} ${unit}  (n=${q.n})`;
