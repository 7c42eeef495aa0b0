import { z } from 'zod';

/**
 * Turns a detector's raw deviation (any non-negative number whose size grows with strangeness)
 * into a surprise: −log10 of the estimated probability of a deviation at least that large, judged
 * against the deviations this same series produced before. This is what makes scores comparable
 * across series with one global threshold: "one in ten thousand for this sensor" means the same
 * on a noisy traffic counter and on a smooth thermometer.
 *
 * Deviations are kept in a log-binned histogram (bounded: a fixed number of bins), so the state is
 * O(1) whatever the length of the series. Within the observed range the tail probability is read
 * from the histogram; beyond the largest deviations seen, it is extrapolated with an exponential
 * tail fitted to the top `tailFraction` of the data (peaks over threshold, as in Siffer et al.,
 * "Anomaly detection in streams with extreme value theory", KDD 2017, with the shape fixed at 0).
 * Old deviations fade with a half-life, so a series whose noise level changes is re-learnt.
 */

const BINS_PER_OCTAVE = 8;
const MIN_LOG2 = -40;
const MAX_LOG2 = 60;
/** Bin 0 holds exact zeros (flat series produce many); bins 1.. are log-spaced. */
const BINS = 1 + (MAX_LOG2 - MIN_LOG2) * BINS_PER_OCTAVE;
/** Weights grow instead of old counts shrinking (O(1) decay); rescale before they overflow. */
const RESCALE_AT = 1e200;

function binOf(d: number): number {
  if (!(d > 0)) return 0;
  const b = Math.floor((Math.log2(d) - MIN_LOG2) * BINS_PER_OCTAVE) + 1;
  return b < 1 ? 1 : b >= BINS ? BINS - 1 : b;
}

/** Lower edge of a log bin. */
function binLow(b: number): number {
  return b === 0 ? 0 : 2 ** ((b - 1) / BINS_PER_OCTAVE + MIN_LOG2);
}

/** Geometric middle of a log bin. */
function binMid(b: number): number {
  return b === 0 ? 0 : 2 ** ((b - 0.5) / BINS_PER_OCTAVE + MIN_LOG2);
}

export interface TailCalibratorState {
  counts: [number, number][];
  total: number;
  weight: number;
  seen: number;
}

export class TailCalibrator {
  private readonly counts = new Float64Array(BINS);
  private total = 0;
  /** Weight of the next sample; grows by 1/decay each step, which fades the old ones. */
  private weight = 1;
  private readonly growth: number;
  /** Samples added, for the confidence of the estimate. */
  seen = 0;
  /** Highest bin ever used: tail walks start here. */
  private maxBin = 0;

  constructor(
    halfLifePoints: number,
    private readonly tailFraction: number,
    state?: TailCalibratorState,
  ) {
    this.growth = Number.isFinite(halfLifePoints) ? 2 ** (1 / halfLifePoints) : 1;
    if (state) {
      for (const [b, c] of state.counts) this.counts[b] = c;
      this.total = state.total;
      this.weight = state.weight;
      this.seen = state.seen;
      for (const [b] of state.counts) if (b > this.maxBin) this.maxBin = b;
    }
  }

  add(d: number): void {
    const b = binOf(d);
    this.counts[b]! += this.weight;
    if (b > this.maxBin) this.maxBin = b;
    this.total += this.weight;
    this.seen++;
    this.weight *= this.growth;
    if (this.weight > RESCALE_AT) {
      const k = 1 / this.weight;
      for (let b = 0; b < BINS; b++) this.counts[b]! *= k;
      this.total *= k;
      this.weight = 1;
    }
  }

  /**
   * −log10 P(D ≥ d) under the deviations seen so far (d itself not yet added); 0 before any
   * sample. Inside the body of the distribution it is read from the histogram; in the tail it is
   * the larger of the histogram's tail and the fitted exponential tail (the fit never claims a
   * deviation is rarer than the data shows it to be).
   */
  surprise(d: number): number {
    if (this.total <= 0 || !(d > 0)) return 0;
    const db = binOf(d);
    const top = this.tailFraction * this.total;
    let above = 0;
    let excess = 0;
    let tailAtD = 0;
    let b = this.maxBin;
    for (; b >= 1; b--) {
      const c = this.counts[b]!;
      if (b === db) tailAtD = above + c / 2;
      above += c;
      excess += c * binMid(b);
      if (above >= top) break;
    }
    if (b < 1) {
      if (above <= 0) return Math.log10(this.total / this.weight + 1) + 1; // only zeros seen so far
      b = 1;
    }
    if (db > b) {
      const u = binLow(b);
      const meanExcess = Math.max(excess / above - u, u * 0.02, 1e-300);
      const pExp = (above / this.total) * Math.exp(-(d - u) / meanExcess);
      return -Math.log10(Math.max(pExp, tailAtD / this.total, 1e-300));
    }
    // In the body: keep walking down to d's bin.
    let tail = above - (db === b ? this.counts[b]! / 2 : 0);
    for (let k = b - 1; k > db; k--) tail += this.counts[k]!;
    if (db < b && db > 0) tail += this.counts[db]! / 2;
    return -Math.log10(Math.min(1, tail / this.total));
  }

  snapshot(): TailCalibratorState {
    const counts: [number, number][] = [];
    for (let b = 0; b < BINS; b++) if (this.counts[b]! !== 0) counts.push([b, this.counts[b]!]);
    return { counts, total: this.total, weight: this.weight, seen: this.seen };
  }
}

/** How a detector calibrates its deviations into surprise; shared by the calibrated detectors. */
export const CalibrationConfig = z.object({
  /** Points a series must have before the detector scores it (it learns silently before). */
  warmupPoints: z.number().int().min(0).default(150),
  /** Half-life of the remembered deviations, in points: how fast a new noise level is accepted. */
  halfLifePoints: z.number().positive().default(5_000),
  /** Fraction of the deviations the exponential tail is fitted to. */
  tailFraction: z.number().min(0.001).max(0.5).default(0.05),
  /** Surprise (−log10 p) at which the score is 0.5; 4 is one point in 10,000. */
  alarmSurprise: z.number().positive().default(4),
});
export type CalibrationConfig = z.output<typeof CalibrationConfig>;

export interface SurpriseMeterState {
  calib: TailCalibratorState;
  seen: number;
}

/**
 * A calibrator with its warm-up: `judge(d)` rates a deviation against the earlier ones, then
 * learns it. Silent (0) until `warmupPoints` deviations have been judged: a fixed count, never
 * the series' length, which a streaming detector cannot know.
 */
export class SurpriseMeter {
  private readonly calib: TailCalibrator;
  private seen: number;

  constructor(private readonly config: CalibrationConfig, state?: SurpriseMeterState) {
    this.calib = new TailCalibrator(config.halfLifePoints, config.tailFraction, state?.calib);
    this.seen = state?.seen ?? 0;
  }

  judge(d: number): number {
    const s = this.seen >= this.config.warmupPoints ? this.calib.surprise(d) : 0;
    this.calib.add(d);
    this.seen++;
    return s;
  }

  /** Rates a deviation without learning it (for `tick`, which must not change state). */
  peek(d: number): number {
    return this.seen >= this.config.warmupPoints ? this.calib.surprise(d) : 0;
  }

  get warm(): boolean {
    return this.seen >= this.config.warmupPoints;
  }

  snapshot(): SurpriseMeterState {
    return { calib: this.calib.snapshot(), seen: this.seen };
  }
}
