import { z } from 'zod';
import { windowsIn } from '../detector.js';
import { runLength, runStart, scaleRuns } from './bin-runs.js';
import { Slab } from './slab.js';
import {
  BINS,
  binMidLog2,
  binOf,
  GROWTH,
  MAX_LOG2,
  MIN_LOG2,
  TailHistogram,
  TOTAL,
  WEIGHT,
  ZEROS,
} from './tail-histogram.js';

/** Weights grow instead of old counts shrinking (O(1) decay); rescale before they overflow. */
const RESCALE_AT = 1e200;

/**
 * Past this tail probability the walk stops: body points need no precision. (A constant: as a
 * field, a number that is no small integer is a 16-byte heap object a calibrator.)
 */
const STOP_AT = 0.2;

/**
 * Samples more than this many octaves below d are left out of its tail (the body of the data
 * says little about its extremes), unless nothing nearer exists.
 */
const MAX_GAP_OCTAVES = 4;

export interface TailCalibratorState {
  counts: [number, number][];
  total: number;
  weight: number;
  seen: number;
}

/**
 * Turns a detector's raw deviation (any non-negative number whose size grows with strangeness)
 * into a surprise: −log10 of the estimated probability of a deviation at least that large, judged
 * against the deviations this same series produced before. This is what makes scores comparable
 * across series with one global threshold: "one in ten thousand for this sensor" means the same
 * on a noisy traffic counter and on a smooth thermometer.
 *
 * Deviations are kept in a log-binned histogram (a fixed number of bins: O(1) state whatever the
 * length of the series). The tail probability at d counts every remembered deviation x ≥ d fully
 * and every smaller one as (x / d)^α: the tail of a mixture of Pareto laws, one starting at each
 * sample. Within the data this is the empirical tail, smoothed and slightly conservative; beyond
 * the largest deviations seen it falls as a power of how far beyond them d lies, so "twice
 * anything this series has done" means the same on every series. It is deliberately cautious on
 * light (Gaussian) tails: real series are rarely that kind, and a calibrator fooled by one heavy
 * tail would flood a fleet with alarms. Old deviations fade with a half-life, so a series whose
 * noise level changes is re-learnt.
 */
export class TailCalibrator extends TailHistogram {
  /** Samples added, for the confidence of the estimate. */
  seen = 0;
  /** Highest bin ever used: tail walks start here. */
  private maxBin = 0;

  constructor(
    halfLifePoints: number,
    /** α: how fast probability falls beyond the samples (per octave, a factor 2^α). */
    private readonly tailIndex: number,
    state?: TailCalibratorState,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    slab: Slab = new Slab(),
  ) {
    super(slab, Number.isFinite(halfLifePoints) ? 2 ** (1 / halfLifePoints) : 1);
    if (state) {
      this.putAll(state.counts);
      this.total = state.total;
      this.weight = state.weight;
      this.seen = state.seen;
      for (const [b] of state.counts) if (b > this.maxBin) this.maxBin = b;
    }
  }

  /**
   * Learns a deviation. `share` < 1 counts it as part of one observation: a statistic sampled
   * faster than it changes (an average over a minute read every second) is one observation per
   * minute, however many times it is read, for its weight and for how fast the old ones fade.
   * `fade` (the share by default): how many half-life units of time it stands for, when that
   * differs (a window longer than the span is one observation, but the old ones fade for its length).
   */
  add(d: number, share = 1, fade = share): void {
    const b = binOf(d);
    let weight = this.weight;
    const w = share === 1 ? weight : weight * share;
    this.put(b, w);
    if (b > this.maxBin) this.maxBin = b;
    // The scalars read and written once (put may have moved them).
    const f = this.slab.f64;
    const o = this.scalars;
    f[o + TOTAL]! += w;
    this.seen++;
    const growth = f[o + GROWTH]!;
    weight *= fade === 1 ? growth : growth ** fade;
    if (weight > RESCALE_AT) {
      const k = 1 / weight;
      f[o + ZEROS]! *= k;
      scaleRuns(f, this.base, this.stored, k);
      f[o + TOTAL]! *= k;
      weight = 1;
    }
    f[o + WEIGHT] = weight;
  }

