import { z } from 'zod';
import { excursionLaw, type ExcursionLaw } from '../stats/gaussian-tail.js';
import {
  formatValue as fmt,
  MAD_TO_SIGMA,
  quiet,
  windowsIn,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { IdenticalRuns, type IdenticalRunsState } from '../stats/identical-runs.js';
import { Regimes, type RegimesState } from '../stats/regimes.js';
import {
  chanceOfIdenticalWindow,
  looksLikeOneLevel,
  QuantumEstimate,
  type QuantumState,
} from '../stats/window-shape.js';
import { RecentValues, type RecentValuesState } from '../stats/recent-values.js';
import { Slab } from '../stats/slab.js';
import { SortedWindow } from '../stats/sorted-window.js';

export const WindowRulesConfig = z.object({
  /**
   * How far back the windows that define the usual excursion, step and spread reach (25 h, so
   * yesterday's same hour is in; in windows of the series' own length, 8 to 1,500 of them): the
   * envelope's extremes over this long (to the hour), the rest from a sketch whose weights fade with
   * the same effective sample size (stats/recent-values.ts).
   */
  historyMs: z.number().int().positive().default(90_000_000),
  /** History a series must have before a rule may fire (an hour; at least 4 windows). */
  warmupMs: z.number().int().min(0).default(3_600_000),
  /**
   * How far beyond the upper envelope (the 99th percentile) of its own recent values an excursion
   * (max − mean, mean − min) or a step of the mean must lie to be a fault, in robust standard
   * deviations of those values. Judging against the envelope, not the median, lets patterns that
   * recur (a morning ramp) stay normal.
   */
  zThreshold: z.number().positive().default(8),
  /** The same for a single reading's excursion (max − mean, mean − min), whose natural spread is tighter. */
  excursionZ: z.number().positive().default(8),
  /**
   * For a series whose excursions have been as narrow as Gaussian noise gives: the rate, per window
   * and side, at which such noise would pass the alarm. 0 judges every series by its envelope alone.
   */
  lightTailAlarmRate: z.number().min(0).max(0.01).default(1e-6),
  /** A window's standard deviation this many times the usual one at its level is a noise burst. */
  burstRatio: z.number().min(1).default(3.5),
  /**
   * Consecutive windows of identical readings (min = max) that make a stuck sensor, for a series
   * whose windows are never all identical otherwise. One whose readings are coarsely quantised (a
   * DS18B20's 0.0625 °C steps) has such runs in its normal life: it needs a run rarer than one in a
   * million windows at its rate of them, and more than twice its longest recent one (identical-runs.ts).
   */
  stuckWindows: z.number().int().min(1).default(1),
  /** Readings a window needs for "all identical" to mean stuck. */
  stuckMinReadings: z.number().int().min(2).default(4),
  /** Missing windows (in the series' own cadence) that make a dropout, judged by `tick`. */
  gapCadences: z.number().min(1).default(2),
  /** Surprise a rule reports exactly at its threshold (the ensemble's alarm level). */
  alarmSurprise: z.number().positive().default(4),
});
export type WindowRulesConfig = z.output<typeof WindowRulesConfig>;

interface State {
  regimes: RegimesState;
  previousLevel: number | null;
  /** Older snapshots hold the exact histories (number[]), replayed into the sketches. */
  rise: RecentValuesState | number[];
  drop: RecentValuesState | number[];
  step: RecentValuesState | number[];
  spread: RecentValuesState | number[];
  intervals: number[];
  prevWindow: { mean: number; sd: number; sigma: number | undefined } | null;
  lastTs: number | null;
  /** Of older snapshots (the run alone); newer ones keep `identical`. */
  flatRun?: number;
  identical?: IdenticalRunsState;
  /** A quantised sensor's step, as learnt so far (absent in older snapshots). */
  quantum?: QuantumState;
  n: number;
}

/**
 * Plain rules for window aggregates of a noisy sensor (points with count > 1), the faults a
 * calibrated detector can learn to shrug off when they recur: a single-reading spike or dip (the
 * window's max or min far outside its usual excursion from the mean), a sudden step of the mean,
 * a noise burst (the spread many times its usual), a stuck sensor (identical readings over whole
 * windows, from a series that used to vary) and, through `tick`, a dropout (whole windows missing
 * against the series' own cadence). Each rule is relative to the series' own recent behaviour, so
 * no sensor needs tuning. The series' known levels (Regimes) keep a machine's on/off cycle from
 * looking like steps and bursts: a window whose readings all lie at known levels, or a step that
 * lands on another known level, is the series' normal life. Raw rows (count 1, as in NAB files)
 * get no verdict from these rules.
 */
class WindowRules implements Detector {
  private readonly rise: RecentValues;
  private readonly drop: RecentValues;
  private readonly step: RecentValues;
  private readonly spread: RecentValues;
  private readonly intervals: SortedWindow;
  private readonly regimes: Regimes;
  /** Id of the known level the previous one-level window was at, or null. */
  private previousLevel: number | null;
  /**
   * The previous window (its mean and spread, and the noise it was measured against: PREV_* slots)
   * and the last point's time (LAST_TS), float64s in a region of the slab (NaN for none): a new
   * object every window, and a number in a field a 16-byte heap object of its own.
   */
  private readonly scalars: number;
  private readonly slab: Slab;
  /** Time since the previous point (not state: set by each update before it is read). */
  private lastInterval: number | undefined;
  /** Runs of windows of identical readings: a stuck sensor, or a coarsely quantised one's normal life. */
  private readonly identical: IdenticalRuns;
  /** A coarsely quantised sensor's step (0 while unknown). */
  private readonly quantum: QuantumEstimate;
  private n: number;
  /** The horizons in windows of this series' length. */
  private readonly history: number;
  private readonly warmup: number;

  constructor(
    private readonly config: WindowRulesConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    const h = (this.history = windowsIn(config.historyMs, context?.windowMs ?? 0, 8, MAX_HISTORY));
    this.warmup = windowsIn(config.warmupMs, context?.windowMs ?? 0, 4);
    // Sketches of a day's history (a few hundred bytes each, where the exact one took 12 kB): a fleet
    // has many thousands of series. Excursions and steps are in units of the noise (told from zero
    // down to 1/16 of it); spreads are in the series' own units.
    // All their arrays in one slab (stats/slab.ts): one buffer, not one for each.
    const slab = (this.slab = context?.slab ?? new Slab());
    this.rise = recentValues(h, NORMALISED_FLOOR_LOG2, s?.rise, slab);
    this.drop = recentValues(h, NORMALISED_FLOOR_LOG2, s?.drop, slab);
    this.step = recentValues(h, NORMALISED_FLOOR_LOG2, s?.step, slab);
    this.spread = recentValues(h, RAW_FLOOR_LOG2, s?.spread, slab);
    this.intervals = new SortedWindow(16, s?.intervals, 64, slab);
    this.regimes = new Regimes(4, s?.regimes, slab);
    this.previousLevel = s?.previousLevel ?? null;
    this.scalars = slab.alloc(SCALARS * 8);
    const f = slab.f64;
    const o = slab.at(this.scalars) >> 3;
    const prev = s?.prevWindow ?? null;
    f[o + PREV_MEAN] = prev === null ? Number.NaN : prev.mean;
    f[o + PREV_SD] = prev === null ? Number.NaN : prev.sd;
    f[o + PREV_SIGMA] = prev?.sigma ?? Number.NaN;
    f[o + LAST_TS] = s?.lastTs ?? Number.NaN;
    this.identical = new IdenticalRuns(s?.identical ?? { run: s?.flatRun ?? 0 }, slab);
    this.quantum = new QuantumEstimate(s?.quantum);
    this.n = s?.n ?? 0;
  }

  update(p: SeriesPoint): Verdict {
    const lastTs = this.scalar(LAST_TS);
    this.lastInterval = !Number.isNaN(lastTs) && p.ts > lastTs ? p.ts - lastTs : undefined;
    if (this.lastInterval !== undefined) this.intervals.push(this.lastInterval);
    this.setScalar(LAST_TS, p.ts);
    if (p.count <= 1 || !Number.isFinite(p.value)) return quiet(p.value);
    const floor = 1e-6 * Math.max(1, Math.abs(p.value));
    const flat = p.max === p.min;
    this.identical.see(flat && p.count >= this.config.stuckMinReadings, Math.min(this.n + 1, this.history), () =>
      this.stuckAfter(p.count),
    );
    this.quantum.see(p);
    const level = this.regimes.knownLevelOf(p.value, floor);
    // A window whose readings lie at two known levels (a machine starting or stopping mid-window),
    // or arriving at a known level from elsewhere, is a switch between levels, not a step.
    // Readings all at known levels: an ordinary window, or one straddling a switch the series
    // has made before (a machine starting mid-window); a first switch is news once.
    const low = this.regimes.knownLevelOf(p.min, floor);
    const high = this.regimes.knownLevelOf(p.max, floor);
    const regimes = this.regimes;
    const twoLevels = low >= 0 && high >= 0 && low !== high && distinct(regimes, low, high);
    const straddles = twoLevels && regimes.knownSwitch(low, high);
    const explained = low >= 0 && high >= 0 && (low === high || straddles);
    const before = this.previousLevel === null ? -1 : regimes.slotOf(this.previousLevel);
    const jumped = level >= 0 && before >= 0 && before !== level && distinct(regimes, level, before);
    const switched = straddles || (jumped && regimes.knownSwitch(before, level));
    // A step across missing windows spans their trend too: only consecutive windows are compared.
    const consecutive =
      this.lastInterval !== undefined &&
      this.intervals.length > 0 &&
      this.lastInterval <= 1.5 * this.intervals.median();
    // The noise to measure against: the known level's, else the median spread of the series' recent
    // ordinary windows (a spike in this window cannot inflate either; one window's spread, from a
    // few readings, would be too noisy a yardstick).
    const prevMean = this.scalar(PREV_MEAN);
    const levelSigma = level >= 0 ? regimes.sigma(level) : undefined;
    const sigma = levelSigma ?? (this.spread.length > 0 ? this.spread.median() : p.stddev > 0 ? p.stddev : undefined);
    const sqrtN = Math.sqrt(p.count);
    // The most surprising rule past its threshold (ratio ≥ 1), its value and its words (written only
    // for a rule that is the best so far: no closure or object per window).
    let bestRatio = 0;
    let bestValue = 0;
    let bestReason: string | undefined;
    // A trend inside the window (a ramp from `first` to `last`) widens it without being noise: a
    // linear ramp of total D adds to the readings' variance (noiseBesideRamp: D²/12 for many
    // readings, 1.9 times that for 5, which read a room filling with CO2 as a noise burst) and D/2
    // to each excursion. Two readings differ by up to 3√2 σ through noise alone, which is no trend
    // (and crediting it would hide that much of every spike and dip). The ramp takes one side's
    // extreme as far beyond the mean as the other end lies this side of it: a dip that is the last
    // reading, the first at the mean, is a dip, not the end of a ramp.
    const endToEnd = p.first !== undefined && p.last !== undefined ? Math.abs(p.last - p.first) : 0;
    const ramp = sigma !== undefined && endToEnd <= RAMP_NOISE * sigma ? 0 : endToEnd;
    const noise = ramp === 0 ? p.stddev : noiseBesideRamp(p.stddev, ramp, p.count);
    const above = ramp === 0 ? 0 : Math.min(ramp / 2, Math.max(0, Math.max(p.first!, p.last!) - p.value));
    const below = ramp === 0 ? 0 : Math.min(ramp / 2, Math.max(0, p.value - Math.min(p.first!, p.last!)));
    // Features in units of the level's noise: a machine running and at rest share one history.
    const rise = sigma ? (p.max - p.value - below) / sigma : undefined;
    const drop = sigma ? (p.value - p.min - above) / sigma : undefined;
    const scatter = sigma ? noise / sigma : undefined;
    const prevSigma = this.scalar(PREV_SIGMA);
    // Steps from the last ordinary window: a spike's or a switch's window has a displaced mean.
    const step = !Number.isNaN(prevMean) && prevSigma ? ((p.value - prevMean) / prevSigma) * sqrtN : undefined;
    if (this.n >= this.warmup) {
      if (!straddles && rise !== undefined && drop !== undefined && scatter !== undefined) {
        const zRise = beyondEnvelope(this.rise, rise) / this.config.excursionZ;
        if (zRise >= 1 && zRise > bestRatio) {
          bestRatio = zRise;
          bestValue = p.max;
          bestReason = `max ${fmt(p.max)} lies ${fmt(p.max - p.value)} above the window mean ${fmt(p.value)}, far beyond the usual excursion`;
        }
        const zDrop = beyondEnvelope(this.drop, drop) / this.config.excursionZ;
        if (zDrop >= 1 && zDrop > bestRatio) {
          bestRatio = zDrop;
          bestValue = p.min;
          bestReason = `min ${fmt(p.min)} lies ${fmt(p.value - p.min)} below the window mean ${fmt(p.value)}, far beyond the usual excursion`;
        }
        const rate = this.config.lightTailAlarmRate;
        if (rate > 0 && this.drop.length >= LIGHT_TAIL_HISTORY) {
          const law = excursionLaw(p.count, rate);
          const riseRatio = lightTailed(this.rise, law) ? rise / law.alarm : 0;
          if (riseRatio >= 1 && riseRatio > bestRatio) {
            bestRatio = riseRatio;
            bestValue = p.max;
            bestReason = `max ${fmt(p.max)} lies ${fmt(p.max - p.value)} above the window mean ${fmt(p.value)}, ${rise.toFixed(1)}σ of this level's noise`;
          }
          const dropRatio = lightTailed(this.drop, law) ? drop / law.alarm : 0;
          if (dropRatio >= 1 && dropRatio > bestRatio) {
            bestRatio = dropRatio;
            bestValue = p.min;
            bestReason = `min ${fmt(p.min)} lies ${fmt(p.value - p.min)} below the window mean ${fmt(p.value)}, ${drop.toFixed(1)}σ of this level's noise`;
          }
        }
        const burst = scatter / this.config.burstRatio;
        if (burst >= 1 && burst > bestRatio) {
          bestRatio = burst;
          bestValue = p.value;
          bestReason = `readings scatter ${scatter.toFixed(1)}× as much as usual at this level (σ ${fmt(noise)})`;
        }
      }
      if (step !== undefined && !switched && consecutive) {
        // Against the largest step either way: a room empties in steps as large as those it filled
        // in (its first evening after a weekend, judged against steps down, alarmed on each room).
        const zStep = beyondEnvelope(this.step, Math.abs(step), true) / this.config.zThreshold;
        if (zStep >= 1 && zStep > bestRatio) {
          bestRatio = zStep;
          bestValue = p.value;
          bestReason = `mean ${step > 0 ? 'jumped up' : 'dropped'} by ${fmt(Math.abs(p.value - prevMean))} to ${fmt(p.value)}, far beyond the usual step`;
        }
      }
      const run = this.identical.run;
      const stuckAfter = run > 0 ? this.stuckAfter(p.count) : Infinity;
      if (run >= stuckAfter && this.spread.length > 0 && this.spread.median() > 0) {
        const longest = this.identical.longest();
        const usual = longest !== undefined ? ` (its longest such run of late: ${longest})` : '';
        const stuck = 1 + (run - stuckAfter) / stuckAfter;
        if (stuck >= 1 && stuck > bestRatio) {
          bestRatio = stuck;
          bestValue = p.value;
          bestReason = `stuck at ${fmt(p.value)}: ${p.count} identical readings, ${run} window(s) in a row${usual}`;
        }
      }
    }
    // Levels are learnt from windows whose readings look like one level (an alarm included: a
    // machine's first start is new once, not forever); the usual excursions, spreads and steps
    // only from ordinary windows, so one fault does not teach the series that faults are usual.
    const oneLevel = !flat && !straddles && looksLikeOneLevel(p, this.quantum.step);
    const ordinary = bestReason === undefined && oneLevel && sigma !== undefined;
    if (jumped) regimes.learnSwitch(before, level);
    if (oneLevel) {
      const levelId = level >= 0 ? regimes.id(level) : -1;
      const joined = regimes.learn(p.value, p.stddev, this.n, floor);
      this.previousLevel = joined;
      // The level's noise as learning left it (it may have been the level joined).
      const noise = level < 0 ? p.stddev : joined === levelId ? regimes.sigma(regimes.slotOf(joined)) : levelSigma!;
      this.setScalar(PREV_MEAN, p.value);
      this.setScalar(PREV_SD, p.stddev);
      this.setScalar(PREV_SIGMA, noise);
    } else if (!explained && !twoLevels) {
      // A window between two known levels keeps where the series came from, so the next one can
      // learn the switch; anything else breaks the thread.
      this.previousLevel = null;
    }
    if (ordinary) {
      this.rise.push(rise!);
      this.drop.push(drop!);
      this.spread.push(p.stddev);
      if (step !== undefined && !switched && consecutive) this.step.push(step);
    }
    this.n++;
    // A switch between levels the series has switched between before (a machine starting or
    // stopping) is its normal life: say so, so that level and pattern detectors' surprise is explained.
    if (bestReason === undefined)
      return switched && this.n > this.warmup
        ? { ...quiet(p.value, 'a known switch between levels'), known: true }
        : quiet(p.value);
    return this.verdict(bestRatio, bestValue, bestReason);
  }

  /** Whole windows missing at `now` (the earliest time the next window could still arrive). */
  tick(now: number): Verdict {
    const lastTs = this.scalar(LAST_TS);
    if (Number.isNaN(lastTs) || this.intervals.length < 4 || this.n < this.warmup) return quiet(Number.NaN);
    const cadence = this.intervals.median();
    // Only a regular series can be judged by its cadence: a sporadic one has no "overdue".
    if (!(cadence > 0) || this.intervals.quantile(0.9) > 1.5 * cadence) return quiet(Number.NaN);
    const gap = now - lastTs;
    const ratio = gap / cadence / this.config.gapCadences;
    if (ratio < 1) return quiet(Number.NaN);
    return this.verdict(
      ratio,
      Number.NaN,
      `no data for ${Math.round(gap / 60_000)} min (a window usually every ${Math.round(cadence / 60_000)} min)`,
    );
  }

  snapshot(): State {
    return {
      regimes: this.regimes.snapshot(),
      previousLevel: this.previousLevel,
      rise: this.rise.snapshot(),
      drop: this.drop.snapshot(),
      step: this.step.snapshot(),
      spread: this.spread.snapshot(),
      intervals: this.intervals.toArray(),
      prevWindow: Number.isNaN(this.scalar(PREV_MEAN))
        ? null
        : {
            mean: this.scalar(PREV_MEAN),
            sd: this.scalar(PREV_SD),
            sigma: Number.isNaN(this.scalar(PREV_SIGMA)) ? undefined : this.scalar(PREV_SIGMA),
          },
      lastTs: Number.isNaN(this.scalar(LAST_TS)) ? null : this.scalar(LAST_TS),
      identical: this.identical.snapshot(),
      quantum: this.quantum.snapshot(),
      n: this.n,
    };
  }

  /** Identical windows in a row that make a stuck sensor, given what the sensor's step and noise make of a window of `count` readings. */
  private stuckAfter(count: number): number {
    const sigma = this.spread.length > 0 ? this.spread.median() : 0;
    return this.identical.stuckAfter(
      this.config.stuckWindows,
      chanceOfIdenticalWindow(count, sigma, this.quantum.step),
    );
  }

  private scalar(slot: number): number {
    return this.slab.f64[(this.slab.at(this.scalars) >> 3) + slot]!;
  }

  private setScalar(slot: number, x: number): void {
    this.slab.f64[(this.slab.at(this.scalars) >> 3) + slot] = x;
  }

  private verdict(ratio: number, value: number, reason: string): Verdict {
    const surprise = this.config.alarmSurprise * ratio;
    return { score: surprise / (surprise + this.config.alarmSurprise), surprise, value, reason };
  }
}

/**
 * Two levels a series switches between (a machine at rest and running), as opposed to the
 * neighbouring bands a slowly trending series passes through: their bands do not overlap.
 */
function distinct(regimes: Regimes, a: number, b: number): boolean {
  return Math.abs(regimes.center(a) - regimes.center(b)) > BAND * (regimes.sigma(a) + regimes.sigma(b));
}

const BAND = 6;

/** WindowRules' float64s in its region of the slab. */
const PREV_MEAN = 0;
const PREV_SD = 1;
const PREV_SIGMA = 2;
const LAST_TS = 3;
const SCALARS = 4;

/**
 * The sample variance (n − 1 in the denominator, as a window's stddev) of n readings evenly spaced
 * on a line that rises by `ramp` from the first to the last: ramp² · n(n + 1) / (12 (n − 1)²).
 */
export function rampVariance(ramp: number, n: number): number {
  return n < 2 ? 0 : (ramp * ramp * n * (n + 1)) / (12 * (n - 1) * (n - 1));
}

/**
 * The readings' own spread in a window whose first and last readings differ by `endToEnd`, read
 * as a line plus noise σ: the sample variance is c·D² + σ² (c = rampVariance(1, n)), and the ends
 * carry the noise too, so endToEnd² is D² + 2σ² on average. Solved for σ (a burst whose first and
 * last readings happen to lie at opposite extremes keeps most of its spread).
 */
export function noiseBesideRamp(stddev: number, endToEnd: number, n: number): number {
  // Two readings are their own ends: they cannot tell a line from noise.
  if (n <= 2) return stddev;
  const c = rampVariance(1, n);
  return Math.sqrt(Math.max(0, (stddev * stddev - c * endToEnd * endToEnd) / (1 - 2 * c)));
}

/** Windows of history at most (25 h of 60-second windows; a bound on a series' state). */
const MAX_HISTORY = 1_500;

/** log2 of the smallest excursion or step (in units of the noise) told from zero, and of the smallest spread. */
const NORMALISED_FLOOR_LOG2 = -4;
const RAW_FLOOR_LOG2 = -40;

/** A history's sketch from a snapshot: its own state, or an older snapshot's exact values replayed. */
function recentValues(
  capacity: number,
  floorLog2: number,
  saved: RecentValuesState | number[] | undefined,
  slab: Slab,
): RecentValues {
  if (!Array.isArray(saved)) return new RecentValues(capacity, floorLog2, saved, slab);
  const r = new RecentValues(capacity, floorLog2, undefined, slab);
  for (const x of saved.slice(-capacity)) r.push(x);
  return r;
}

/** The difference of two readings that noise alone gives (3 σ of a difference of two). */
const RAMP_NOISE = 3 * Math.SQRT2;

/** Ordinary windows seen before a series' tails are judged. */
const LIGHT_TAIL_HISTORY = 100;

/**
 * Whether the held excursions are no wider than Gaussian noise gives (their 90th and 99th
 * percentiles no further out than the law's, give or take what 100-300 windows tell), so that the
 * law may judge how rare the next one is. Heavier tails (a sensor whose noise has bursts, a level
 * that wanders within windows) fail, and are judged by their own envelope only.
 */
function lightTailed(h: RecentValues, law: ExcursionLaw): boolean {
  return h.quantile(0.9) <= law.p90 + 0.25 && h.quantile(0.99) <= law.p99 + 0.35;
}

/**
 * How far x lies beyond the upper envelope (99th percentile) of the held values, in robust
 * standard deviations of them (never dividing by a zero spread); 0 inside the envelope. With
 * `eitherWay`, beyond the largest of them either way (x a size: steps up and down alike).
 */
function beyondEnvelope(h: RecentValues, x: number, eitherWay = false): number {
  if (h.length === 0) return 0;
  const median = h.median();
  const spread = Math.max(
    MAD_TO_SIGMA * h.mad(median),
    (h.quantile(0.9) - h.quantile(0.1)) / 2.5631,
    1e-9 * Math.max(1, Math.abs(median)),
  );
  const edge = eitherWay ? Math.max(h.quantile(1), -h.quantile(0)) : h.quantile(1);
  return Math.max(0, (x - edge) / spread);
}

export const createWindowRules: DetectorFactory<WindowRulesConfig> = (config, snapshot, context) =>
  new WindowRules(config, snapshot, context);
