#!/usr/bin/env node
/** Where the SKAB changepoint score is lost, run by run (usage below). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { detectorPlans, MACHINE } from '@tributary/cloud-processor';
import { commandLineError, parseCommandLine } from '@tributary/runtime';
import { pointsPerRaw, runLedger, type RunLedger } from './breakdown.js';
import { defaultSkabDir, loadSkab, SKAB_TRAINING_ROWS, type SkabRun } from './data.js';
import { withSensitivity } from './evaluate.js';
import { playRun, scoredRun } from './run.js';

const USAGE = `usage: node bench/dist/skab/analyse.js [--sensitivity K] [--without CHANNEL]... [--trace RUN] [--from ROW] [--to ROW]

The machine's live alerts on each valve1 run (the processor's defaults), run by run: every true
changepoint's window, its first alarm's delay and score, every alarm outside a window (an alert
opening or closing, inside the labelled fault or not, seconds from the nearest changepoint), and
the points of the pooled standard score each run loses; then the losses pooled by kind.

  --sensitivity K   the live decision's sensitivity (1)
  --without CHANNEL the runs played without that channel (what it costs or brings), repeatable
  --trace RUN       also prints that run's (e.g. 3) machine verdict row by row, ROW --from to --to
  -h, --help        prints this and exits

SKAB_DIR: the SKAB slice (else a shared/skab folder beside the clone).
`;

const { values } = parseCommandLine('skab-analyse', USAGE, {
  options: {
    sensitivity: { type: 'string' },
    without: { type: 'string', multiple: true },
    trace: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
});
const sensitivity = Number(values.sensitivity ?? 1);
if (!(sensitivity > 0))
  commandLineError('skab-analyse', USAGE, `--sensitivity must be a positive number (got ${values.sensitivity})`);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = defaultSkabDir(repoRoot);
if (dir === undefined) commandLineError('skab-analyse', USAGE, 'no SKAB folder: set SKAB_DIR');
const config = withSensitivity(ProcessorConfigSchema.parse({}), sensitivity);
const without = values.without ?? [];
const runs = loadSkab(dir, ['valve1']).map(
  (r): SkabRun => ({
    ...r,
    channels: r.channels.filter((c) => !without.includes(c)),
    values: r.values.filter((_, k) => !without.includes(r.channels[k]!)),
  }),
);

const s = (ms: number): string => `${Math.round(ms / 1000)}`;
const rowOf = (run: SkabRun, ts: number): number => run.ts.indexOf(ts);
const ledgers: { run: SkabRun; ledger: RunLedger; spans: string }[] = [];
for (const run of runs) {
  const live = playRun(run, config);
  const ledger = runLedger(scoredRun(live, [MACHINE]));
  // The machine's alerts as row spans (opened-resolved), training rows included.
  const open = live.open.get(MACHINE);
  const spans: string[] = [];
  for (let i = 0; open && i < open.length; i++)
    if (open[i] && !open[i - 1]) spans.push(`${i}-${open.indexOf(0, i) < 0 ? 'end' : open.indexOf(0, i)}`);
  ledgers.push({ run, ledger, spans: spans.join(' ') });
}
const windows = ledgers.reduce((n, l) => n + l.ledger.windows.length, 0);
const points = pointsPerRaw(windows);

console.log(`SKAB valve1, the machine's live alerts at sensitivity ${sensitivity}; rows from the file's start`);
console.log(
  'run   windows: left row +first alarm s (score)              false alarms: row on/off, in fault, s from nearest CP   lost pts  alerts (rows)',
);
for (const { run, ledger, spans } of ledgers) {
  const w = ledger.windows
    .map(
      (x) =>
        `${rowOf(run, x.left)}${x.delayMs === undefined ? ' missed' : ` +${s(x.delayMs)} (${x.score.toFixed(2)})`}`,
    )
    .join(', ');
  const f = ledger.falseAlarms
    .map(
      (a) =>
        `${rowOf(run, a.ts)} ${a.on ? 'on' : 'off'}${a.inFault ? ' in' : ''} ${a.fromChangepointMs > 0 ? '+' : ''}${s(a.fromChangepointMs)}`,
    )
    .join(', ');
  console.log(
    `${run.name.padEnd(14)} ${w.padEnd(52)} ${f.padEnd(44)} ${((ledger.perfect - ledger.score) * points).toFixed(2).padStart(5)}  alerts ${spans}`,
  );
}

// Pooled: each window's position in its run (1st changepoint, 2nd, ...), missed or late; false alarms by kind.
const byPosition = new Map<number, { missed: number; lateLoss: number; count: number }>();
const falseKinds = new Map<string, number>();
for (const { ledger } of ledgers) {
  ledger.windows.forEach((w, k) => {
    const e = byPosition.get(k) ?? { missed: 0, lateLoss: 0, count: 0 };
    e.count++;
    if (w.delayMs === undefined) e.missed++;
    else e.lateLoss += 1 - w.score;
    byPosition.set(k, e);
  });
  for (const a of ledger.falseAlarms) {
    const kind = `${a.on ? 'opening' : 'closing'} ${a.inFault ? 'inside the fault' : a.fromChangepointMs < 0 ? 'before its changepoint' : 'after its changepoint'}`;
    falseKinds.set(kind, (falseKinds.get(kind) ?? 0) + 1);
  }
}
const total = ledgers.reduce((t, l) => t + l.ledger.score, 0);
// One alert a fault switches the prediction twice: of a run's changepoints, at most two are found
// (its opening at one window's left edge, its closing at another's), the others are missed.
const ceiling = ledgers.reduce((t, l) => {
  const n = l.ledger.windows.length;
  return t + Math.min(n, 2) - (n - Math.min(n, 2));
}, 0);
console.log(
  `\npooled standard score ${((100 * (total + windows)) / (2 * windows)).toFixed(2)} (one alert a fault, opened and closed at windows' left edges: ${((100 * (ceiling + windows)) / (2 * windows)).toFixed(2)}); points lost (of 100):`,
);
for (const [k, e] of [...byPosition].sort((a, b) => a[0] - b[0]))
  console.log(
    `  changepoint ${k + 1} of its run: ${e.missed}/${e.count} missed ${(2 * e.missed * points).toFixed(2)}, late ${(e.lateLoss * points).toFixed(2)}`,
  );
for (const [k, n] of falseKinds) console.log(`  false alarm, ${k}: ${n} ${(0.11 * n * points).toFixed(2)}`);

if (values.trace !== undefined) {
  const run = runs.find((r) => r.name === `valve1/${values.trace}.csv`);
  if (!run) commandLineError('skab-analyse', USAGE, `--trace names a valve1 run, e.g. 3 (got ${values.trace})`);
  const machine = detectorPlans(config.detection).device!.create();
  const from = Number(values.from ?? SKAB_TRAINING_ROWS);
  const to = Number(values.to ?? run.ts.length);
  console.log(`\n${run.name}: row, truth, changepoint, surprise, hold, the metrics that moved (share, up/down)`);
  for (let i = 0; i < run.ts.length; i++) {
    const v = machine.update(run.ts[i]!, new Map(run.channels.map((c, k) => [c, run.values[k]![i]!])));
    if (i < from || i >= to) continue;
    const moved = v.moved.map((m) => `${m.metric} ${Math.round(100 * m.share)}${m.up ? '+' : '-'}`).join(' ');
    console.log(
      `${i} ${run.anomaly[i]} ${run.changepoint[i]} ${(v.surprise ?? 0).toFixed(2)} ${(v.hold ?? 0).toFixed(2)} ${moved}`,
    );
  }
}
