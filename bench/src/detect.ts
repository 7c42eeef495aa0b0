#!/usr/bin/env node
/**
 * npm run bench:detect — how well the detectors find anomalies: NAB and SKAB (nab/bench.js), then a
 * simulated fleet with every anomaly kind (detect-fleet.js), each in its own process, the second
 * only when the first succeeded. Each prints its figures and ends with one line of JSON.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '@tributary/runtime';

const USAGE = `usage: npm run bench:detect

The processor's default detection scored on NAB (in-sample, leave one category out, live alerts),
on the SKAB pump runs and by its false alarms on anomaly-free series of shapes the development sets
lack (tweet counts, server CPU, network bytes, ad exchange, coarse sensors), then on a simulated fleet with every anomaly kind, per kind; detection
throughput; the digest of every alert transition. Each half ends with one line of JSON
(docs/benchmarks.md).

Environment: SKAB_DIR (the SKAB runs; else a shared/skab folder beside the clone); the fleet's
BENCH_DAYS (4), BENCH_DEVICES (60), BENCH_SEED (21), BENCH_START (an ISO time, 2026-12-03T06:00Z),
BENCH_WORKERS (detection worker threads, 0). BENCH_ONLY (a comma list of nab, skab, unseen,
fleet) runs only those parts.

  -h, --help   prints this and exits
`;

parseCommandLine('bench:detect', USAGE, { options: {} });
for (const half of ['./nab/bench.js', './detect-fleet.js']) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(half, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