  /**
   * −log10 P(D ≥ d) under the deviations seen so far (d itself not yet added); 0 before any
   * sample. Each remembered deviation x counts fully when x ≥ d and as (x / d)^α when it is
   * smaller: the tail of a mixture of Pareto laws, one starting at each sample. Within the data
   * this is the empirical tail, slightly smoothed; beyond the largest deviations seen it falls
   * off as a power of how far beyond them d lies, so "twice anything this series has done"
   * means the same on every series.
   */
  surprise(d: number): number {
    const total = this.total;
    if (total <= 0 || !(d > 0)) return 0;
    return -Math.log10(Math.max(this.tailWeight(d) / total, 1e-300));
  }

  /**
   * The deviation whose surprise is `surprise` (to within 1 %), searched below `above` (whose
   * surprise is higher): surprise grows with the deviation, so a bisection on its logarithm.
   */
  distanceAt(surprise: number, above: number): number {
    let lo = Math.log2(above) - MAX_LOG2 + MIN_LOG2;
    let hi = Math.log2(above);
    while (hi - lo > 0.015) {
      const mid = (lo + hi) / 2;
      if (this.surprise(2 ** mid) >= surprise) hi = mid;
      else lo = mid;
    }
    return 2 ** hi;
  }

  /** The (decayed) weight of deviations "at least d" under the Pareto-smoothed count above. */
  tailWeight(d: number): number {
    const db = binOf(d);
    const stop = STOP_AT * this.total;
    const counts = this.slab.f64;
    const maxBin = this.maxBin;
    // The runs of bins in use (bin-runs.ts), walked from the highest: their headers found first.
    const at = this.base;
    const end = at + this.stored;
    let runs = 0;
    for (let p = at; p < end; p += 1 + runLength(counts[p]!)) runAt[runs++] = p;
    let tail = 0;
    let r = runs - 1;
    let j = -1;
    // Bins above d's, highest first (a bin in no run is 0).
    for (; r >= 0; r--) {
      const p = runAt[r]!;
      const start = runStart(counts[p]!);
      for (j = runLength(counts[p]!) - 1; j >= 0; j--) {
        const b = start + j;
        if (b <= db) break;
        if (b <= maxBin) tail += counts[p + 1 + j]!;
      }
      if (j >= 0) break; // at d's bin or below: the second walk goes on from there
    }
    if (tail < stop) {
      // Bins at and below d's, each discounted by (x / d)^α, until the discount is negligible.
      // Beyond every sample the largest one always counts, so the surprise keeps growing
      // smoothly with d instead of jumping once d leaves the last sample's reach.
      const logd = Math.log2(d);
      walk: for (; r >= 0; r--) {
        const p = runAt[r]!;
        const start = runStart(counts[p]!);
        if (j < 0) j = runLength(counts[p]!) - 1;
        for (; j >= 0; j--) {
          const b = start + j;
          const c = counts[p + 1 + j]!;
          if (b > maxBin || c === 0) continue;
          const gap = logd - binMidLog2(b);
          if (gap > MAX_GAP_OCTAVES && tail > 0) break walk;
          tail += gap <= 0 ? c : c * 2 ** (-this.tailIndex * gap);
          if (tail >= stop) break walk;
        }
      }
    }
    return tail;
  }

  /** Total (decayed) weight of the deviations seen, in units of the newest sample's weight. */
  get effectiveCount(): number {
    return this.total / this.weight;
  }

  /** The newest sample's weight, to turn tailWeight into a count of samples. */
  get unitWeight(): number {
    return this.weight;
  }

  snapshot(): TailCalibratorState {
    const counts: [number, number][] = [];
    if (this.zeros !== 0) counts.push([0, this.zeros]);
    const bins = this.slab.f64;
    const end = this.base + this.stored;
    for (let p = this.base; p < end; p += 1 + runLength(bins[p]!)) {
      const start = runStart(bins[p]!);
      for (let j = 0; j < runLength(bins[p]!); j++)
        if (bins[p + 1 + j]! !== 0) counts.push([start + j, bins[p + 1 + j]!]);
    }
    return { counts, total: this.total, weight: this.weight, seen: this.seen };
  }
}

