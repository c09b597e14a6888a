// Preloaded into a benchmarked backend (`node --require heapProbe.cjs …`): on SIGUSR2 it runs a
// full garbage collection and writes process.memoryUsage() to $IM_APPROVAL_BENCH_PROBE_FILE, so
// the benchmark can read the live heap without an inspector. Until the first signal nothing of
// the process changes; --expose-gc is switched on only then.
'use strict';
const { writeFileSync } = require('node:fs');

const file = process.env.IM_APPROVAL_BENCH_PROBE_FILE;
if (file) {
  let seq = 0;
  let gc;
  process.on('SIGUSR2', () => {
    seq += 1;
    if (!gc) {
      require('node:v8').setFlagsFromString('--expose-gc');
      gc = require('node:vm').runInNewContext('gc');
    }
    gc();
    writeFileSync(file, JSON.stringify({ seq, ...process.memoryUsage() }));
  });
}
