import { z } from 'zod';
import {
  quiet,
  scoreFromSurprise,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { TailCalibrator, type TailCalibratorState } from '../stats/tail-calibrator.js';

export const FlatlineConfig = z.object({
  /** Flat points in a row before the run is judged at all. */
  minRunPoints: z.number().int().min(2).default(3),
  /** Points a series must have before it is judged (it learns how often it repeats itself). */
  warmupPoints: z.number().int().min(0).default(100),
  /** Relative tolerance under which two values count as equal (stuck sensors repeat exactly). */
  relativeTolerance: z.number().min(0).default(1e-9),
  /** Horizon, in points, over which the rate of long runs is estimated. */
  horizonPoints: z.number().int().min(100).default(2_000),
  /** α of the Pareto smoothing of run lengths: a run twice as long as any seen is 2^α times rarer. */
  tailIndex: z.number().positive().default(2),
  alarmSurprise: z.number().positive().default(4),
});
export type FlatlineConfig = z.output<typeof FlatlineConfig>;

/** Non-flat points needed before a run can be called stuck. */
const VARIED_MIN = 10;

interface State {
  n: number;
  /** Points that were not flat: a series with none is constant, not stuck. */
  varied: number;
  last: number | null;
  run: number;
  runs: TailCalibratorState;
}

/**
 * Flatline / stuck sensor. A point is flat when the window it summarises has no spread (count > 1
 * and max = min, or stddev 0) or when it repeats the previous value. The current run of flat
 * points is judged against the runs this series completed before: the rate per point of runs at
 * least this long (Pareto-smoothed, plus one pseudo-run of length 1 so that a series that never
 * repeated still gets a finite answer). A series that has (almost) never varied is constant, not
 * stuck: it is never flagged.
 */
class Flatline implements Detector {
  /**
   * Points seen, points that were not flat (a series with none is constant, not stuck), the last
   * value (NaN before one) and the current run of flat points: fields of the member (a state object
   * of its own, and a new heap number for its last value every window, were 70 bytes a series).
   */
  private n: number;
  private varied: number;
  private last: number;
  private run: number;
  private readonly runs: TailCalibrator;

  constructor(
    private readonly config: FlatlineConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    this.n = s?.n ?? 0;
    this.varied = s?.varied ?? 0;
    this.last = s?.last ?? Number.NaN;
    this.run = s?.run ?? 0;
    this.runs = new TailCalibrator(config.horizonPoints / 4, config.tailIndex, s?.runs, context?.slab);
  }

  update(point: SeriesPoint): Verdict {
    const tol = this.config.relativeTolerance * Math.max(1, Math.abs(point.value));
    const windowFlat = point.count > 1 && (point.max - point.min <= tol || point.stddev === 0);
    const repeat = !Number.isNaN(this.last) && Math.abs(point.value - this.last) <= tol;
    const flat = windowFlat || (point.count <= 1 && repeat);
    this.n++;
    this.last = point.value;
    if (!flat) {
      this.varied++;
      if (this.run > 0) this.runs.add(this.run);
      this.run = 0;
      return quiet(point.value);
    }
    this.run++;
    // A window with readings and no spread is itself a run of `count` equal readings.
    const r = this.run;
    if (r < this.config.minRunPoints || this.n < this.config.warmupPoints || this.varied < VARIED_MIN)
      return quiet(point.value, 'flat');
    const steps = Math.min(this.n, this.config.horizonPoints);
    const unit = this.runs.unitWeight;
    const longRuns = this.runs.tailWeight(r) / unit + (1 / r) ** this.config.tailIndex;
    const surprise = Math.max(0, -Math.log10(Math.min(1, longRuns / steps)));
    const score = scoreFromSurprise(surprise, this.config.alarmSurprise);
    if (score < 0.3) return verdict(score, point.value, 'flat', surprise);
    return verdict(score, point.value, `stuck at ${point.value.toPrecision(4)} for ${r} points in a row`, surprise);
  }

  snapshot(): State {
    const last = Number.isNaN(this.last) ? null : this.last;
    return { n: this.n, varied: this.varied, last, run: this.run, runs: this.runs.snapshot() };
  }
}

export const createFlatline: DetectorFactory<FlatlineConfig> = (config, snapshot, context) =>
  new Flatline(config, snapshot, context);
