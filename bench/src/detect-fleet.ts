/**
 * The second half of `npm run bench:detect`: a realistic simulated fleet (temperature/humidity
 * rooms, environment sensors with CO2 and pressure, machines whose vibration and current switch on
 * and off) with every anomaly kind injected, played through the agent's real ingest path and the
 * cloud's real detection (the default processor config), and scored against the ground truth:
 * precision, recall, F1 and median delay in windows per kind. Reported for all alerts, and after a
 * first learning day (anomalies of day 1 and the alerts about them left out, as NAB leaves out its
 * probationary rows), since a new series' levels and rhythms are unknown on its first day. Ends with one line of JSON.
 * BENCH_WORKERS=n runs detection over n worker threads, as the processor does (the figures are the
 * same as in one thread, 0, the default; only the throughput line differs).
 */
import { createHash } from 'node:crypto';
import { MACHINE } from '@tributary/cloud-processor';
import { fleetOptionsFromConfig, Rng } from '@tributary/device-simulator';
import { FleetConfigSchema } from '@tributary/firmware-schemas';
import { parseCommandLine } from '@tributary/runtime';
import { alertMatches, scoreAlerts, type Score } from '@tributary/device-simulator';
import { runOffline } from '@tributary/test/harness/offline.js';
import { median, oracleDriftDelay } from './drift-oracle.js';

const USAGE = `usage: node bench/dist/detect-fleet.js   (the second half of npm run bench:detect)

A simulated fleet with every anomaly kind through the agent's ingest and the cloud's detection,
scored per kind against the ground truth. Ends with one line of JSON.

Environment: BENCH_DAYS (4), BENCH_DEVICES (60), BENCH_SEED (21), BENCH_START (an ISO time,
2026-12-03T06:00Z), BENCH_WORKERS (detection worker threads, 0), BENCH_WINDOW_MS (the agent's
window, 300000; 60000 is the agent's default); BENCH_ONLY without fleet (a
comma list of nab, skab, unseen, fleet) leaves it out.

  -h, --help   prints this and exits
`;

parseCommandLine('bench:detect (fleet)', USAGE, { options: {} });
// BENCH_ONLY (nab, skab, unseen, fleet; see nab/bench.ts) may leave the fleet out.
if (
  !(process.env.BENCH_ONLY ?? 'fleet')
    .split(',')
    .map((x) => x.trim())
    .includes('fleet')
)
  process.exit(0);

// Five-minute windows by default (the figures of every earlier stop); BENCH_WINDOW_MS=60000 plays
// the agent's default window, where the detectors see five times as many windows a day.
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 300_000);
const DAY_MS = 86_400_000;
const days = Number(process.env.BENCH_DAYS ?? 4);
const devices = Number(process.env.BENCH_DEVICES ?? 60);
const workers = Number(process.env.BENCH_WORKERS ?? 0);
const seed = Number(process.env.BENCH_SEED ?? 21);
const durationMs = days * DAY_MS;
// A fixed start (a Thursday: the four days hold a weekend, when offices' CO2 stays low), so that
// runs on different days compare; BENCH_START (an ISO time) moves it to see the spread.
const startMs = Math.floor(Date.parse(process.env.BENCH_START ?? '2026-12-03T06:00:00Z') / WINDOW_MS) * WINDOW_MS;
if (!Number.isFinite(startMs) || !Number.isInteger(seed) || !Number.isInteger(WINDOW_MS) || WINDOW_MS < 1_000)
  throw new Error(
    `BENCH_START must be an ISO time, BENCH_SEED an integer and BENCH_WINDOW_MS whole milliseconds of at least 1000 (got ${process.env.BENCH_START}, ${process.env.BENCH_SEED}, ${process.env.BENCH_WINDOW_MS})`,
  );
const fleetConfig = FleetConfigSchema.parse({
  seed,
  devices,
  anomalies: { ratePerSeriesPerDay: 1, warmupMs: 4 * 3_600_000, gapMs: 3 * 3_600_000 },
});

