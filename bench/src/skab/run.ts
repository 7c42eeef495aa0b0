import type { ProcessorConfig } from '@tributary/firmware-schemas';
import { AlertLifecycle } from '@tributary/cloud-processor';
import { Detection, MACHINE, type SeriesInput } from '@tributary/cloud-processor';
import { detectorPlans } from '@tributary/cloud-processor';
import { SKAB_TRAINING_ROWS, type SkabRun } from './data.js';
import type { SkabScoredRun } from './score.js';

/** What one run gave through the live path: per row, which of the device's series had an alert open. */
export interface LiveRun {
  readonly run: SkabRun;
  /** open[k][i]: 1 when channel k had an alert open after row i (k = MACHINE: the device's joint detector). */
  readonly open: Map<string, Uint8Array>;
  readonly points: number;
}

/**
 * Plays one run through the processor's detection and alert lifecycle as a live processor sees a
 * machine: the device is the run, each channel a metric, one raw row a second (all channels of a
 * row at once, as one message of several values), fresh state (the run's first 400 rows are what
 * it learns from). Records, after every row, which series have an alert open: the live decision,
 * read as the benchmark's 0/1 prediction per row.
 */
export function playRun(run: SkabRun, config: ProcessorConfig): LiveRun {
  const lifecycle = new AlertLifecycle(config.alerts);
  const detection = new Detection(detectorPlans(config.detection), lifecycle, config.detection.maxSeries);
  const device = run.name;
  const n = run.ts.length;
  const open = new Map<string, Uint8Array>();
  const state = new Map<string, number>();
  let points = 0;
  for (let i = 0; i < n; i++) {
    const batch: SeriesInput[] = run.channels.map((metric, c) => {
      const value = run.values[c]![i]!;
      return { device, metric, ts: run.ts[i]!, lengthMs: 0, value, min: value, max: value, stddev: 0, count: 1 };
    });
    points += batch.length;
    for (const a of detection.ingest('skab', batch)) {
      const key = `${a.detector === MACHINE ? MACHINE : a.metric}\u0000${a.detector}`;
      state.set(key, (state.get(key) ?? 0) + (a.state === 'opened' ? 1 : a.state === 'resolved' ? -1 : 0));
    }
    for (const [key, count] of state) {
      if (count <= 0) continue;
      const k = key.slice(0, key.indexOf('\u0000'));
      if (!open.has(k)) open.set(k, new Uint8Array(n));
      open.get(k)![i] = 1;
    }
  }
  return { run, open, points };
}

/** The true changepoints' timestamps of a run. */
export const changepointsOf = (run: SkabRun): number[] => run.ts.filter((_, i) => run.changepoint[i] === 1);

/**
 * A run's scored rows (from row 400) with a 0/1 prediction: a row is anomalous when any of the
 * given channels (or MACHINE) had an alert open (`metrics` undefined: any alert of the device).
 */
export function scoredRun(live: LiveRun, metrics?: readonly string[]): SkabScoredRun {
  const { run } = live;
  const predicted = new Uint8Array(run.ts.length - SKAB_TRAINING_ROWS);
  for (const [metric, rows] of live.open) {
    if (metrics && !metrics.includes(metric)) continue;
    for (let i = SKAB_TRAINING_ROWS; i < rows.length; i++) if (rows[i]) predicted[i - SKAB_TRAINING_ROWS] = 1;
  }
  return {
    ts: run.ts.slice(SKAB_TRAINING_ROWS),
    truth: run.anomaly.slice(SKAB_TRAINING_ROWS),
    predicted,
    changepoints: changepointsOf(run),
  };
}
