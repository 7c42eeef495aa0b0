/**
 * `npm run bench:detect` (first half): the processor's default detection (what `tributary-cloud`
 * and `tributary-replay` run with an empty config) on the development sets, scored three ways:
 *
 * - in-sample: NAB's protocol, the best global threshold fitted on the very files it scores;
 * - cross-validated: leave one NAB category out (threshold fitted on the others), and for SKAB
 *   the sensitivity fitted on half of the runs applied to the other half: what new data gets;
 * - live: alerts as the processor opens them (opened alert = detection), no threshold fitted.
 *
 * Every run is strict streaming (fresh state per series, rows in order, never a series' length or
 * range). Then false alarms on anomaly-free series of shapes the development sets lack
 * (unseen/families.ts), and throughput on one core. Ends with one line of JSON holding the
 * figures. BENCH_ONLY (a comma list of nab, skab, unseen, fleet) runs only those parts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { parseCommandLine } from '@tributary/runtime';
import { detectorPlans } from '@tributary/cloud-processor';
import { MACHINE } from '@tributary/cloud-processor';
import { defaultSkabDir, loadSkab } from '../skab/data.js';
import { figuresOf, playGrid, SENSITIVITY_GRID, splitHalf, type SkabFigures } from '../skab/evaluate.js';
import { playRun, scoredRun } from '../skab/run.js';
import { defaultNabDir, loadCorpus, scoresFromResults } from './corpus.js';
import { leaveOneCategoryOut } from './cross-validate.js';
import { parseResultsCsv } from '@tributary/cloud-processor';
import { liveDetections, OPENED } from './live.js';
import { PROFILE_KEYS } from './report.js';
import { runCorpus } from './run.js';
import { scoreAll, scoreAtThreshold, type ScoredFile } from './score.js';
import { FAMILIES } from '../unseen/families.js';
import { falseAlarms, SEEDS } from '../unseen/false-alarms.js';

const USAGE = `usage: node bench/dist/nab/bench.js   (the first half of npm run bench:detect)

The processor's default detection scored on NAB (in-sample, leave one category out, live alerts)
and on the SKAB pump runs (SKAB_DIR, else a shared/skab folder beside the clone), then its
throughput on one core. Ends with one line of JSON. BENCH_ONLY (a comma list of nab, skab, unseen,
fleet) runs only those parts.

  -h, --help   prints this and exits
`;

parseCommandLine('bench:detect (NAB and SKAB)', USAGE, { options: {} });
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const figures: Record<string, number | string> = { mode: 'strict-streaming', config: 'processor defaults' };
const out = (s: string): void => void process.stdout.write(`${s}\n`);
const round = (x: number): number => Math.round(x * 100) / 100;
const f2 = (x: number): string => x.toFixed(2).padStart(8);

const config = ProcessorConfigSchema.parse({});
const only = new Set((process.env.BENCH_ONLY ?? 'nab,skab,unseen,fleet').split(',').map((x) => x.trim()));
for (const part of only)
  if (!['nab', 'skab', 'unseen', 'fleet'].includes(part))
    throw new Error(`BENCH_ONLY names nab, skab, unseen or fleet (got ${part})`);
const plan = detectorPlans(config.detection)('value');

// NAB --------------------------------------------------------------------------------------------
const nabDir = defaultNabDir(repoRoot);
const corpus = loadCorpus(nabDir); // throws, naming the folder, when it holds no data files
const rows = corpus.files.reduce((s, f) => s + f.rows.length, 0);
const windows = corpus.files.reduce((s, f) => s + f.windows.length, 0);
out(
  `NAB folder ${nabDir}: ${corpus.files.length} files, ${rows} rows, ${windows} windows; detector ${plan.name} with the processor's default settings\n`,
);

/** In-sample, leave-one-category-out and the gap, per profile; returns the in-sample figures. */
function nabRows(label: string, key: string, files: ScoredFile[]): void {
  const inSample = scoreAll(files, corpus.profiles);
  const line = (what: string, xs: number[], extra = ''): void =>
    out(`  ${label.padEnd(10)} ${what.padEnd(34)}${xs.map(f2).join('')}${extra}`);
  const cv = PROFILE_KEYS.map(([p]) => leaveOneCategoryOut(files, corpus.profiles[p]!));
  const ins = PROFILE_KEYS.map(([p]) => inSample[p]!.normalized);
  line(
    'in-sample (threshold fitted on all)',
    ins,
    `   threshold ${inSample['standard']!.threshold.toPrecision(4)}, windows ${inSample['standard']!.windowsDetected}/${windows}`,
  );
  line(
    'leave one category out',
    cv.map((c) => c.normalized),
    `   thresholds ${cv[0]!.folds.map((f) => `${f.category} ${f.threshold.toPrecision(3)}`).join(', ')}`,
  );
  line(
    'gap',
    ins.map((x, i) => x - cv[i]!.normalized),
  );
  PROFILE_KEYS.forEach(([, k], i) => {
    figures[`nab_${key}_${k}`] = round(ins[i]!);
    figures[`nab_${key}_loco_${k}`] = round(cv[i]!.normalized);
  });
}

