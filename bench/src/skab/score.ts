/**
 * SKAB's scoring, as its leaderboard computes it (shared/skab/README.md, "How the benchmark
 * scores"; the TSAD library's `evaluating`): outlier detection as a 0/1 prediction per scored row,
 * pooled over runs (F1, false-alarm rate, missed-alarm rate), and changepoint detection the NAB
 * way on the rows where that prediction switches. Pure: predictions in, figures out.
 */

/** One run's scored rows: timestamps, truth and a 0/1 prediction per row, and its true changepoints. */
export interface SkabScoredRun {
  readonly ts: ArrayLike<number>;
  readonly truth: ArrayLike<number>;
  readonly predicted: ArrayLike<number>;
  /** Timestamps of the run's true changepoints (the `changepoint` column, anywhere in the file). */
  readonly changepoints: readonly number[];
}

export interface Confusion {
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export interface BinaryScore extends Confusion {
  /** F1 = TP / (TP + (FN + FP) / 2), rounded to 2 decimals as the leaderboard prints it; `f1Raw` unrounded. */
  f1: number;
  f1Raw: number;
  /** False-alarm rate 100·FP / (FP + TN) and missed-alarm rate 100·FN / (FN + TP), rounded to 2 decimals. */
  far: number;
  mar: number;
}

/** A changepoint profile: the reward of a detection at the window's left edge, of a false alarm and of a miss. */
export interface CpProfile {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** The leaderboard's profiles (TSAD's table_of_coef). */
export const CP_PROFILES: Readonly<Record<'standard' | 'lowFp' | 'lowFn', CpProfile>> = {
  standard: { tp: 1, fp: -0.11, fn: -1 },
  lowFp: { tp: 1, fp: -0.22, fn: -1 },
  lowFn: { tp: 1, fp: -0.11, fn: -2 },
};

export interface ChangepointScore {
  standard: number;
  lowFp: number;
  lowFn: number;
  /** True changepoints, those without any alarm in their window, alarms outside every window. */
  changepoints: number;
  missed: number;
  falseAlarms: number;
  /** Mean time from a changepoint to its first alarm, over the detected ones (ms); NaN when none. */
  meanDelayMs: number;
}

/** The width of the window to the right of each changepoint (the leaderboard's numenta_time, 60 s). */
export const CP_WINDOW_MS = 60_000;
/** Steps of the scoring curve across a window (TSAD's `detalization`). */
const CURVE_STEPS = 1000;

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Pooled confusion counts and the leaderboard's binary figures. */
export function binaryScore(runs: readonly SkabScoredRun[]): BinaryScore {
  const c: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
  for (const r of runs) {
    for (let i = 0; i < r.truth.length; i++) {
      const t = r.truth[i] === 1;
      const p = r.predicted[i] === 1;
      if (t && p) c.tp++;
      else if (!t && !p) c.tn++;
      else if (p) c.fp++;
      else c.fn++;
    }
  }
  const f1Raw = c.tp / (c.tp + (c.fn + c.fp) / 2);
  return {
    ...c,
    f1Raw,
    f1: round2(f1Raw),
    far: round2((100 * c.fp) / (c.fp + c.tn)),
    mar: round2((100 * c.fn) / (c.fn + c.tp)),
  };
}

/**
 * Alarms of a 0/1 prediction: the rows where it switches (|diff|), and the first row if it is 1
 * (`prediction_cp[0] = prediction[0]`).
 */
export function alarmTimes(ts: ArrayLike<number>, predicted: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < predicted.length; i++) {
    const switched = i === 0 ? predicted[0] === 1 : predicted[i] !== predicted[i - 1];
    if (switched) out.push(ts[i]!);
  }
  return out;
}

/**
 * The scoring windows [t, t + 60 s] of sorted changepoints; where two overlap, the later one
 * starts where the earlier ends ('cut right window').
 */
export function changepointWindows(changepoints: readonly number[]): [number, number][] {
  const windows = [...changepoints].sort((a, b) => a - b).map((t): [number, number] => [t, t + CP_WINDOW_MS]);
  for (let i = 0; i + 1 < windows.length; i++)
    if (windows[i]![1] >= windows[i + 1]![0]) windows[i + 1]![0] = windows[i]![1];
  return windows;
}

/**
 * TSAD's scoring curve: from A_tp at a window's left edge to A_fp at its right edge, a tanh over
 * [−π/2, π/2] sampled at 1,000 steps; the alarm's step is its relative position, truncated.
 */
export function curveScore(left: number, alarm: number, right: number, p: CpProfile): number {
  let step = Math.trunc(((alarm - left) / (right - left)) * CURVE_STEPS);
  if (step >= CURVE_STEPS) step = CURVE_STEPS - 1;
  const x = -Math.PI / 2 + (step * Math.PI) / (CURVE_STEPS - 1);
  const half = (p.tp - p.fp) / 2;
  return (-half * Math.tanh(x)) / Math.tanh(Math.PI / 2) + half + p.fp;
}

/** One run's detections: the first alarm in each window (or none), and the alarms outside every window. */
function matchAlarms(run: SkabScoredRun): {
  windows: [number, number][];
  first: (number | undefined)[];
  falseAlarms: number;
} {
  const alarms = alarmTimes(run.ts, run.predicted);
  const windows = changepointWindows(run.changepoints);
  const first = windows.map(([l, r]) => alarms.find((t) => t >= l && t <= r));
  // Outside every window (before the first, strictly between two, after the last), as TSAD's bounds.
  const falseAlarms = alarms.filter((t) => windows.every(([l, r]) => t < l || t > r)).length;
  return { windows, first, falseAlarms };
}

/** The NAB-style changepoint scores, pooled over runs (raw scores summed, then normalised). */
export function changepointScore(runs: readonly SkabScoredRun[]): ChangepointScore {
  const matched = runs.map(matchAlarms);
  const score = (p: CpProfile): number => {
    let s = 0;
    let n = 0;
    for (const m of matched) {
      n += m.windows.length;
      s += p.fp * m.falseAlarms;
      m.windows.forEach(([l, r], k) => {
        const a = m.first[k];
        s += a === undefined ? p.fn : curveScore(l, a, r, p);
      });
    }
    const nullScore = n * p.fn;
    const perfect = n * p.tp;
    return round2((100 * (s - nullScore)) / (perfect - nullScore));
  };
  const delays = matched.flatMap((m) =>
    m.windows.flatMap(([l], k) => (m.first[k] === undefined ? [] : [m.first[k]! - l])),
  );
  return {
    standard: score(CP_PROFILES.standard),
    lowFp: score(CP_PROFILES.lowFp),
    lowFn: score(CP_PROFILES.lowFn),
    changepoints: matched.reduce((s, m) => s + m.windows.length, 0),
    missed: matched.reduce((s, m) => s + m.first.filter((a) => a === undefined).length, 0),
    falseAlarms: matched.reduce((s, m) => s + m.falseAlarms, 0),
    meanDelayMs: delays.length === 0 ? Number.NaN : delays.reduce((a, b) => a + b, 0) / delays.length,
  };
}
