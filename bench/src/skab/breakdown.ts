/**
 * Where a run's changepoint score is lost (shared/skab/README.md's scoring, score.ts): each
 * window's first alarm and what it scored, each alarm outside every window and where it fell.
 * Pure: a scored run in, its ledger out; the figures add up to the run's part of the pooled score.
 */
import {
  alarmTimes,
  changepointWindows,
  CP_PROFILES,
  curveScore,
  type CpProfile,
  type SkabScoredRun,
} from './score.js';

/** One scoring window: where it is, its first alarm (ms after its left edge; undefined: missed), what it scored. */
export interface WindowLedger {
  readonly left: number;
  readonly right: number;
  readonly delayMs: number | undefined;
  readonly score: number;
}

/**
 * An alarm outside every window: the prediction switching `on` (an alert opening) or off (one
 * closing), inside the labelled fault or not, and its distance to the nearest true changepoint
 * (ms, negative before it).
 */
export interface FalseAlarm {
  readonly ts: number;
  readonly on: boolean;
  readonly inFault: boolean;
  readonly fromChangepointMs: number;
}

export interface RunLedger {
  readonly windows: readonly WindowLedger[];
  readonly falseAlarms: readonly FalseAlarm[];
  /** The run's raw score (windows' scores and its false alarms' cost) and its perfect one (A_tp a window). */
  readonly score: number;
  readonly perfect: number;
}

/** The ledger of one run under a profile (standard by default). */
export function runLedger(run: SkabScoredRun, p: CpProfile = CP_PROFILES.standard): RunLedger {
  const alarms = alarmTimes(run.ts, run.predicted);
  const windows = changepointWindows(run.changepoints).map(([left, right]): WindowLedger => {
    const first = alarms.find((t) => t >= left && t <= right);
    return {
      left,
      right,
      delayMs: first === undefined ? undefined : first - left,
      score: first === undefined ? p.fn : curveScore(left, first, right, p),
    };
  });
  const row = new Map<number, number>();
  for (let i = 0; i < run.ts.length; i++) row.set(run.ts[i]!, i);
  const falseAlarms = alarms
    .filter((t) => windows.every((w) => t < w.left || t > w.right))
    .map((ts): FalseAlarm => {
      const i = row.get(ts)!;
      let nearest = Number.POSITIVE_INFINITY;
      for (const c of run.changepoints) if (Math.abs(ts - c) < Math.abs(nearest)) nearest = ts - c;
      return { ts, on: run.predicted[i] === 1, inFault: run.truth[i] === 1, fromChangepointMs: nearest };
    });
  const score = windows.reduce((s, w) => s + w.score, 0) + p.fp * falseAlarms.length;
  return { windows, falseAlarms, score, perfect: windows.length * p.tp };
}

/** Points of the pooled score (0-100 scale) that a raw score difference is worth over `windows` windows in all. */
export const pointsPerRaw = (windows: number, p: CpProfile = CP_PROFILES.standard): number =>
  100 / (windows * (p.tp - p.fn));