let run: ReturnType<typeof runCorpus> | undefined;
if (only.has('nab')) {
  out(`  ${''.padEnd(10)} ${''.padEnd(34)}${'standard'.padStart(8)}${'low FP'.padStart(8)}${'low FN'.padStart(8)}`);
  run = runCorpus(corpus, () => plan.create());
  nabRows('ours', 'ours', run.files);
  const liveFiles = liveDetections(corpus, config);
  const liveScores = PROFILE_KEYS.map(([p]) => scoreAtThreshold(liveFiles, corpus.profiles[p]!, OPENED));
  out(
    `  ${'ours'.padEnd(10)} ${'live alerts (opened = detection)'.padEnd(34)}${liveScores.map((r) => f2(r.normalized)).join('')}   windows ${liveScores[0]!.windowsDetected}/${windows}, alerts outside windows ${liveScores[0]!.fpRows}`,
  );
  PROFILE_KEYS.forEach(([, k], i) => (figures[`nab_ours_live_${k}`] = round(liveScores[i]!.normalized)));

  // The fixture detectors, scored by the same scorer from their published outputs (NAB protocol:
  // they had each file's min, max and length in hand).
  for (const [label, file, key] of [
    ['ARTime', 'ARTime_nonzero_scores.csv', 'artime'],
    ['CAD OSE', 'contextOSE_scores_ge_0.70.csv', 'cad_ose'],
  ] as const) {
    const f = path.join(nabDir, 'fixtures', file);
    if (existsSync(f)) nabRows(label, key, scoresFromResults(corpus, parseResultsCsv(readFileSync(f, 'utf8'))));
  }
}

