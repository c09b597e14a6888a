// Waiting for processes to go quiet: work an answer left running in the background counts too.

export const sleep = (msec: number) => new Promise(r => setTimeout(r, msec));

/** Resolves once `cpu()` (CPU-seconds) grows by less than `share` of a core for `quietMs`; at most `maxMs`. */
export async function settled(
  cpu: () => number,
  { share = 0.1, quietMs = 600, maxMs = 60_000, sampleMs = 200 } = {},
) {
  const until = Date.now() + maxMs;
  let last = cpu();
  let lastAt = performance.now();
  let quietSince = performance.now();
  while (Date.now() < until) {
    await sleep(sampleMs);
    const now = performance.now();
    const used = cpu();
    const busy = (used - last) / ((now - lastAt) / 1000);
    last = used;
    lastAt = now;
    if (busy > share) quietSince = now;
    else if (now - quietSince >= quietMs) return;
  }
}