/** Where each run's header is, for a walk from the highest bin (filled and read within one call). */
const runAt = new Int32Array(BINS);

/** Five minutes: the window length the calibration's defaults were first set in points for. */
const FIVE_MINUTES = 300_000;

/**
 * How a detector calibrates its deviations into surprise; shared by the calibrated detectors.
 * Horizons are durations, converted with the series' window length (or its rows' cadence): the
 * defaults are the points they were at 5-minute windows.
 */
export const CalibrationConfig = z.object({
  /** History a series must have before the detector scores it (it learns silently before); and at least MIN_SAMPLE deviations. */
  warmupMs: z
    .number()
    .int()
    .min(0)
    .default(150 * FIVE_MINUTES),
  /** Half-life of the remembered deviations: how fast a new noise level is accepted. */
  halfLifeMs: z
    .number()
    .positive()
    .default(1_500 * FIVE_MINUTES),
  /** α of the Pareto tail beyond the samples: a deviation twice any seen is 2^α times rarer. */
  tailIndex: z.number().positive().default(6),
  /** After the warm-up, surprise is scaled by a confidence that grows linearly to 1 over this long. */
  rampMs: z
    .number()
    .int()
    .min(0)
    .default(200 * FIVE_MINUTES),
  /** Surprise (−log10 p) at which the score is 0.5; 4 is one point in 10,000. */
  alarmSurprise: z.number().positive().default(4),
});
export type CalibrationConfig = z.output<typeof CalibrationConfig>;

/**
 * Sample sizes, whatever the durations: deviations a calibration learns before it judges (and over
 * which its confidence ramps up), and the half-life of its memory in deviations (a tail of one in
 * a few hundred needs some thousands remembered). They are the ensemble's defaults at 5-minute
 * windows, so durations lengthen a faster series' horizons and leave a slower one's counts as they were.
 */
export const MIN_SAMPLE = 24;
const MIN_MEMORY = 1_500;

export interface SurpriseMeterState {
  calib: TailCalibratorState;
  seen: number;
}

/**
 * A calibrator with its warm-up: `judge(d)` rates a deviation against the earlier ones, then
 * learns it. Silent (0) until the warm-up's deviations have been judged: a fixed count (the
 * warm-up in the series' points, at least MIN_SAMPLE), never the series' length, which a
 * streaming detector cannot know.
 */
export class SurpriseMeter {
  private readonly calib: TailCalibrator;
  private seen: number;
  /** The horizons in points of the series (see CalibrationConfig). */
  private readonly warmup: number;
  private readonly ramp: number;

  /** `windowMs`: the series' window length or cadence (0: unknown, 5 minutes). */
  /** `slab`: the owner's (one buffer for all of a detector's arrays), else one of its own. */
  constructor(config: CalibrationConfig, state?: SurpriseMeterState, windowMs = 0, slab?: Slab) {
    const w = windowMs > 0 ? windowMs : FIVE_MINUTES;
    this.warmup = windowsIn(config.warmupMs, w, MIN_SAMPLE);
    this.ramp = windowsIn(config.rampMs, w, MIN_SAMPLE);
    this.calib = new TailCalibrator(Math.max(MIN_MEMORY, config.halfLifeMs / w), config.tailIndex, state?.calib, slab);
    this.seen = state?.seen ?? 0;
  }

  judge(d: number): number {
    const w = this.seen - this.warmup;
    let s = w >= 0 ? this.calib.surprise(d) : 0;
    if (w >= 0 && w < this.ramp) s *= (w + 1) / (this.ramp + 1);
    this.calib.add(d);
    this.seen++;
    return s;
  }

  /** Rates a deviation without learning it (for `tick`, which must not change state). */
  peek(d: number): number {
    return this.seen >= this.warmup ? this.calib.surprise(d) : 0;
  }

  get warm(): boolean {
    return this.seen >= this.warmup;
  }

  snapshot(): SurpriseMeterState {
    return { calib: this.calib.snapshot(), seen: this.seen };
  }
}