// SKAB -------------------------------------------------------------------------------------------
const skabDir = defaultSkabDir(repoRoot);
if (!only.has('skab')) {
  out('\nSKAB: left out (BENCH_ONLY)');
} else if (skabDir === undefined) {
  out('\nSKAB: no folder found (set SKAB_DIR to the SKAB slice): skipped');
} else {
  const runs = loadSkab(skabDir, ['valve1']);
  out(
    `\nSKAB folder ${skabDir}: valve1, ${runs.length} runs; the live decision (a row is anomalous while an alert is open), rows from 400 on`,
  );
  const grid = playGrid(runs, config);
  const atDefault = grid[SENSITIVITY_GRID.indexOf(1)]!;
  const header = `  ${''.padEnd(34)}${'F1'.padStart(6)}${'FAR %'.padStart(8)}${'MAR %'.padStart(8)}${'CP std'.padStart(8)}${'low FP'.padStart(8)}${'low FN'.padStart(8)}   missed/CPs, false alarms`;
  const row = (label: string, f: SkabFigures): string =>
    `  ${label.padEnd(34)}${f.binary.f1.toFixed(2).padStart(6)}${f.binary.far.toFixed(2).padStart(8)}${f.binary.mar.toFixed(2).padStart(8)}${f2(f.changepoint.standard)}${f2(f.changepoint.lowFp)}${f2(f.changepoint.lowFn)}   ${f.changepoint.missed}/${f.changepoint.changepoints}, ${f.changepoint.falseAlarms}`;
  out(header);
  for (const channel of runs[0]!.channels)
    out(row(`channel ${channel}`, figuresOf(atDefault.map((l) => scoredRun(l, [channel])))));
  const free = loadSkab(skabDir, ['anomaly-free']).map((r) => playRun(r, config));
  // The device two ways: its joint detector's alert (the machine), and any alert of the device.
  for (const [label, key, metrics] of [
    ['machine (joint detector)', 'machine', [MACHINE]],
    ['device (any alert open)', 'any', undefined],
  ] as const) {
    const live = figuresOf(atDefault.map((l) => scoredRun(l, metrics)));
    out(row(`${label}, live`, live));
    const cv = splitHalf(grid, metrics);
    out(row(`  sensitivity ${cv.inSample.sensitivity} fitted on all`, cv.inSample.figures));
    out(row(`  split half (${cv.crossValidated.sensitivities.join(' / ')})`, cv.crossValidated.figures));
    const normal = figuresOf(free.map((l) => scoredRun(l, metrics)));
    out(
      `  ${'  anomaly-free run, live'.padEnd(34)}${'FAR'.padStart(6)} ${normal.binary.far.toFixed(2)} % of ${normal.binary.tn + normal.binary.fp} rows of normal operation, ${normal.changepoint.falseAlarms} alarms`,
    );
    for (const [k, f] of [
      ['live', live],
      ['fitted', cv.inSample.figures],
      ['split_half', cv.crossValidated.figures],
    ] as const) {
      figures[`skab_valve1_${key}_${k}_f1`] = f.binary.f1;
      figures[`skab_valve1_${key}_${k}_far`] = f.binary.far;
      figures[`skab_valve1_${key}_${k}_mar`] = f.binary.mar;
      figures[`skab_valve1_${key}_${k}_cp_standard`] = f.changepoint.standard;
    }
    figures[`skab_anomaly_free_${key}_far`] = normal.binary.far;
  }
}

// Unseen shapes ----------------------------------------------------------------------------------
if (only.has('unseen')) {
  out(
    `\nFalse alarms on anomaly-free series of shapes the development sets lack (unseen/families.ts; ${SEEDS.length} seeded series a family, the live decision: every opened alert is a false alarm)`,
  );
  // The families' mean rate, each family counting alike (the long raw sensor series would
  // otherwise outweigh the short hourly ones).
  let sum = 0;
  for (const family of FAMILIES) {
    const r = falseAlarms(family, config);
    sum += r.perThousand;
    const who = [...r.byReason].map(([k, n]) => `${k} ${n}`).join(', ');
    out(
      `  ${family.name.padEnd(14)} ${r.perThousand.toFixed(2).padStart(6)} per 1,000 points (${r.alerts} in ${r.points})   ${family.about}${who ? `; ${who}` : ''}`,
    );
    figures[`unseen_${family.name.replaceAll(' ', '_')}_alerts_per_1000`] = Math.round(r.perThousand * 1000) / 1000;
  }
  out(`  ${'mean'.padEnd(14)} ${(sum / FAMILIES.length).toFixed(2).padStart(6)} per 1,000 points, the families' mean`);
  figures['unseen_mean_alerts_per_1000'] = Math.round((sum / FAMILIES.length) * 1000) / 1000;
}

// Throughput -------------------------------------------------------------------------------------
const seconds = Math.min(
  run?.seconds ?? Infinity,
  runCorpus(corpus, () => plan.create()).seconds,
  runCorpus(corpus, () => plan.create()).seconds,
);
out(
  `\nthroughput: ${Math.round(rows / seconds).toLocaleString('en')} points/s on one core (NAB, ${rows} points in ${seconds.toFixed(2)} s, best of 3)`,
);
figures['points_per_s'] = Math.round(rows / seconds);
out(JSON.stringify(figures));