const run = await runOffline(fleetOptionsFromConfig(fleetConfig, startMs, durationMs), {
  windowMs: WINDOW_MS,
  processor: { detection: { workers } },
});
const opened = run.alerts.filter((a) => a.state === 'opened');
const options = { earlyMs: WINDOW_MS, lateMs: 2 * WINDOW_MS };
const all = scoreAlerts(run.fleet.labels, opened, options);
const learnt = startMs + DAY_MS;
// An alert raised after the first day about an anomaly that began in it is left out with that
// anomaly: it is neither false nor a find.
const labelsAfter = run.fleet.labels.filter((l) => l.start >= learnt);
const labelsOfDay1 = run.fleet.labels.filter((l) => l.start < learnt);
const alertsAfter = opened.filter(
  (a) =>
    a.openedAt >= learnt &&
    !(labelsOfDay1.some((l) => alertMatches(a, l, options)) && !labelsAfter.some((l) => alertMatches(a, l, options))),
);
const afterDay1 = scoreAlerts(labelsAfter, alertsAfter, options);

/** Where the false alerts after day 1 come from: detector, the member that spoke (its reason's first words) and metric. */
function falseAlertSources(): string {
  const counts = new Map<string, number>();
  for (const a of alertsAfter) {
    if (labelsAfter.some((l) => alertMatches(a, l, options))) continue;
    const member = a.detector === 'ensemble' ? a.message.slice(0, Math.max(0, a.message.indexOf(':'))) : '';
    const key = `${a.detector}${member ? ` (${member})` : ''}, ${a.metric}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return ['False alerts after day 1 by source', ...rows.map(([k, n]) => `  ${String(n).padStart(4)}  ${k}`)].join('\n');
}

function table(title: string, s: Score): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(8);
  const rows = [
    `${title}`,
    `  ${'kind'.padEnd(13)}${'labels'.padStart(7)}${'found'.padStart(7)}${'precision'.padStart(10)}${'recall'.padStart(8)}${'F1'.padStart(8)}${'median delay'.padStart(15)}`,
  ];
  for (const [kind, k] of Object.entries(s.byKind).sort(([a], [b]) => a.localeCompare(b))) {
    const delay = k.medianDelayMs === undefined ? '-' : `${(k.medianDelayMs / WINDOW_MS).toFixed(1)} windows`;
    rows.push(
      `  ${kind.padEnd(13)}${String(k.labels).padStart(7)}${String(k.detected).padStart(7)}${pct(k.precision).padStart(10)}${pct(k.recall)}${pct(k.f1)}${delay.padStart(15)}`,
    );
  }
  rows.push(
    `  ${'all'.padEnd(13)}${String(s.labels).padStart(7)}${String(s.detected).padStart(7)}${pct(s.precision).padStart(10)}${pct(s.recall)}${pct(s.f1)}   alerts ${s.alerts}, false ${s.falsePositiveAlerts}`,
  );
  return rows.join('\n');
}

// Drift delay beside its reference: per sensor kind, the ensemble's median delay and an oracle's
// (drift-oracle.ts) on the same drifts after day 1, at two false-alarm rates: a false alarm on half
// of all series-days, and on one series-day in 30 (near the ensemble's rate for all its false alerts).
const oracleRng = new Rng('drift-oracle');
const FALSE_ALARM_RATES = [0.5, 1 / 30];
const driftRows = labelsAfter
  .filter((l) => l.kind === 'drift')
  .map((l) => {
    const device = run.fleet.devices.find((d) => d.spec.id === l.device)!.spec;
    const series = device.series.find((s) => s.signal.kind.metric === l.metric)!;
    const firstWindow = Math.floor(l.start / WINDOW_MS) * WINDOW_MS;
    const drift = {
      kind: series.signal.kind,
      readingsPerWindow: WINDOW_MS / (series.every * device.periodMs),
      magnitude: Math.abs(l.magnitude),
      rampWindows: Math.max(1, Math.round((l.end - l.start) / WINDOW_MS)),
      startInWindow: (l.start - firstWindow) / WINDOW_MS,
    };
    const hits = alertsAfter
      .filter((a) => alertMatches(a, l, options))
      .map((a) => Math.max(0, a.openedAt - l.start) / WINDOW_MS);
    return {
      metric: l.metric,
      ensemble: hits.length ? Math.min(...hits) : undefined,
      oracle: FALSE_ALARM_RATES.map((rate) => oracleDriftDelay(drift, WINDOW_MS, oracleRng, rate)),
    };
  });
const driftLine = (name: string, rows: typeof driftRows): string => {
  const found = rows.flatMap((r) => (r.ensemble === undefined ? [] : [r.ensemble]));
  const oracles = FALSE_ALARM_RATES.map((_, i) =>
    median(rows.map((r) => r.oracle[i]!))
      .toFixed(1)
      .padStart(14),
  );
  return `  ${name.padEnd(13)}${String(rows.length).padStart(7)}${(found.length ? median(found).toFixed(1) : '-').padStart(10)}${oracles.join('')}`;
};
const driftMetrics = [...new Set(driftRows.map((r) => r.metric))].sort();
process.stdout.write(
  [
    "Drift: median delay in windows after day 1, beside an oracle told the level, the weather's law and the drift's shape",
    `  ${'metric'.padEnd(13)}${'drifts'.padStart(7)}${'ensemble'.padStart(10)}${'oracle ½/day'.padStart(14)}${'oracle 1/30d'.padStart(14)}`,
    ...driftMetrics.map((m) =>
      driftLine(
        m,
        driftRows.filter((r) => r.metric === m),
      ),
    ),
    driftLine('all', driftRows),
    '  (oracle x/day: allowed a false alarm on that share of series-days; the ensemble raised 1 per ' +
      Math.round(seriesDaysAfter() / Math.max(1, afterDay1.falsePositiveAlerts)) +
      ' series-days, of all kinds)',
  ].join('\n') + '\n\n',
);

const windowsPerS = run.windows / run.detectionSeconds;
process.stdout.write(
  `Simulated fleet: ${devices} devices, ${days} days, ${run.readings} readings → ${run.windows} windows of ${WINDOW_MS / 1000} s, ${run.fleet.labels.length} anomalies injected\n\n`,
);
process.stdout.write(
  `${table('All alerts', all)}\n\n${table('After the first (learning) day', afterDay1)}\n\n${falseAlertSources()}\n\n`,
);
// Every transition (series' and devices'), as a set: equal digests, equal alerts, whatever the worker count (which orders a batch's alerts by worker).
const digest = createHash('sha256')
  .update(
    run.alerts
      .map((a) => JSON.stringify(a))
      .sort()
      .join('\n'),
  )
  .digest('hex')
  .slice(0, 16);
process.stdout.write(
  `alert transitions: ${run.alerts.length}, ${run.alerts.filter((a) => a.detector === MACHINE).length} of them machines' (sha256 of the set ${digest}; the fleet plays from ${new Date(startMs).toISOString()})\n`,
);
if (run.workers === 0)
  process.stdout.write(
    `detection throughput: ${Math.round(windowsPerS).toLocaleString('en')} windows/s on one core (${run.detectionSeconds.toFixed(2)} s of ${run.seconds.toFixed(2)} s in detection; the rest is the simulator and the agent's ingest)\n`,
  );
else
  process.stdout.write(
    `detection on ${run.workers} worker threads, beside the simulator and the agent's ingest in this one: ${run.seconds.toFixed(2)} s in all, ${run.detectionSeconds.toFixed(2)} s of it handing batches over and waiting for the last answers\n`,
  );

const figures: Record<string, number> = {
  fleet_seed: seed,
  fleet_start_ms: startMs,
  fleet_window_ms: WINDOW_MS,
  fleet_devices: devices,
  fleet_days: days,
  fleet_labels: all.labels,
  detection_workers: run.workers,
  ...(run.workers === 0 ? { windows_per_s_detection: Math.round(windowsPerS) } : {}),
  precision_all: round(all.precision),
  recall_all: round(all.recall),
  f1_all: round(all.f1),
  precision_after_day1: round(afterDay1.precision),
  recall_after_day1: round(afterDay1.recall),
  f1_after_day1: round(afterDay1.f1),
};
for (const [kind, k] of Object.entries(afterDay1.byKind)) {
  const key = kind.replace(/-/g, '_');
  figures[`f1_after_day1_${key}`] = round(k.f1);
  if (k.medianDelayMs !== undefined) figures[`median_delay_windows_${key}`] = round(k.medianDelayMs / WINDOW_MS);
}
FALSE_ALARM_RATES.forEach(
  (rate, i) =>
    (figures[`oracle_median_delay_windows_drift_fa_per_series_day_${rate.toFixed(3)}`] = round(
      median(driftRows.map((r) => r.oracle[i]!)),
    )),
);
process.stdout.write(`${JSON.stringify(figures)}\n`);

/** Series-days after day 1: each series the fleet plays, over the days after the first. */
function seriesDaysAfter(): number {
  return run.fleet.devices.reduce((n, d) => n + d.spec.series.length, 0) * (days - 1);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
