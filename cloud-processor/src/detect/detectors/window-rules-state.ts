import { windowsIn, verdict, type DetectorContext, type Verdict } from '../detector.js';
import { IdenticalRuns, type IdenticalRunsState } from '../stats/identical-runs.js';
import { RecentValues, type RecentValuesState } from '../stats/recent-values.js';
import { Regimes, type RegimesState } from '../stats/regimes.js';
import { Slab } from '../stats/slab.js';
import { SortedWindow } from '../stats/sorted-window.js';
import { chanceOfIdenticalWindow, QuantumEstimate, type QuantumState } from '../stats/window-shape.js';
import type { WindowRulesConfig } from './window-rules-config.js';
import { ReadingScatter, type ReadingScatterState } from './window-rules-scatter.js';

export interface WindowRulesSnapshot {
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
  /** The previous window's last reading (absent in older snapshots). */
  prevLast?: number | null;
  /** Of older snapshots (the run alone); newer ones keep `identical`. */
  flatRun?: number;
  identical?: IdenticalRunsState;
  /** A quantised sensor's step, as learnt so far (absent in older snapshots). */
  quantum?: QuantumState;
  /** Steps between readings of a series of few readings a window (absent in older snapshots, and until its first such window). */
  scatter?: ReadingScatterState;
  n: number;
}

/**
 * What the window rules (window-rules.ts) keep of a series, its snapshot and restore: the usual
 * excursions, steps and spreads, the cadence, the known levels, the previous window. WindowRules
 * extends it with the rules themselves (no object of its own).
 */
export class WindowRulesState {
  protected readonly rise: RecentValues;
  protected readonly drop: RecentValues;
  protected readonly step: RecentValues;
  protected readonly spread: RecentValues;
  protected readonly intervals: SortedWindow;
  protected readonly regimes: Regimes;
  /** Id of the known level the previous one-level window was at, or null. */
  protected previousLevel: number | null;
  /**
   * The previous window (its mean and spread, and the noise it was measured against: PREV_* slots)
   * and the last point's time (LAST_TS), float64s in a region of the slab (NaN for none): a new
   * object every window, and a number in a field a 16-byte heap object of its own.
   */
  protected readonly scalars: number;
  protected readonly slab: Slab;
  /** Runs of windows of identical readings: a stuck sensor, or a coarsely quantised one's normal life. */
  protected readonly identical: IdenticalRuns;
  /** A coarsely quantised sensor's step (0 while unknown). */
  protected readonly quantum: QuantumEstimate;
  /**
   * A series of few readings a window: the scatter of its steps from reading to reading; made at
   * its first window of few readings (most series never have one: its object, ring and scalars
   * were 0.2 kB a series for nothing), which finds it as fresh as one made at the start.
   */
  private scatter: ReadingScatter | undefined;
  /** Windows the scatter's span holds. */
  private readonly scatterSpan: number;
  protected n: number;
  /** The horizons in windows of this series' length. */
  protected readonly history: number;
  protected readonly warmup: number;

  constructor(
    protected readonly config: WindowRulesConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as WindowRulesSnapshot | undefined;
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
    f[o + PREV_LAST] = s?.prevLast ?? Number.NaN;
    this.identical = new IdenticalRuns(s?.identical ?? { run: s?.flatRun ?? 0 }, slab);
    this.quantum = new QuantumEstimate(s?.quantum);
    this.scatterSpan = windowsIn(config.burstSpanMs, context?.windowMs ?? 0, 4);
    // Of a snapshot that holds one (older ones held a fresh one in every series).
    if (s?.scatter !== undefined) this.scatter = this.newScatter(s.scatter);
    this.n = s?.n ?? 0;
  }

  snapshot(): WindowRulesSnapshot {
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
      prevLast: Number.isNaN(this.scalar(PREV_LAST)) ? null : this.scalar(PREV_LAST),
      identical: this.identical.snapshot(),
      quantum: this.quantum.snapshot(),
      ...(this.scatter === undefined ? {} : { scatter: this.scatter.snapshot() }),
      n: this.n,
    };
  }

  /** Identical windows in a row that make a stuck sensor, given what the sensor's step and noise make of a window of `count` readings. */
  protected stuckAfter(count: number): number {
    const sigma = this.spread.length > 0 ? this.spread.median() : 0;
    const { stuckMinReadings, stuckWindows } = this.config;
    if (count >= stuckMinReadings)
      return this.identical.stuckAfter(stuckWindows, chanceOfIdenticalWindow(count, sigma, this.quantum.step));
    // Windows of few readings that repeat the previous one's last: as many as make stuckMinReadings
    // identical readings with it, each as likely as its readings and that one all alike.
    return this.identical.stuckAfterRepeats(
      Math.max(stuckWindows, Math.ceil((stuckMinReadings - 1) / count)),
      chanceOfIdenticalWindow(count + 1, sigma, this.quantum.step),
    );
  }

  /** The scatter of a series of few readings a window, made at its first such window. */
  protected scattered(): ReadingScatter {
    return (this.scatter ??= this.newScatter(undefined));
  }

  private newScatter(saved: ReadingScatterState | undefined): ReadingScatter {
    const { config } = this;
    return new ReadingScatter(
      this.scatterSpan,
      config.stuckMinReadings - 1,
      this.history,
      this.warmup,
      saved,
      this.slab,
    );
  }

  protected scalar(slot: number): number {
    return this.slab.f64[(this.slab.at(this.scalars) >> 3) + slot]!;
  }

  protected setScalar(slot: number, x: number): void {
    this.slab.f64[(this.slab.at(this.scalars) >> 3) + slot] = x;
  }

  protected verdict(ratio: number, value: number, reason: string): Verdict {
    // Finite however sure a rule is (an infinite surprise scores NaN, and a snapshot writes it null).
    const surprise = this.config.alarmSurprise * Math.min(ratio, MAX_RATIO);
    return verdict(surprise / (surprise + this.config.alarmSurprise), value, reason, surprise);
  }
}

/** WindowRules' float64s in its region of the slab. */
export const PREV_MEAN = 0;
export const PREV_SD = 1;
export const PREV_SIGMA = 2;
export const LAST_TS = 3;
/** The previous window's last reading (a stuck sensor repeats it). */
export const PREV_LAST = 4;
const SCALARS = 5;

/** The most a rule's ratio to its threshold counts (a billion times past it: as sure as any). */
const MAX_RATIO = 1e9;

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
